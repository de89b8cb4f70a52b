import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors/index.ts';

function problemsOf(upstreams: unknown[]): readonly string[] {
  try {
    validateConfig({ upstreams });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

const entry = (model: string, extra: Record<string, unknown> = {}) => ({ model, baseUrl: 'http://10.0.0.5:8000/v1', upstreamModel: 'x', ...extra });

describe('upstreams configuration', () => {
  it('keeps the one-engine shape valid and fills in the replica settings', () => {
    const [u] = validateConfig({ upstreams: [entry('m')] }).upstreams;
    expect(u).toMatchObject({ replicas: [], fallback: 'none', healthIntervalMs: 10_000, healthTimeoutMs: 2_000, downMs: 5_000 });
    expect(u?.kind).toBeUndefined();
  });

  it('refuses a model listed twice, and a replica that is not an http(s) URL', () => {
    expect(problemsOf([entry('m'), entry('m')])).toEqual(['upstreams[1].model: "m" is listed twice; give one entry several replicas instead']);
    expect(problemsOf([entry('m', { replicas: ['10.0.0.6:8000'] })])).toEqual([expect.stringMatching(/^upstreams\[0\]\.replicas\[0\]/)]);
  });

  it('lets fallback: local name only a configured local model of the same kind', () => {
    expect(problemsOf([entry('whisper-large-v3', { kind: 'transcription', fallback: 'local' }), entry('orpheus-3b', { fallback: 'local' })])).toEqual([]);
    expect(problemsOf([entry('whisper-large-v3', { kind: 'chat', fallback: 'local' })])).toEqual(['upstreams[0].fallback: "local" needs a model named "whisper-large-v3" of family llm in inference.models']);
    expect(problemsOf([entry('big-model', { fallback: 'local' })])).toEqual(['upstreams[0].fallback: "local" needs a model named "big-model" of family llm or orpheus in inference.models']);
  });

  it('lets calls transcribe with a model only transcription engines serve', () => {
    const drachtio = { host: '127.0.0.1', secret: 'drachtio-secret' };
    const config = validateConfig({ voice: { drachtio, sttModel: 'big-whisper' }, upstreams: [entry('big-whisper', { kind: 'transcription' })] });
    expect(config.voice.sttModel).toBe('big-whisper');
    expect(() => validateConfig({ voice: { drachtio, sttModel: 'big-whisper' }, upstreams: [entry('big-whisper')] })).toThrow(/voice\.sttModel: "big-whisper" is not a whisper model/);
  });
});
