import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/index.ts';
import { createCore, type Core } from '../../src/core.ts';
import { OutboundDispatcher, ReceiveService } from '../../src/messaging/index.ts';
import { createModemPool, createVirtualNetwork, type ModemPool, type VirtualNetwork } from '../../src/modem/index.ts';
import { Reassembler, SqlPartStore } from '../../src/sms/index.ts';
import { DATABASE_FILE } from '../../src/store/index.ts';
import { until } from '../helpers/wait.ts';

export const LINE = 'line-1';
export const OUR_NUMBER = '+15550000001';
export const RECIPIENTS = ['+15551110000', '+15551110001', '+15551110002'];

export interface Rig {
  core: Core;
  network: VirtualNetwork;
  pool: ModemPool;
  outbound: OutboundDispatcher;
  numberId: string;
  /** The SQLite file, for a second connection that sees only what was committed. */
  dbFile: string;
  warnings: string[];
  send(to: string, body: string): Promise<string>;
  stop(): Promise<void>;
}

/** The gateway's messaging path (real SQLite, virtual modem on a PTY) with a network the test tunes. */
export async function rig(dataDir: string): Promise<Rig> {
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push(String((JSON.parse(String(chunk)) as { msg: string }).msg));
        done();
      },
    }),
  );
  const core = await createCore(validateConfig({ dataDir, adminToken: 'test-admin-token-0123456789', log: { level: 'silent' } }), logger);
  const fast = { minMs: 0, maxMs: 1 };
  const network = createVirtualNetwork({ submitLatency: fast, deliverLatency: fast, reportLatency: fast });
  network.addLine({ lineId: LINE, number: OUR_NUMBER, dialect: 'quectel' });
  const pool = createModemPool({ lines: [], autodetect: false, messagesPerMinute: 600_000 }, { logger, network });
  const outbound = new OutboundDispatcher({
    store: core.store,
    messages: core.messages,
    transport: {
      sendPdu: async (lineId, pdu, hooks) => ({ messageRef: (await pool.send(lineId, pdu, hooks)).mr }),
      readyLines: () => pool.lines().filter((l) => l.state === 'ready').map((l) => l.id),
    },
    tracker: core.tracker,
    webhooks: core.webhooks,
    clock: core.clock,
    logger,
    metrics: core.metrics,
  });
  core.outboundNotifier.target = outbound;
  const receive = new ReceiveService({
    messages: core.messages,
    numbers: core.numbersRepo,
    ledger: core.ledger,
    reassembler: new Reassembler({ store: new SqlPartStore(core.store), clock: core.clock, timeoutMs: 60_000 }),
    clock: core.clock,
    logger,
    webhooks: core.webhooks,
    onStatusReport: (lineId, report) => outbound.onStatusReport(lineId, report),
  });
  pool.on('pdu', (pdu) => void receive.receive(pdu).catch(() => undefined));
  const numberId = (await core.numbers.lineFound(LINE, OUR_NUMBER)).id;
  await pool.start();
  await until(() => pool.line(LINE).state === 'ready', 15_000, 'line ready');
  await outbound.start();
  const principal = (await core.apiKeys.authenticate((await core.apiKeys.create({ name: 'test' })).key))!;
  return {
    core,
    network,
    pool,
    outbound,
    numberId,
    dbFile: join(dataDir, DATABASE_FILE),
    warnings,
    send: async (to, body) => (await core.send.send(principal, numberId, { to, body })).response.messageId,
    stop: async () => {
      await outbound.stop(100);
      await pool.stop();
      network.close();
      await core.close();
    },
  };
}
