import { describe, expect, it } from 'vitest';
import { CSRF_HEADER, DashboardSessions, SESSION_COOKIE } from '../../src/dashboard/index.ts';

class StepClock {
  t = Date.UTC(2026, 0, 15, 12);
  now = () => this.t;
}

const request = (method: string, sessionId: string | undefined, csrf?: string) => ({
  method,
  headers: { ...(sessionId !== undefined && { cookie: `theme=dark; ${SESSION_COOKIE}=${sessionId}` }), ...(csrf !== undefined && { [CSRF_HEADER]: csrf }) },
});

describe('dashboard sessions', () => {
  it('accepts reads with the cookie alone and changes only with the matching CSRF token', () => {
    const sessions = new DashboardSessions(new StepClock(), 60_000);
    const { sessionId, csrfToken } = sessions.create();
    expect(sessions.authorizes(request('GET', sessionId))).toBe(true);
    expect(sessions.authorizes(request('POST', sessionId))).toBe(false);
    expect(sessions.authorizes(request('DELETE', sessionId, 'x'.repeat(43)))).toBe(false);
    expect(sessions.authorizes(request('POST', sessionId, csrfToken))).toBe(true);
    expect(sessions.authorizes(request('POST', 'forged-session-id', csrfToken))).toBe(false);
    expect(sessions.authorizes(request('GET', undefined))).toBe(false);
  });

  it('expires after the TTL without use, slides with use, and forgets a session on logout', () => {
    const clock = new StepClock();
    const sessions = new DashboardSessions(clock, 60_000);
    const a = sessions.create();
    const b = sessions.create();
    clock.t += 59_000;
    expect(sessions.lookup(a.sessionId)).toEqual({ csrfToken: a.csrfToken });
    clock.t += 59_000;
    // a was used 59 s ago, b 118 s ago.
    expect(sessions.lookup(a.sessionId)).toBeDefined();
    expect(sessions.lookup(b.sessionId)).toBeUndefined();
    sessions.destroy(a.sessionId);
    expect(sessions.lookup(a.sessionId)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

});
