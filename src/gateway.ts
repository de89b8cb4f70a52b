import { closeApp, readTlsMaterial, reloadTls, type App } from './api/index.ts';
import type { Config, ModemConfig } from './config/index.ts';
import { buildCoreApp, createCore, type Core, type CoreOptions } from './core.ts';
import type { Logger } from './logging/index.ts';
import { OutboundDispatcher, ReceiveService, type SmsTransport } from './messaging/index.ts';
import { createModemPool, createVirtualNetwork, registerModemMetrics, SqliteSubscriberInbox, type ModemLineConfig, type ModemPool, type VirtualNetwork } from './modem/index.ts';
import { Reassembler, SqlPartStore } from './sms/index.ts';
import { adminModemsRoutes } from './api/admin/modems.ts';
import { callsRoutes } from './api/routes/calls.ts';
import { createVoiceInference, startVoice, voiceHealth, type Voice, type VoiceOptions } from './voice/index.ts';
import { speechServicesFor } from './speech-services.ts';
import { adminClusterRoutes } from './api/admin/cluster.ts';
import { adminDashboardLiveRoutes } from './api/admin/dashboard-live.ts';
import { adminMmsSimRoutes } from './api/admin/mms-sim.ts';
import { adminVoiceStatusRoutes } from './api/admin/voice-status.ts';
import { mediaRoutes } from './api/routes/media.ts';
import { createMmsRuntime, type MmsRuntime } from './mms/index.ts';
import { transcriptionRoutes } from './api/routes/v1/transcriptions.ts';
import { createInference, WhisperService, type Inference } from './inference/index.ts';
import { v1Routes } from './api/routes/v1/index.ts';
import { voiceAiRoutes } from './api/routes/v1/voice-ai.ts';
import { mediaDir, PurgeJob, UsageRepository, WalCheckpointer } from './store/index.ts';
import { monotonicClock } from './clock/index.ts';
import { disableLibraryTelemetry, testExtraConnect } from './config/index.ts';
import { openTestExtraConnection } from './net/index.ts';
import { agentphoneVersion, restrictFileCreationMask } from './lifecycle/index.ts';
import { ChangeRelay, ClusterMembership, ClusterWake, createPgNotifier, LeasesRepository } from './cluster/index.ts';
import { pgConnectionConfig, postgresStoreOptions } from './store/sql/postgres-sql-store.ts';
import { hostname } from 'node:os';
import { mcpRoutes, mediaLookup, MessageEvents, whisperTranscriber, type McpDeps } from './mcp/index.ts';

export interface Gateway {
  core: Core;
  app: App;
  pool: ModemPool;
  /** The inference worker pool and model registry (voice AI API). */
  inference: Inference;
  /** Voice calls (manager absent when voice is not configured). */
  voice: Voice;
  /** Present when the gateway runs virtual lines. */
  network: VirtualNetwork | undefined;
  /** MMS: the service, the media store and (with virtual lines) the virtual MMSC. */
  mms: MmsRuntime;
  outbound: OutboundDispatcher;
  receive: ReceiveService;
  /** Retention: purges messages and call transcripts past retention.* (idle when both are 0). */
  purge: PurgeJob;
  /** This node's membership of the cluster: its heartbeat and line leases (one node on SQLite). */
  membership: ClusterMembership;
  /** The address it listens on, e.g. http://127.0.0.1:3000 */
  url: string;
  /** Re-reads server.tls's certificate and key for new connections (SIGHUP); throws, keeping the old pair, when they are unusable. */
  reloadTls(): void;
  stop(): Promise<void>;
}

const EXPIRE_INTERVAL_MS = 60_000;
/** Idempotency keys answer for 24 h; they are forgotten a day after that. */
const IDEMPOTENCY_KEEP_MS = 48 * 3600 * 1000;

function lineConfig(m: ModemConfig): ModemLineConfig {
  return {
    id: m.id,
    ...(m.port !== undefined && { path: m.port }),
    ...(m.usb !== undefined && { usb: m.usb }),
    profile: m.profile,
    ...(m.pin !== undefined && { pin: m.pin }),
    ...(m.number !== undefined && { number: m.number }),
    messagesPerMinute: m.sendsPerMinute,
    ...(m.deliveryMode !== undefined && { deliveryMode: m.deliveryMode }),
  };
}

export function virtualLinesEnabled(config: Readonly<Config>): boolean {
  return config.virtual.enabled === true || (config.virtual.enabled === 'auto' && config.modems.length === 0);
}

/** The composition root: store, services, modem lines, dispatchers, HTTP. */
export async function startGateway(
  config: Readonly<Config>,
  logger: Logger,
  options: CoreOptions & { voice?: VoiceOptions } = {},
): Promise<Gateway> {
  restrictFileCreationMask();
  // An unreadable certificate or key refuses the start before the store, modems or port are touched;
  // what was read here is what the server starts with.
  const tlsMaterial = config.server.tls === null ? undefined : readTlsMaterial(config.server.tls);
  // Before any inference session exists: ONNX Runtime would otherwise send telemetry.
  disableLibraryTelemetry();
  const core = await createCore(config, logger, options);
  const stack: Array<() => Promise<void> | void> = [() => core.close()];
  const unwind = async () => {
    for (const step of stack.splice(0).reverse()) await step();
  };
  try {
    const checkpointer = WalCheckpointer.start(core.db, logger);
    stack.push(() => checkpointer.stop());
    let network: VirtualNetwork | undefined;
    if (virtualLinesEnabled(config)) {
      const latency = config.virtual.latency;
      // Subscriber phones' inboxes live in the database, so what they received survives a restart.
      network = createVirtualNetwork({ submitLatency: latency, deliverLatency: latency, reportLatency: latency, inbox: new SqliteSubscriberInbox(core.db) });
      const net = network;
      stack.push(() => net.close());
      for (const line of config.virtual.lines) network.addLine({ lineId: line.id, number: line.number, dialect: line.dialect, deliveryMode: line.deliveryMode });
    }
    const pool = createModemPool(
      { lines: config.modems.map(lineConfig), autodetect: false, ...(network && { messagesPerMinute: config.virtual.sendsPerMinute }) },
      { logger, ...(network && { network }) },
    );
    registerModemMetrics(pool, core.metrics);

    // Made once the pool runs (below); until then nothing sends.
    const started: { membership?: ClusterMembership; running?: boolean } = {};
    /** The lines this node holds the lease on, and those it held at the last change. */
    const held = (): string[] => pool.lines().map((l) => l.id).filter((id) => started.membership?.holds(id) === true);
    let wasHeld = new Set<string>();
    const transport: SmsTransport = {
      sendPdu: async (lineId, pdu, hooks) => ({ messageRef: (await pool.send(lineId, pdu, hooks)).mr }),
      // A line sends only while this node holds its lease: a line another node holds is its to drive.
      readyLines: () => pool.lines().filter((l) => l.state === 'ready' && started.membership?.holds(l.id) === true).map((l) => l.id),
    };
    const outbound = new OutboundDispatcher({
      store: core.store,
      messages: core.messages,
      transport,
      tracker: core.tracker,
      webhooks: core.webhooks,
      clock: core.clock,
      logger,
      metrics: core.metrics,
    });
    core.outboundNotifier.target = outbound;
    let selfUrl = '';
    const mms = await createMmsRuntime({
      config,
      store: core.store,
      messages: core.messages,
      numbers: (db) => core.numbersRepo.on(db),
      ledger: { recordInbound: (tx, numberId, segments, now) => core.ledger.on(tx).recordInbound(numberId, segments, now) },
      tracker: core.tracker,
      webhooks: core.webhooks,
      clock: core.clock,
      logger,
      network,
      readyLines: transport.readyLines,
      atPort: (lineId) => pool.atPort(lineId),
      selfUrl: () => selfUrl,
      egress: core.egress,
    });
    stack.push(() => mms.stop());
    core.mms.target = mms.service;
    const receive = new ReceiveService({
      messages: core.messages,
      numbers: core.numbersRepo,
      ledger: core.ledger,
      reassembler: new Reassembler({ store: new SqlPartStore(core.store), clock: core.clock, timeoutMs: config.sms.reassemblyTimeoutMs }),
      clock: core.clock,
      logger,
      webhooks: core.webhooks,
      onStatusReport: (lineId, report) => outbound.onStatusReport(lineId, report),
      onWapPush: (tx, lineId, data) => mms.service.acceptPush(lineId, data, tx),
      onInboundText: (tx, number, contact, body, messageId) => core.optOuts.onInbound(tx, number, contact, body, messageId),
    });

    const host = hostname();
    const nodeId = config.cluster.nodeId ?? host;
    // Voice starts later (below); the cluster hints for calls reach it through here.
    const callHints: { voice?: Voice } = {};
    let clusterWake: ClusterWake | undefined;
    // On PostgreSQL, work accepted by any node wakes the node that drives its line at once, and
    // a number changed on any node is re-read on every other. Joined before this node binds its
    // lines' numbers, so the others hear of those too.
    if (core.store.dialect === 'postgres') {
      const options = postgresStoreOptions(config.store.postgres, nodeId);
      const bus = await createPgNotifier({ connection: pgConnectionConfig(options), logger, applicationName: options.applicationName });
      stack.push(() => bus.close());
      const wake = new ClusterWake(bus, logger.child({ mod: 'cluster' }));
      const unlisten = await wake.listen({
        outbound: (lineId) => outbound.notify(lineId),
        mms: () => mms.service.notify(),
        number: (id) => core.numbersRepo.invalidate(id),
        call: () => callHints.voice?.cluster?.kick(),
        hangup: (callId) => {
          callHints.voice?.cluster?.hangupHere(callId).catch((err: unknown) => logger.warn({ err, call: callId }, 'ending a call another node was asked to end failed'));
        },
        everything: () => {
          outbound.notify();
          mms.service.notify();
          callHints.voice?.cluster?.kick();
          core.numbersRepo.invalidate().catch((err: unknown) => logger.warn({ err }, 'could not re-read the numbers after the wake-up bus reconnected'));
        },
      });
      stack.push(unlisten);
      clusterWake = wake;
      // A line this node holds was woken here already: only work for another node's line is announced.
      core.outboundNotifier.publish = (lineId) => {
        if (lineId === undefined || started.membership?.holds(lineId) !== true) wake.line(lineId);
      };
      core.mms.publish = () => wake.mms();
      core.numbersRepo.onLocalWrite((id) => wake.number(id));
      // Message changes reach every node's live views (dashboard stream, MCP events).
      stack.push(await new ChangeRelay(bus, core.messages.feed(), logger.child({ mod: 'cluster' })).start());
      // Changes another node committed between this node's first read and its LISTEN.
      await core.numbersRepo.invalidate();
    }

    // A line that comes up with a number makes (or re-binds) that number.
    pool.on('state', ({ lineId, state }) => {
      if (state !== 'ready') return;
      const number = pool.line(lineId).number;
      if (!number) logger.warn({ line: lineId }, 'line is ready but its number is unknown: set modems[].number in the config');
      // Woken once the number is bound: what they send is looked up by it.
      (number ? core.numbers.lineFound(lineId, number) : Promise.resolve()).then(
        () => {
          outbound.notify();
          mms.service.notify();
        },
        (err: unknown) => logger.error({ err, line: lineId }, 'failed to record the number of a ready line'),
      );
    });
    pool.on('pdu', (pdu) => {
      receive.receive(pdu).catch((err: unknown) => logger.error({ err, line: pdu.lineId }, 'failed to store a received PDU'));
    });
    for (const line of network ? config.virtual.lines : []) await core.numbers.lineFound(line.id, line.number);

    // Unwound in reverse: the pool stops first (refusing what is queued in it, which goes back
    // to the store as retryable), then the dispatcher waits for those refusals to be recorded.
    stack.push(() => outbound.stop());
    // Unwound after the pool has stopped: the lines' leases are released once nothing here drives them.
    stack.push(() => started.membership?.stop());
    await pool.start();
    stack.push(() => pool.stop());
    // The node's heartbeat and leases, and (for calls) which live nodes have voice.
    const leases = new LeasesRepository(core.store);
    const membership = await ClusterMembership.start({
      repo: leases,
      dialect: core.store.dialect,
      // Other nodes queue calls for the cluster only while some live node says it has voice.
      node: { id: nodeId, host, pid: process.pid, version: agentphoneVersion(), info: { voice: options.voice?.signaling !== undefined || config.voice.drachtio !== null } },
      heartbeatMs: config.cluster.heartbeatMs,
      leaseMs: config.cluster.leaseMs,
      lines: () => pool.lines().map((l) => l.id),
      clock: monotonicClock,
      logger: logger.child({ mod: 'cluster' }),
      metrics: core.metrics,
      onLeasesChanged: () => {
        // A line this node just took (its holder died or let go): what that holder left in
        // flight goes back in the queue, to be sent from here.
        const gained = held().filter((id) => !wasHeld.has(id));
        wasHeld = new Set(held());
        if (gained.length > 0 && started.running) {
          outbound.resume(gained).catch((err: unknown) => logger.error({ err, lines: gained }, 'failed to requeue the parts of lines taken over'));
          mms.service.resume(gained).catch((err: unknown) => logger.error({ err, lines: gained }, 'failed to requeue the MMS of lines taken over'));
        }
        outbound.notify();
        mms.service.notify();
      },
    });
    started.membership = membership;
    core.metrics.setDefaultLabels({ node: nodeId });
    // What a stopped process left in flight is requeued only on the lines this node holds.
    wasHeld = new Set(held());
    await outbound.start([...wasHeld]);
    await mms.start([...wasHeld]);
    started.running = true;
    await core.webhooks.start();
    stack.push(() => core.webhooks.stop());
    const expiry = setInterval(() => {
      receive.expireIncomplete().catch((err: unknown) => logger.error({ err }, 'failed to expire incomplete multipart messages'));
      core.idempotency.pruneOlderThan(core.clock.now() - IDEMPOTENCY_KEEP_MS).catch((err: unknown) => logger.error({ err }, 'failed to prune idempotency keys'));
    }, EXPIRE_INTERVAL_MS);
    expiry.unref();
    stack.push(() => clearInterval(expiry));
    const purge = new PurgeJob({ store: core.store, mediaDir: mediaDir(config.dataDir), retention: config.retention, now: () => core.clock.now(), logger });
    purge.start();
    stack.push(() => purge.stop());
    openTestExtraConnection(testExtraConnect(), logger);

    // Worker threads start here, never in the CLI's offline core.
    const inference = createInference(config, logger, core.metrics);
    stack.push(() => inference.close());
    const whisper = new WhisperService(inference);
    const voiceAi = voiceAiRoutes({ ...core, inference, fetch: core.egress.fetch('upstreams') });
    stack.push(() => voiceAi.close());
    // Voice starts only when configured (voice.drachtio) or injected; `npm start` needs no SIP server.
    // Its turn loop runs on the same Whisper, Orpheus and chat services as /api/v1.
    const voiceOptions = options.voice ?? {};
    let voiceInference: Awaited<ReturnType<typeof createVoiceInference>> | undefined;
    if (voiceOptions.inference === undefined && config.voice.drachtio !== null) {
      const bound = await createVoiceInference(speechServicesFor(config, whisper, voiceAi));
      voiceInference = bound;
      stack.push(() => bound.close());
    }
    const wakeForCalls = clusterWake;
    const voice = await startVoice(core, core.post, { ...voiceOptions, ...(voiceInference && { inference: voiceInference }) }, {
      id: nodeId,
      ...(wakeForCalls && {
        cluster: {
          hints: { call: () => wakeForCalls.call(), hangup: (callId: string) => wakeForCalls.hangup(callId) },
          voiceNodes: async () => (await leases.listNodes(config.cluster.leaseMs)).some((n) => n.alive && n.info.voice === true),
          aliveTtlMs: config.cluster.leaseMs,
          pollMs: config.cluster.heartbeatMs,
        },
      }),
    });
    callHints.voice = voice;
    stack.push(() => voice.stop());
    // Metered transcriptions (MCP's transcriber and /v1/audio/transcriptions).
    const usage = new UsageRepository(core.store.db);
    const mcp: McpDeps = {
      config: config.mcp,
      logger: logger.child({ mod: 'mcp' }),
      clock: core.clock,
      numbers: core.numbers,
      send: core.send,
      conversations: core.conversations,
      messages: core.messages,
      events: new MessageEvents(core.messages, undefined, (err) => logger.warn({ err }, 'MCP message events: a changed message could not be read')),
      ledger: core.ledger,
      calls: voice.calls,
      manager: () => voice.control,
      transcribe: whisperTranscriber({ whisper, usage, clock: core.clock, model: 'whisper-large-v3' }),
      media: mediaLookup(mms.media, config.inference.maxAudioBytes),
      ownOrigins: () => [selfUrl, config.server.publicUrl, config.media.publicUrl].flatMap((u) => (u ? [new URL(u).origin] : [])),
    };
    const app = await buildCoreApp(core, {
      defaultMetrics: true,
      ...(tlsMaterial && { tlsMaterial }),
      health: () => {
        const lines = pool.lines();
        const ready = lines.filter((l) => l.state === 'ready').length;
        const sip = voice.manager && voiceHealth(voice.manager.signalingStatus());
        const cluster = membership.view();
        const degraded = (lines.length > 0 && ready === 0) || sip?.degraded === true || !cluster.connected;
        return { status: degraded ? 'degraded' : 'ok', lines: { total: lines.length, ready }, ...(sip && { voice: sip.voice }), cluster };
      },
      routes: [
        (root) => root.register(mediaRoutes, { media: mms.media }),
        ...(config.mcp.enabled ? [(root: App) => root.register(mcpRoutes, { deps: mcp, keys: core.apiKeys, rateLimiter: core.rateLimiter })] : []),
      ],
      apiRoutes: [
        (api) => api.register(v1Routes, { prefix: '/v1', ...voiceAi }),
        (api) => api.register(callsRoutes, { numbers: core.numbers, calls: voice.calls, control: voice.control }),
        (api) =>
          api.register(transcriptionRoutes, {
            prefix: '/v1',
            whisper,
            usage,
            clock: core.clock,
            maxAudioBytes: config.inference.maxAudioBytes,
            upstreams: voiceAi.upstreams,
          }),
      ],
      adminRoutes: [
        (admin) => admin.register(adminModemsRoutes, { pool, ...(network && { network }) }),
        (admin) => admin.register(adminDashboardLiveRoutes, { pool, ...(network && { network }), ...(mms.mmsc && { mmsc: mms.mmsc }), cluster: () => membership.view(), liveIntervalMs: config.dashboard.liveIntervalMs }),
        (admin) => admin.register(adminClusterRoutes, { view: () => membership.view() }),
        (admin) => admin.register(adminMmsSimRoutes, { mmsc: mms.mmsc, network, service: mms.service }),
        (admin) => admin.register(adminVoiceStatusRoutes, { status: () => voice.manager?.signalingStatus() }),
      ],
    });
    stack.push(() => closeApp(app));
    const url = await app.listen({ host: config.server.host, port: config.server.port });
    selfUrl = url;
    logger.info({ url, dataDir: config.dataDir, lines: pool.lines().length, virtual: network !== undefined }, 'AgentPhone gateway listening');
    const reload = () => {
      const { tls } = config.server;
      if (tls === null) return;
      reloadTls(app.server, tls);
      logger.info({}, 'TLS certificate reloaded');
    };
    return { core, app, pool, voice, inference, network, mms, outbound, receive, purge, membership, url, reloadTls: reload, stop: unwind };
  } catch (err) {
    await unwind();
    throw err;
  }
}
