import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ApiPrincipal } from '../auth/index.ts';
import { UnavailableError } from '../errors/index.ts';
import type { McpDeps } from './deps.ts';
import { createMcpSession, type McpSession } from './server.ts';

interface Entry {
  transport: StreamableHTTPServerTransport;
  session: McpSession;
  keyId: string;
  lastSeenMs: number;
  /** Requests of this session still open (a wait_for_reply, the GET notification stream). */
  open: number;
  /** Whether its initialize succeeded (the transport gave it an id and it is in the table). */
  initialized: boolean;
}

/**
 * The Streamable HTTP sessions of /mcp: each is one MCP server bound to the API key that
 * initialized it. At most `maxSessions` are open; one with no open request and none for
 * `sessionIdleMinutes` is closed, as is the least recently used idle one when a new session
 * needs its place (its id then answers 404, and the client initializes again).
 */
export class McpHttpSessions {
  private readonly entries = new Map<string, Entry>();
  /** Sessions made for an initialize still being answered: they count against the cap too. */
  private pending = 0;
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly deps: McpDeps) {
    this.sweep = setInterval(() => this.closeIdle(), Math.min(this.idleMs / 4, 60_000));
    this.sweep.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The session with this id, when it belongs to the same key. */
  find(sessionId: string, principal: ApiPrincipal): Entry | undefined {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.keyId !== principal.keyId) return undefined;
    // Expired is expired as soon as it is asked for, not only when the sweep next runs.
    if (this.idle(entry)) {
      this.drop(sessionId, entry);
      return undefined;
    }
    return entry;
  }

  /** A new session for an initialize request; it is kept once the transport has given it an id. */
  create(principal: ApiPrincipal): Entry {
    // At the cap the least recently used session with no open request gives way; when every
    // one is busy (a client holding its notification stream, a wait in flight), none does.
    const full = () => this.entries.size + this.pending >= this.deps.config.maxSessions;
    if (full()) this.closeIdle();
    if (full()) this.evictOne();
    if (full()) throw new UnavailableError(`Too many MCP sessions are open (mcp.maxSessions, ${this.deps.config.maxSessions}); close one or try again later`);
    const session = createMcpSession(this.deps, principal);
    this.pending++;
    const entry: Entry = {
      session,
      keyId: principal.keyId,
      lastSeenMs: this.deps.clock.now(),
      open: 0,
      initialized: false,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          entry.initialized = true;
          this.pending--;
          this.entries.set(id, entry);
        },
        onsessionclosed: (id) => void this.entries.delete(id),
      }),
    };
    entry.transport.onclose = () => {
      const id = entry.transport.sessionId;
      if (id !== undefined) this.entries.delete(id);
      void session.close();
    };
    return entry;
  }

  /** After a new session's initialize was answered: one that did not take (a refused request) is let go. */
  settle(entry: Entry): void {
    if (entry.initialized) return;
    this.pending--;
    void entry.session.close();
  }

  /** Marks a request of the session as open until `closed` resolves. */
  track(entry: Entry, closed: Promise<unknown>): void {
    entry.open++;
    entry.lastSeenMs = this.deps.clock.now();
    void closed.finally(() => {
      entry.open--;
      entry.lastSeenMs = this.deps.clock.now();
    });
  }

  private evictOne(): void {
    let oldest: [string, Entry] | undefined;
    for (const pair of this.entries) if (pair[1].open === 0 && (!oldest || pair[1].lastSeenMs < oldest[1].lastSeenMs)) oldest = pair;
    if (!oldest) return;
    this.drop(...oldest);
  }

  private get idleMs(): number {
    return this.deps.config.sessionIdleMinutes * 60_000;
  }

  private idle(entry: Entry): boolean {
    return entry.open === 0 && this.deps.clock.now() - entry.lastSeenMs >= this.idleMs;
  }

  private drop(id: string, entry: Entry): void {
    this.entries.delete(id);
    void entry.transport.close().catch(() => undefined);
  }

  /** Closes the sessions with no open request and none for mcp.sessionIdleMinutes. */
  closeIdle(): void {
    for (const [id, entry] of [...this.entries]) if (this.idle(entry)) this.drop(id, entry);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweep);
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.transport.close().catch(() => undefined)));
  }
}
