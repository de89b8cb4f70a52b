import type { VirtualNetwork } from './network.ts';

/** The two lines `npm start` runs when no modem is configured. */
export const DEFAULT_VIRTUAL_LINES = [
  { lineId: 'virtual-1', number: '+15550100001', dialect: 'quectel' },
  { lineId: 'virtual-2', number: '+15550100002', dialect: 'simcom' },
] as const;

export function createDefaultVirtualLines(network: VirtualNetwork): void {
  for (const line of DEFAULT_VIRTUAL_LINES) network.addLine({ ...line });
}
