import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { Graph, serializeModel } from '../../src/inference/generator/index.ts';
import { ModelRegistry, sessionOptions } from '../../src/inference/index.ts';

/*
 * What createSession hands InferenceSession.create, built from validated config, without a GPU:
 * the CUDA entry carries what onnxruntime-node's binding reads (deviceId), the arena setting
 * goes through `extra`, and the CUDA options the binding drops are refused at boot.
 */

const base = { adminToken: 'test-admin-token-0123456789' };

function settingsFor(session: Record<string, unknown>) {
  const config = validateConfig({ ...base, inference: { session } });
  return new ModelRegistry(config.inference, '/data').sessionSettings(config.inference.models[0]!);
}

describe('session options', () => {
  it('hands the CUDA provider the configured device id, and weightsOutsideArena as the session config entry', () => {
    const options = sessionOptions(settingsFor({ deviceId: 1, cuda: { weightsOutsideArena: true } }), 'cuda');
    expect(options.executionProviders).toEqual([{ name: 'cuda', deviceId: 1 }]);
    expect(options.extra).toEqual({ session: { use_device_allocator_for_initializers: '1' } });
  });

  it('adds no CUDA settings to a CPU session, nor the arena entry by default', () => {
    expect(sessionOptions(settingsFor({ cuda: { weightsOutsideArena: true } }), 'cpu')).not.toHaveProperty('extra');
    expect(sessionOptions(settingsFor({}), 'cuda')).not.toHaveProperty('extra');
  });

  it('the binding takes the extra entry (a real session on CPU), and this onnxruntime build knows its key', async () => {
    const g = new Graph('identity');
    g.input('x', 'float32', [1]);
    g.opMulti('Identity', ['x'], {}, ['y']);
    g.output('y', 'float32', [1]);
    const { extra } = sessionOptions(settingsFor({ cuda: { weightsOutsideArena: true } }), 'cuda');
    const session = await InferenceSession.create(serializeModel(g).model, { executionProviders: ['cpu'], extra });
    expect(session.outputNames).toEqual(['y']);
    await session.release();
    // onnxruntime stores any key without checking it: the library itself must contain the name it reads.
    const ortDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
    const lib = readdirSync(ortDir).find((f) => /^(lib)?onnxruntime\.(so|dll|dylib)/.test(f) || /^libonnxruntime\.\d.*dylib$/.test(f));
    expect(readFileSync(join(ortDir, lib as string)).includes('session.use_device_allocator_for_initializers')).toBe(true);
  });

  it('refuses at boot the CUDA options onnxruntime-node does not apply, each with the reason', () => {
    expect(() => validateConfig({ ...base, inference: { session: { cuda: { gpuMemLimitMb: 8192, arenaExtendStrategy: 'sameAsRequested', cudnnConvAlgoSearch: 'heuristic' } } } })).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^inference\.session\.cuda\.gpuMemLimitMb: onnxruntime-node passes only deviceId to the CUDA provider, so this cannot be applied \(it uses no limit\)/),
          expect.stringMatching(/^inference\.session\.cuda\.arenaExtendStrategy: .*\(it uses nextPowerOfTwo\)/),
          expect.stringMatching(/^inference\.session\.cuda\.cudnnConvAlgoSearch: .*\(it uses exhaustive\)/),
        ],
      }),
    );
    expect(validateConfig({ ...base, inference: { session: { cuda: { gpuMemLimitMb: null } } } }).inference.session.cuda).toEqual({ gpuMemLimitMb: null, arenaExtendStrategy: null, cudnnConvAlgoSearch: null, weightsOutsideArena: false });
  });

  it('rejects a value outside each setting\'s range like any other setting', () => {
    expect(() => validateConfig({ ...base, inference: { session: { cuda: { arenaExtendStrategy: 'grow' } } } })).toThrow(/inference\.session\.cuda\.arenaExtendStrategy/);
  });
});
