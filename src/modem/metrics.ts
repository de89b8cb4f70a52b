import { Gauge, type Registry } from 'prom-client';
import type { LineState } from './driver.ts';
import type { ModemPool } from './pool.ts';

const STATES: readonly LineState[] = ['connecting', 'initializing', 'ready', 'degraded', 'disconnected'];

/** Registers per-line gauges (state, signal, queue depth) that read the pool when scraped. */
export function registerModemMetrics(pool: ModemPool, registry: Registry): void {
  new Gauge({
    name: 'agentphone_modem_line_state',
    help: '1 for the state each modem line is in',
    labelNames: ['line', 'state'],
    registers: [registry],
    collect() {
      for (const line of pool.lines()) for (const state of STATES) this.set({ line: line.id, state }, line.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'agentphone_modem_signal_dbm',
    help: 'Received signal strength from AT+CSQ',
    labelNames: ['line'],
    registers: [registry],
    collect() {
      for (const line of pool.lines()) if (line.signal) this.set({ line: line.id }, line.signal.dbm);
    },
  });
  new Gauge({
    name: 'agentphone_modem_queue_depth',
    help: 'PDUs waiting in or being sent by the line send queue',
    labelNames: ['line'],
    registers: [registry],
    collect() {
      for (const line of pool.lines()) this.set({ line: line.id }, line.queueDepth);
    },
  });
}
