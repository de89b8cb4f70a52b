import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NumberService } from '../../src/numbers/index.ts';
import { CallsRepository, NumbersRepository, openDatabase, type CallStatus } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('calls repository', () => {
  const tempDir = useTempDir();

  it.each<CallStatus>(['completed', 'failed', 'canceled', 'refused'])('never changes a %s call again (status, answer, SIP call id, turns)', (final) => {
    const db = openDatabase(join(tempDir(), 'c.db'));
    const number = new NumberService(new NumbersRepository(db), { now: () => 0 }).lineFound('l1', '+15550000001');
    const calls = new CallsRepository(db);
    calls.insert({ id: 'call_1', numberId: number.id, direction: 'outbound', contact: '+15557654321', status: 'queued', sipCallId: null, greeting: null, instructions: null, apiKeyId: null, createdAt: '2026-12-01T00:00:00.000Z' });
    expect(calls.setStatus('call_1', 'ringing')).toBe(true);
    const end = { id: 'call_1', status: final, endReason: 'api_hangup', sipStatus: 487, errorMessage: null, durationMs: null, billableMinutes: 0, endedAt: '2026-12-01T00:00:01.000Z' };
    expect(calls.end(end)).toBe(true);
    const ended = calls.get('call_1');
    // What a late 200, a late provisional or a turn racing the hangup would write:
    expect(calls.setStatus('call_1', 'ringing')).toBe(false);
    expect(calls.markAnswered('call_1', '2026-12-01T00:00:02.000Z')).toBe(false);
    expect(calls.setSipCallId('call_1', 'late@host')).toBe(false);
    expect(calls.addTurn('call_1', { callerText: 'hi', dtmf: null, action: 'ignore', agentReply: null, createdAt: '2026-12-01T00:00:02.000Z' })).toBe(false);
    expect(calls.end({ ...end, status: 'completed', endReason: 'remote_hangup' })).toBe(false);
    expect(calls.get('call_1')).toEqual(ended);
    expect(calls.turns('call_1')).toEqual([]);
  });
});
