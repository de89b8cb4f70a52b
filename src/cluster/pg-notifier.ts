import pg from 'pg';
import { systemClock, type Timer, type TimerClock } from '../clock/index.ts';
import { UnavailableError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { assertChannel, assertPayload, Subscriptions, type Notifier, type NotifyHandler, type Unlisten } from './notifier.ts';

export interface PgNotifierOptions {
  /** Connection settings (connectionString, ssl…): the store's TLS options pass through as they are. */
  connection: pg.ClientConfig;
  logger: Logger;
  /** Names this node's connections in pg_stat_activity: `<name>/listen` and `<name>/notify`. */
  applicationName?: string;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** A `SELECT 1` on the listening connection this often finds a connection that died silently. */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** A NOTIFY unanswered this long drops its connection and is tried once more on a new one. */
  notifyTimeoutMs?: number;
  clock?: TimerClock;
}

/** The parameterised NOTIFY, for a caller that must notify inside its own transaction (sent on commit). */
export function pgNotifyQuery(channel: string, payload: string): { text: string; values: [string, string] } {
  assertChannel(channel);
  assertPayload(payload);
  return { text: 'SELECT pg_notify($1, $2)', values: [channel, payload] };
}

/** Connects the listening connection first, so a bad URL or a server that is down fails the boot. */
export async function createPgNotifier(options: PgNotifierOptions): Promise<PgNotifier> {
  const notifier = new PgNotifier(options);
  await notifier.start();
  return notifier;
}

interface Listening {
  readonly client: pg.Client;
  /** The channels listened to when it opened. */
  readonly channels: readonly string[];
}

/**
 * The bus across nodes sharing one PostgreSQL: LISTEN on one dedicated connection (a pooled
 * connection cannot keep a LISTEN), NOTIFY through a one-connection pool of its own so one
 * node's notifications leave in call order. A lost listening connection is re-opened with
 * capped exponential backoff, every channel is listened to again, and then resync fires.
 */
export class PgNotifier implements Notifier {
  readonly #o: Required<Omit<PgNotifierOptions, 'logger' | 'connection'>>;
  readonly #connection: pg.ClientConfig;
  readonly #log: Logger;
  readonly #subs: Subscriptions;
  readonly #pool: pg.Pool;
  readonly #clock: TimerClock;
  #current: Listening | undefined;
  #reconnecting: Promise<void> | undefined;
  #wait: { timer: Timer; resolve: () => void } | undefined;
  #ping: Timer | undefined;
  #closed = false;

  constructor(options: PgNotifierOptions) {
    this.#o = {
      applicationName: options.applicationName ?? 'agentphone-notifier',
      reconnectInitialMs: options.reconnectInitialMs ?? 100,
      reconnectMaxMs: options.reconnectMaxMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      pingTimeoutMs: options.pingTimeoutMs ?? 5_000,
      notifyTimeoutMs: options.notifyTimeoutMs ?? 5_000,
      clock: options.clock ?? systemClock,
    };
    this.#clock = this.#o.clock;
    this.#connection = { connectionTimeoutMillis: 10_000, keepAlive: true, ...options.connection };
    this.#log = options.logger.child({ mod: 'notifier' });
    this.#subs = new Subscriptions(this.#log);
    // Idle connections are kept (idleTimeoutMillis 0): a wake-up must not pay for a connect.
    // query_timeout: the pool then removes the connection, and pg's end() drops its socket.
    this.#pool = new pg.Pool({
      ...this.#connection,
      application_name: `${this.#o.applicationName}/notify`,
      max: 1,
      idleTimeoutMillis: 0,
      query_timeout: this.#o.notifyTimeoutMs,
    });
    // An idle pooled connection that dies emits here; without a listener it would crash the process.
    this.#pool.on('error', (err) => this.#log.warn({ err }, 'notify connection lost'));
  }

  /** Opens the listening connection; createPgNotifier calls it. */
  async start(): Promise<void> {
    try {
      this.#current = await this.#open();
    } catch (err) {
      await this.#pool.end().catch(() => undefined);
      this.#closed = true;
      throw new UnavailableError('cannot open the notifier connection to PostgreSQL', { cause: err });
    }
    this.#schedulePing();
  }

  async notify(channel: string, payload: string): Promise<void> {
    const query = pgNotifyQuery(channel, payload);
    this.#assertOpen();
    try {
      await this.#pool.query(query);
    } catch {
      // Most often the pooled connection died while idle (server restart, terminated backend)
      // or went silent: the pool has dropped it, so once more on a fresh one. A duplicate
      // wake-up is harmless.
      try {
        await this.#pool.query(query);
      } catch (err) {
        throw new UnavailableError('notify failed: PostgreSQL did not take it', { cause: err });
      }
    }
  }

  async listen(channel: string, handler: NotifyHandler): Promise<Unlisten> {
    assertChannel(channel);
    this.#assertOpen();
    const { subscription, first } = this.#subs.add(channel, handler);
    // Without a connection, the reconnect listens to every channel then, and resync follows.
    if (first && this.#current) await this.#command(this.#current.client, 'LISTEN', channel);
    return async () => {
      if (this.#subs.remove(subscription) && this.#current) await this.#command(this.#current.client, 'UNLISTEN', channel);
    };
  }

  onResync(handler: () => void): () => void {
    return this.#subs.onResync(handler);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subs.clear();
    this.#ping?.cancel();
    this.#wait?.timer.cancel();
    this.#wait?.resolve();
    await this.#reconnecting;
    const current = this.#current;
    this.#current = undefined;
    await Promise.all([current && this.#end(current), this.#pool.end().catch(() => undefined)]);
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('the notifier is closed');
  }

  /** A new listening connection, listening to every channel subscribed so far. */
  async #open(): Promise<Listening> {
    const client = new pg.Client({ ...this.#connection, application_name: `${this.#o.applicationName}/listen` });
    const listening: Listening = { client, channels: this.#subs.channels() };
    client.on('notification', (n) => {
      if (this.#current === listening) this.#subs.dispatch(n.channel, n.payload ?? '');
    });
    client.on('error', (err) => this.#lost(listening, err));
    client.on('end', () => this.#lost(listening, undefined));
    try {
      await client.connect();
      await Promise.all(listening.channels.map((c) => client.query(`LISTEN "${c}"`)));
    } catch (err) {
      await this.#end(listening);
      throw err;
    }
    return listening;
  }

  /** LISTEN/UNLISTEN on the current connection; a failure there means the connection is going. */
  async #command(client: pg.Client, verb: 'LISTEN' | 'UNLISTEN', channel: string): Promise<void> {
    // The channel is validated ([a-z0-9_], ≤ 63 bytes), so quoting it is exact.
    await client.query(`${verb} "${channel}"`).catch((err: unknown) => this.#log.warn({ err, channel, verb }, 'notifier command failed'));
  }

  #lost(listening: Listening, err: Error | undefined): void {
    if (this.#current !== listening) return;
    this.#current = undefined;
    this.#ping?.cancel();
    if (this.#closed) return;
    this.#log.warn({ err }, 'notifier connection lost; reconnecting');
    void this.#end(listening);
    this.#startReconnect();
  }

  #startReconnect(): void {
    this.#reconnecting ??= this.#reconnect().finally(() => {
      this.#reconnecting = undefined;
      // Lost again between the reconnect and this line: go round once more.
      if (!this.#current && !this.#closed) this.#startReconnect();
    });
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      await this.#sleep(Math.min(this.#o.reconnectMaxMs, this.#o.reconnectInitialMs * 2 ** attempt));
      if (this.#closed) return;
      let listening: Listening;
      try {
        listening = await this.#open();
      } catch (err) {
        this.#log.warn({ err, attempt }, 'notifier reconnect failed');
        continue;
      }
      if (this.#closed) return void (await this.#end(listening));
      this.#current = listening;
      // Channels subscribed while the connection was being opened (listen() saw none to use).
      for (const c of this.#subs.channels()) if (!listening.channels.includes(c)) void this.#command(listening.client, 'LISTEN', c);
      this.#schedulePing();
      this.#log.info({ channels: this.#subs.channels().length }, 'notifier reconnected; resync');
      this.#subs.resync();
      return;
    }
  }

  #sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#wait = undefined;
        resolve();
      }, delayMs);
      this.#wait = { timer, resolve };
    });
  }

  #schedulePing(): void {
    if (this.#o.pingIntervalMs <= 0) return;
    this.#ping?.cancel();
    this.#ping = this.#clock.setTimeout(() => void this.#pingOnce(), this.#o.pingIntervalMs);
  }

  async #pingOnce(): Promise<void> {
    const listening = this.#current;
    if (!listening) return;
    let timer: Timer | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = this.#clock.setTimeout(() => resolve('timeout'), this.#o.pingTimeoutMs)));
    const result = await Promise.race([listening.client.query('SELECT 1').then(() => 'ok' as const, () => 'failed' as const), timedOut]);
    timer?.cancel();
    if (result === 'ok') return this.#schedulePing();
    // #lost ends the client, and pg's end() destroys the socket under a query still waiting.
    this.#lost(listening, new Error(`notifier ping ${result}`));
  }

  async #end(listening: Listening): Promise<void> {
    await listening.client.end().catch(() => undefined);
  }
}
