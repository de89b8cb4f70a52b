import type { Kysely } from 'kysely';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApp, type App, type AppDeps, type RouteRegistrar } from './api/index.ts';
import { adminWebhookRoutes } from './api/admin/webhooks.ts';
import { adminDashboardRoutes } from './api/admin/dashboard.ts';
import { adminOptOutRoutes } from './api/admin/opt-outs.ts';
import { DashboardSessions, LoginThrottle, dashboardRoutes, defaultAssetsDir } from './dashboard/index.ts';
import { messagesRoutes } from './api/routes/messages.ts';
import { conversationsRoutes } from './api/routes/conversations.ts';
import { adminVoiceSettingsRoutes } from './api/routes/calls.ts';
import { ApiKeyService } from './auth/index.ts';
import { systemClock, type Clock } from './clock/index.ts';
import type { Config } from './config/index.ts';
import { ConversationsService } from './conversations/index.ts';
import { openCoreStore } from './core-store.ts';
import type { Logger } from './logging/index.ts';
import { MessageQuery, MessageStatusTracker, SendService, type Notifier } from './messaging/index.ts';
import { RateLimiter, SharedRateLimiter, UsageLedger, type RateLimit } from './metering/index.ts';
import { NumberService } from './numbers/index.ts';
import {
  ApiKeysRepository,
  CallsRepository,
  ConversationsRepository,
  DashboardRepository,
  IdempotencyRepository,
  MessagesRepository,
  OutboxRepository,
  RateBucketsRepository,
  UsageRepository,
  type Database,
  type Db,
  type NumbersRepository,
  type SqlStore,
} from './store/index.ts';
import { httpPost, WebhookDispatcher, type HttpPost, type RetryPolicy } from './webhooks/index.ts';
import { createEgress, type Egress } from './net/index.ts';
import { OptOutService } from './compliance/index.ts';

/** A notifier bound after construction (the outbound dispatcher needs hardware; the core does not). */
export class LateNotifier implements Notifier {
  target: Notifier | undefined;
  /** On a cluster, also tells the other nodes (the line may be driven by one of them). */
  publish: ((lineId?: string) => void) | undefined;
  notify(lineId?: string): void {
    this.target?.notify(lineId);
    this.publish?.(lineId);
  }
}

/** MMS bound after construction: which lines carry MMS is known once the gateway has its lines. */
export class LateMms {
  target: { enabled(lineId: string): boolean; queue(messageId: string, lineId: string, tx?: Kysely<Database>): Promise<void>; notify(): void } | undefined;
  /** On a cluster, tells the other nodes that an MMS was queued (its line may be driven by one of them). */
  publish: (() => void) | undefined;
}

/** The store and the services built on it: everything but hardware and listening sockets. */
export interface Core {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  /** The SQLite handle, only for what is SQLite's alone (WAL checkpoints, the virtual phones' inboxes). */
  db: Db;
  /** The store every repository and service works through. */
  store: SqlStore<Database>;
  metrics: Registry;
  adminToken: string;
  numbersRepo: NumbersRepository;
  numbers: NumberService;
  apiKeys: ApiKeyService;
  messages: MessagesRepository;
  outbox: OutboxRepository;
  ledger: UsageLedger;
  /** Per API key: shared by the cluster's nodes on PostgreSQL, in memory on SQLite (one node). */
  rateLimiter: RateLimit;
  tracker: MessageStatusTracker;
  send: SendService;
  /** Opt-out compliance: keywords, state, audit; every send and call checks it. */
  optOuts: OptOutService;
  query: MessageQuery;
  /** Per-contact conversations of a number (list, thread, read mark). */
  conversations: ConversationsService;
  webhooks: WebhookDispatcher;
  /** Wakes the outbound SMS dispatcher once the gateway has one. */
  outboundNotifier: LateNotifier;
  idempotency: IdempotencyRepository;
  /** Lets sends with media go the MMS way once the gateway has an MMS service. */
  mms: LateMms;
  /** Where outbound connections may go (config egress); every HTTP client is made from it. */
  egress: Egress;
  /** How webhooks are posted (through the egress policy unless a test injected its own). */
  post: HttpPost;
  /** Ends the store and closes the SQLite handle. */
  close(): Promise<void>;
}

export interface CoreOptions {
  clock?: Clock;
  post?: HttpPost;
  /** Webhook retry schedule (tests shorten it). */
  webhookRetry?: RetryPolicy;
}

export async function createCore(config: Readonly<Config>, logger: Logger, options: CoreOptions = {}): Promise<Core> {
  const clock = options.clock ?? systemClock;
  const opened = await openCoreStore(config, logger);
  const { db, store, adminToken: token, numbersRepo } = opened;
  const numbers = new NumberService(numbersRepo, clock, config.numbers);
  const messages = new MessagesRepository(store.db);
  const outbox = new OutboxRepository(store.db);
  const ledger = new UsageLedger(new UsageRepository(store.db), config.metering);
  const outboundNotifier = new LateNotifier();
  const idempotency = new IdempotencyRepository(store.db);
  const mms = new LateMms();
  const egress = createEgress(config, logger);
  // Webhooks go only to a number's URL, which the operator set (config, admin API, dashboard).
  const post = options.post ?? httpPost(egress.fetch('webhooks', { operatorSet: true }));
  const tracker = new MessageStatusTracker(messages, numbersRepo, clock);
  const optOuts: OptOutService = new OptOutService({
    store,
    numbers: numbersRepo,
    clock,
    logger,
    config: config.compliance.optOut,
    numberSettings: config.numbers,
    autoReply: (tx, number, to, text) => send.autoReply(tx, number, to, text),
    webhooks: { notify: () => webhooks.notify() },
  });
  const send: SendService = new SendService({
    store,
    numbers,
    messages,
    ledger,
    sms: config.sms,
    media: config.media,
    clock,
    dispatcher: outboundNotifier,
    mmsEnabled: (number) => number.lineId !== null && (mms.target?.enabled(number.lineId) ?? false),
    mmsQueue: async (tx, messageId, lineId) => {
      await mms.target?.queue(messageId, lineId, tx);
      // Its pump runs outside this transaction, and looks again by itself if it runs before the commit.
      mms.target?.notify();
      mms.publish?.();
    },
    optOuts,
    refused: (tx, messageId, error) => tracker.record(tx, messageId, 'failed', error),
  });
  const webhooks: WebhookDispatcher = new WebhookDispatcher({
    store,
    outbox,
    clock,
    logger,
    post,
    ...(options.webhookRetry && { policy: options.webhookRetry }),
    // On a cluster a number another node made, whose hint was lost, is read (bounded) instead of holding its events.
    target: async (numberId) => {
      const n = await numbersRepo.find(numberId);
      return n && { url: n.webhookUrl, secret: n.webhookSecret, timeoutMs: n.webhookTimeoutMs };
    },
    longestTimeoutMs: () => numbersRepo.maxWebhookTimeoutMs(),
    onReply: async (event, reply, tx) => {
      const { from } = JSON.parse(event.payload) as { from: string };
      await send.reply(tx, event.id, event.numberId, from, reply.reply, reply.media);
    },
  });
  numbers.onWebhookSet((numberId) => webhooks.releaseHeld(numberId));
  return {
    config,
    logger,
    clock,
    db,
    store,
    metrics: new Registry(),
    adminToken: token,
    numbersRepo,
    numbers,
    apiKeys: new ApiKeyService(new ApiKeysRepository(store.db), numbersRepo, clock),
    messages,
    outbox,
    ledger,
    rateLimiter: rateLimitFor(store, config.rateLimit, clock, logger),
    tracker,
    send,
    optOuts,
    query: new MessageQuery(numbers, messages),
    conversations: new ConversationsService({ numbers, conversations: new ConversationsRepository(store.db), messages, clock }),
    webhooks,
    outboundNotifier,
    idempotency,
    mms,
    egress,
    post,
    close: () => opened.close(),
  };
}

/** On PostgreSQL the nodes share one bucket per key in the store; on SQLite (one node) it stays in memory, no query. */
function rateLimitFor(store: SqlStore<Database>, limit: Readonly<Config['rateLimit']>, clock: Clock, logger: Logger): RateLimit {
  if (store.dialect !== 'postgres') return new RateLimiter(limit.requestsPerSecond, limit.burst, clock);
  return new SharedRateLimiter({ buckets: new RateBucketsRepository(store), ratePerS: limit.requestsPerSecond, burst: limit.burst, clock, logger });
}

export function buildCoreApp(
  core: Core,
  extra: { health?: AppDeps['health']; routes?: RouteRegistrar[]; apiRoutes?: RouteRegistrar[]; adminRoutes?: RouteRegistrar[]; defaultMetrics?: boolean; tlsMaterial?: AppDeps['tlsMaterial'] } = {},
): Promise<App> {
  if (extra.defaultMetrics) collectDefaultMetrics({ register: core.metrics, prefix: 'agentphone_' });
  const sessions = new DashboardSessions(core.clock, core.config.dashboard.sessionTtlMinutes * 60_000);
  return buildApp({
    config: core.config,
    logger: core.logger,
    numbers: core.numbers,
    apiKeys: core.apiKeys,
    adminToken: core.adminToken,
    metrics: core.metrics,
    rateLimiter: core.rateLimiter,
    ...(extra.health && { health: extra.health }),
    ...(extra.tlsMaterial && { tlsMaterial: extra.tlsMaterial }),
    adminSession: (request) => sessions.authorizes(request),
    routes: core.config.dashboard.enabled
      ? [
          (app) =>
            app.register(dashboardRoutes, {
              sessions,
              adminToken: core.adminToken,
              assetsDir: defaultAssetsDir(),
              secureCookies: core.config.server.publicUrl?.startsWith('https:') ?? false,
              loginThrottle: new LoginThrottle(core.clock, { freeFailures: core.config.dashboard.loginFailuresBeforeLockout }),
              ...(core.config.media.publicUrl !== null && { mediaOrigin: new URL(core.config.media.publicUrl).origin }),
            }),
          ...(extra.routes ?? []),
        ]
      : (extra.routes ?? []),
    apiRoutes: [
      (api) => api.register(messagesRoutes, { send: core.send, query: core.query, numbers: core.numbers, ledger: core.ledger, clock: core.clock }),
      (api) => api.register(conversationsRoutes, { conversations: core.conversations, scope: 'api-key' }),
      ...(extra.apiRoutes ?? []),
    ],
    adminRoutes: [
      (admin) =>
        admin.register(adminWebhookRoutes, {
          numbers: core.numbers,
          outbox: core.outbox,
          webhooks: core.webhooks,
          ledger: core.ledger,
          clock: core.clock,
        }),
      (admin) =>
        admin.register(adminDashboardRoutes, {
          numbers: core.numbers,
          messages: core.messages,
          outbox: core.outbox,
          dashboard: new DashboardRepository(core.store.db),
          ledger: core.ledger,
          clock: core.clock,
          liveIntervalMs: core.config.dashboard.liveIntervalMs,
        }),
      (admin) => admin.register(adminOptOutRoutes, { optOuts: core.optOuts, numbers: core.numbers }),
      (admin) => admin.register(conversationsRoutes, { conversations: core.conversations, scope: 'operator' }),
      (admin) => admin.register(adminVoiceSettingsRoutes, { numbers: core.numbers, calls: new CallsRepository(core.store.db), now: () => core.clock.now() }),
      ...(extra.adminRoutes ?? []),
    ],
  });
}
