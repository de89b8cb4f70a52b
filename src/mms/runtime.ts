/** Builds the MMS side of a gateway from the configuration: transports per line, media store, service, virtual MMSC. */
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { LineAtPort, VirtualNetwork } from '../modem/index.ts';
import type { Egress } from '../net/index.ts';
import { mediaDir } from '../store/index.ts';
import { AtMmsTransport } from './at-mms-transport.ts';
import { MediaFetcher } from './media/media-fetcher.ts';
import { createMediaStore, mediaStoreKind } from './media/create-media-store.ts';
import type { MediaStore } from './media/media-store.ts';
import { MmsService, type MmsServiceDeps } from './mms-service.ts';
import type { MmsTransport } from './mms-transport.ts';
import { HttpMmscClient } from './mmsc-client.ts';
import { VirtualMmsc } from './virtual/virtual-mmsc.ts';

/** What the gateway hands over; the store and the shared services go to the MMS service as they are. */
export interface MmsRuntimeDeps
  extends Pick<MmsServiceDeps, 'store' | 'messages' | 'numbers' | 'ledger' | 'tracker' | 'webhooks' | 'clock' | 'logger' | 'readyLines'> {
  config: Readonly<Config>;
  network: VirtualNetwork | undefined;
  /** A line's AT port, for lines whose modem sends MMS itself (mms.transport "at"). */
  atPort(lineId: string): LineAtPort;
  /** The gateway's own address, for media URLs when server.publicUrl is not set. */
  selfUrl(): string;
  /** The egress policy: MMSC exchanges and media fetches connect only where it allows. */
  egress: Egress;
}

export interface MmsRuntime {
  service: MmsService;
  media: MediaStore;
  mmsc: VirtualMmsc | undefined;
  /** `lines`: this node's lines on a cluster (see MmsService.start). */
  start(lines?: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

const CLEANUP_INTERVAL_MS = 3_600_000;

export async function createMmsRuntime(d: MmsRuntimeDeps): Promise<MmsRuntime> {
  const { config } = d;
  const log = d.logger.child({ mod: 'mms' });
  const media = createMediaStore(mediaStoreKind(config), {
    dir: mediaDir(config.dataDir),
    store: d.store,
    clock: d.clock,
    retentionDays: config.media.retentionDays,
    baseUrl: () => config.media.publicUrl ?? config.server.publicUrl ?? d.selfUrl(),
  });
  if (media.kind === 'files' && config.store.postgres.url !== null) log.warn('media.store is files on PostgreSQL: /media/<id> answers only on the node that stored the medium (docs/cluster.md)');
  const transports = new Map<string, MmsTransport>();
  const limits = new Map<string, number>();
  let mmsc: VirtualMmsc | undefined;
  if (d.network && config.virtual.mms.enabled) {
    mmsc = new VirtualMmsc({ network: d.network, maxMessageBytes: config.virtual.mms.maxMessageBytes });
    await mmsc.start();
    for (const line of config.virtual.lines) {
      const url = mmsc.urlFor(line.id);
      transports.set(
        line.id,
        line.mmsTransport === 'at'
          ? new AtMmsTransport(d.atPort(line.id), { mmsc: url, timeoutMs: 30_000 })
          : new HttpMmscClient({ mmsc: url, timeoutMs: 10_000, retries: 1, retryDelayMs: 200, gate: d.egress.gate('mmsc') }),
      );
      limits.set(line.id, config.virtual.mms.maxMessageBytes);
    }
  }
  for (const modem of config.modems) {
    const mms = modem.mms;
    if (!mms) continue;
    transports.set(
      modem.id,
      mms.transport === 'at'
        ? new AtMmsTransport(d.atPort(modem.id), { mmsc: mms.mmsc, proxy: mms.proxy, apn: mms.apn, timeoutMs: mms.timeoutMs })
        : new HttpMmscClient({ mmsc: mms.mmsc, proxy: mms.proxy, interface: mms.interface, localAddress: mms.localAddress, timeoutMs: mms.timeoutMs, retries: mms.retries, gate: d.egress.gate('mmsc') }),
    );
    if (mms.transport === 'at') log.info({ line: modem.id }, "MMS over the modem's own client: sending only, inbound MMS cannot be fetched on this line");
    limits.set(modem.id, mms.maxMessageBytes);
  }
  const fetcher = new MediaFetcher({
    dir: join(config.dataDir, 'media-fetch'),
    limits: { maxFileBytes: config.media.maxFileBytes, timeoutMs: config.media.fetchTimeoutMs, maxRedirects: config.media.maxRedirects },
    // media.allowPrivateHosts is part of the egress policy's media list.
    policy: d.egress.gate('media'),
    maxPerMessage: config.media.maxPerMessage,
    maxTotalBytes: config.media.maxTotalBytes,
    perMessage: config.media.fetchesPerMessage,
    perGateway: config.media.fetchesPerGateway,
  });
  await fetcher.prepare();
  const { store, messages, numbers, ledger, tracker, webhooks, clock, logger, readyLines } = d;
  const service = new MmsService({
    store,
    messages,
    numbers,
    ledger,
    tracker,
    webhooks,
    clock,
    logger,
    readyLines,
    media,
    transport: (lineId) => transports.get(lineId),
    maxMessageBytes: (lineId) => limits.get(lineId) ?? 614_400,
    fetcher,
  });
  let cleanup: NodeJS.Timeout | undefined;
  return {
    service,
    media,
    mmsc,
    async start(lines) {
      await service.start(lines);
      const sweep = () => media.cleanup().catch((err: unknown) => log.error({ err }, 'media cleanup failed'));
      void sweep();
      cleanup = setInterval(sweep, CLEANUP_INTERVAL_MS);
      cleanup.unref();
    },
    async stop() {
      clearInterval(cleanup);
      await service.stop();
      await mmsc?.stop();
    },
  };
}
