import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { makeTempDir, testModelsDir, toneWav } from '../helpers.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

/*
 * Uploads over 30 s through the whole gateway on the generated Whisper model (random weights:
 * its words are noise, but its timestamps still drive the seeking). Every response format must
 * come from the one long-form loop: json and text are the verbose_json text, not the text of
 * hard 30 s windows decoded without timestamps.
 */
describe('POST /api/v1/audio/transcriptions over 30 s', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    // One sample per window (best_of is tested in sampler.test.ts): random weights never stop early.
    gw = await startTestGateway(makeTempDir(), { inference: { modelsDir: testModelsDir(), workers: 1, maxAudioBytes: 2_000_000, whisper: { bestOf: 1 } } });
  }, 60_000);
  afterAll(async () => gw?.stop());

  async function decodes(): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('agentphone_inference_tasks_total{model="whisper-large-v3",stage="decode",outcome="ok"}'));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  async function transcribe(format: string): Promise<{ body: string; decodes: number }> {
    const before = await decodes();
    const form = new FormData();
    form.append('file', new Blob([toneWav(33)]), 'long.wav');
    form.append('response_format', format);
    form.append('language', 'en');
    form.append('temperature', '0.4');
    const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` } });
    expect(res.status).toBe(200);
    const body = await res.text();
    return { body, decodes: (await decodes()) - before };
  }

  it('seeks by timestamps for json and text as for verbose_json', async () => {
    const verbose = await transcribe('verbose_json');
    const v = JSON.parse(verbose.body) as { text: string; duration: number; segments: { seek: number; start: number; end: number }[] };
    expect(v.duration).toBeCloseTo(33, 1);
    expect(v.text.length).toBeGreaterThan(0);
    // The second window starts where the first one's last complete segment ended, not at 30 s.
    const seeks = [...new Set(v.segments.map((s) => s.seek))];
    expect(seeks[0]).toBe(0);
    expect(seeks.some((s) => s > 0 && s % 3000 !== 0)).toBe(true);
    for (const s of v.segments) {
      expect(s.end).toBeLessThanOrEqual(33);
      expect(s.end).toBeGreaterThan(s.start);
    }

    const json = await transcribe('json');
    expect(JSON.parse(json.body)).toEqual({ text: v.text });
    expect(json.decodes).toBe(verbose.decodes);

    const text = await transcribe('text');
    expect(text.body).toBe(v.text);
    expect(text.decodes).toBe(verbose.decodes);
  }, 400_000);
});
