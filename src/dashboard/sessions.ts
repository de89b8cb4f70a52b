import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookie } from 'cookie';
import type { Clock } from '../clock/index.ts';

export const SESSION_COOKIE = 'agentphone_session';
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing: a session cookie alone is enough for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface Session {
  csrfToken: string;
  expiresAt: number;
}

export interface SessionRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * Dashboard logins: an opaque session id in an HttpOnly cookie, kept here only as a hash,
 * with a CSRF token that every state-changing call must echo in a header. Sliding expiry;
 * sessions live in memory, so a restart asks the operator to log in again.
 */
export class DashboardSessions {
  readonly #sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  create(): { sessionId: string; csrfToken: string; expiresAt: number } {
    this.#sweep();
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = this.clock.now() + this.ttlMs;
    this.#sessions.set(digest(sessionId), { csrfToken, expiresAt });
    return { sessionId, csrfToken, expiresAt };
  }

  /** The live session behind this id (its expiry pushed back), or undefined. */
  lookup(sessionId: string | undefined): { csrfToken: string } | undefined {
    if (!sessionId) return undefined;
    const key = digest(sessionId);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const now = this.clock.now();
    if (session.expiresAt <= now) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.expiresAt = now + this.ttlMs;
    return { csrfToken: session.csrfToken };
  }

  destroy(sessionId: string | undefined): void {
    if (sessionId) this.#sessions.delete(digest(sessionId));
  }

  /** The session id carried by a request's cookie header. */
  sessionIdOf(request: SessionRequest): string | undefined {
    const header = request.headers.cookie;
    if (typeof header !== 'string') return undefined;
    return parseCookie(header)[SESSION_COOKIE];
  }

  /**
   * True when the request proves a dashboard login: a live session cookie and, unless the
   * method is safe, the session's CSRF token in the X-CSRF-Token header.
   */
  authorizes(request: SessionRequest): boolean {
    const session = this.lookup(this.sessionIdOf(request));
    if (!session) return false;
    if (SAFE_METHODS.has(request.method)) return true;
    const presented = request.headers[CSRF_HEADER];
    return typeof presented === 'string' && sameSecret(presented, session.csrfToken);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(): void {
    const now = this.clock.now();
    for (const [key, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(key);
  }
}
