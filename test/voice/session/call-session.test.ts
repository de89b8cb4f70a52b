import { describe, expect, it } from 'vitest';
import { CallSession, type TurnLoopSettings } from '../../../src/voice/session/call-session.ts';
import type { AgentAction } from '../../../src/voice/ports.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import type { EnergyVad} from '../../fakes/voice.ts';
import { FakeInference, FakeMedia, ScriptedAgent, voiceFrame } from '../../fakes/voice.ts';

const settings: TurnLoopSettings = {
  endpointing: { startThreshold: 0.5, endThreshold: 0.35, minSpeechMs: 96, silenceMs: 480 },
  prerollMs: 200,
  agentDeadlineMs: 2000,
  bargeIn: true,
  voice: 'tara',
};

/** Lets queued promise work (VAD windows, agent answers, TTS chunks) run. */
async function settle(session: CallSession): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await session.idle();
    await new Promise((r) => setImmediate(r));
  }
}

async function setup(script: Array<AgentAction | 'wait'> = [], greeting: string | null = null, inferenceOptions = {}, overrides: Partial<TurnLoopSettings> = {}) {
  const clock = new ManualClock(0);
  const media = new FakeMedia();
  const inference = new FakeInference(inferenceOptions);
  const agent = new ScriptedAgent(script);
  const session = new CallSession({
    media,
    inference,
    agent,
    clock,
    settings: { ...settings, ...overrides },
    call: { callId: 'call_1', numberId: 'num_1', from: '+15551230000', to: '+15550000001', direction: 'inbound', instructions: null },
  });
  const states: string[] = [];
  session.on('state', (s) => states.push(s));
  await session.start(greeting);
  /** n frames of caller audio, 20 ms each, with the clock moving along. */
  const talk = async (ms: number, loud = true) => {
    for (let t = 0; t < ms; t += 20) {
      clock.advance(20);
      media.tick(voiceFrame(loud));
      await settle(session);
    }
  };
  return { clock, media, inference, agent, session, states, talk };
}

describe('CallSession turn loop', () => {
  it('speech that never pauses ends its turn at endpointing.maxUtteranceMs, and the next turn goes on from there', async () => {
    const { inference, talk } = await setup([{ action: 'respond', reply: 'a' }, { action: 'respond', reply: 'b' }], null, {}, { endpointing: { ...settings.endpointing, maxUtteranceMs: 2000 } });
    await talk(4600);
    expect(inference.transcribed.length).toBeGreaterThanOrEqual(2);
    for (const pcm of inference.transcribed) expect(pcm.length / 16_000).toBeLessThanOrEqual(2.05);
  });

  it('queues at most 1 s of caller frames for a VAD that is behind; the rest are dropped and counted', async () => {
    const { media, session, inference } = await setup();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let windows = 0;
    const vad = inference.vadSessions[0] as EnergyVad;
    vad.probability = async () => {
      windows++;
      await gate;
      return 0.02;
    };
    for (let i = 0; i < 200; i++) media.tick(voiceFrame(true));
    release();
    await settle(session);
    expect(windows).toBeLessThanOrEqual(50);
    expect(session.framesDropped).toBe(150);
    const before = windows;
    media.tick(voiceFrame(true));
    await settle(session);
    expect(windows).toBe(before + 1); // frames flow again once it has caught up
  });

  it('speaks the greeting on answer, then listens', async () => {
    const { media, inference, session, talk } = await setup([], 'Hello, this is the agent.');
    expect(inference.spoken).toEqual(['Hello, this is the agent.']);
    expect(session.state).toBe('speaking');
    await talk(400, false); // 300 ms of TTS (3 × 100 ms) plays out in 15 ticks
    expect(media.sent.length).toBeGreaterThanOrEqual(15);
    expect(session.state).toBe('listening');
    expect(session.history).toEqual([{ role: 'assistant', content: 'Hello, this is the agent.' }]);
  });

  it('ends a turn after the configured silence, transcribes 16 kHz audio, asks the agent and speaks its reply', async () => {
    const { inference, agent, session, states, talk } = await setup([{ action: 'respond', reply: 'Sure, one moment.' }]);
    await talk(600);
    expect(inference.transcribed).toHaveLength(0);
    await talk(460, false);
    expect(inference.transcribed).toHaveLength(0); // 480 ms of silence not yet reached
    await talk(60, false);
    expect(inference.transcribed).toHaveLength(1);
    // 600 ms of speech (+ preroll and the silence before the decision), at 16 kHz.
    const seconds = (inference.transcribed[0] as Int16Array).length / 16_000;
    expect(seconds).toBeGreaterThan(0.6);
    expect(seconds).toBeLessThan(1.4);
    expect(agent.requests[0]).toMatchObject({ transcript: 'hello there', dtmf: null, history: [], callId: 'call_1' });
    expect(inference.spoken).toEqual(['Sure, one moment.']);
    expect(states).toEqual(['listening', 'thinking', 'speaking']);
    const turn = session.turns[0];
    expect(turn).toMatchObject({ transcript: 'hello there', action: 'respond', reply: 'Sure, one moment.' });
    // The turn ended 480–512 ms after the last voiced window (the silence), and reply audio
    // was queued in the same instant on this fake clock (no model time).
    expect((turn?.timings.endpointAt as number) - (turn?.timings.speechEndAt as number)).toBeGreaterThanOrEqual(480);
    expect(turn?.timings.firstAudioAt).toBe(turn?.timings.endpointAt);
    await talk(400, false);
    expect(session.state).toBe('listening');
    expect(session.history).toEqual([
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: 'Sure, one moment.' },
    ]);
  });

  it('barge-in: caller speech during playout flushes the queue at once and records what was heard', async () => {
    const long = 'This is a long answer that goes on for a while.';
    const { media, session, talk } = await setup([{ action: 'respond', reply: long }], null, { ttsChunks: () => 20 }); // 2 s
    await talk(300);
    await talk(520, false);
    expect(session.state).toBe('speaking');
    await talk(200, false); // 10 frames of the reply heard
    const bargeIns: Array<{ heardMs: number; droppedMs: number; text: string }> = [];
    session.on('barge-in', (b) => bargeIns.push(b));
    await talk(100); // caller talks over it: detected after minSpeechMs
    expect(media.flushes).toBe(1);
    expect(bargeIns).toHaveLength(1);
    const b = bargeIns[0] as (typeof bargeIns)[number];
    expect(b.heardMs).toBeGreaterThanOrEqual(200);
    expect(b.heardMs).toBeLessThanOrEqual(320);
    expect(b.droppedMs).toBeGreaterThan(1500);
    expect(media.queue).toHaveLength(0);
    expect(session.state).toBe('listening');
    expect(session.history[1]?.content).toBe(`${long.slice(0, b.text.length)}…`);
    expect(b.text.length).toBeLessThan(long.length / 4);
  });

  it('gives up on an agent that misses the deadline and listens again', async () => {
    const { clock, agent, session, talk } = await setup(['wait']);
    await talk(300);
    await talk(500, false);
    expect(session.state).toBe('thinking');
    clock.advance(2000);
    await settle(session);
    expect(session.turns[0]).toMatchObject({ action: 'timeout', reply: null });
    expect(session.state).toBe('listening');
    expect(agent.pending).toHaveLength(1);
  });

  it('sends DTMF digits to the agent as turns', async () => {
    const { media, agent, inference } = await setup([{ action: 'respond', reply: 'You pressed one.' }]);
    media.emit('dtmf', { digit: '1', timestamp: 100, durationMs: 100 });
    await new Promise((r) => setImmediate(r));
    expect(agent.requests[0]).toMatchObject({ transcript: '', dtmf: '1' });
    expect(inference.spoken).toEqual(['You pressed one.']);
  });

  it('hangs up after the last words are played; transfers when asked', async () => {
    const { session, talk } = await setup([{ action: 'hangup', reply: 'Goodbye.' }]);
    let hungUp = false;
    session.on('hangup', () => (hungUp = true));
    await talk(300);
    await talk(500, false);
    expect(hungUp).toBe(false); // still saying goodbye
    await talk(400, false);
    expect(hungUp).toBe(true);

    const t = await setup([{ action: 'transfer', to: '+15557654321' }]);
    const to: string[] = [];
    t.session.on('transfer', (n) => to.push(n));
    await t.talk(300);
    await t.talk(500, false);
    expect(to).toEqual(['+15557654321']);
  });

  it('ignores blips shorter than the minimum speech length', async () => {
    const { inference, talk } = await setup();
    await talk(60);
    await talk(800, false);
    expect(inference.transcribed).toHaveLength(0);
  });
});
