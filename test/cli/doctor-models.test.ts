import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsCheck, onnxRuntimeCheck } from '../../src/cli/doctor/runtime.ts';
import { validateConfig } from '../../src/config/index.ts';
import { cudaUnavailableReason, makeTestModels, probeProvider } from '../../src/inference/index.ts';
import { cli } from '../helpers/cli.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

/*
 * `agentphone doctor` on local models: real generated models on disk, real onnxruntime. This
 * host has no CUDA provider libraries unless onnxruntime-node's CUDA download was run; the
 * expectations that depend on it say which case they cover.
 */

const base = { adminToken: 'test-admin-token-0123456789' };

describe('doctor: models and execution providers', () => {
  const tempDir = useTempDir();

  function setup(session: Record<string, unknown> = {}) {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir, { recursive: true });
    makeTestModels(join(dataDir, 'models'), ['qwen3-0.6b', 'whisper-large-v3']);
    return { dataDir, config: validateConfig({ ...base, dataDir, inference: { session } }) };
  }

  it('lists per model the dtypes complete on disk and where its sessions would run', async () => {
    const { config } = setup({ provider: 'cpu' });
    const lines = await modelsCheck({ config, timeoutMs: 1000 });
    const qwen = lines.find((l) => l.name === 'model qwen3-0.6b');
    expect(qwen).toMatchObject({ status: 'ok', data: { dtype: 'fp32', dtypesPresent: ['fp32', 'fp16'], installed: true, test: true, configuredProvider: 'cpu', provider: 'cpu', deviceId: null } });
    expect(qwen?.detail).toMatch(/complete on disk: fp32, fp16; runs on CPU$/);
    expect(lines.find((l) => l.name === 'model whisper-large-v3')?.data).toMatchObject({ dtypesPresent: ['fp32'], provider: 'cpu' });
    expect(lines.find((l) => l.name === 'model orpheus-3b')).toMatchObject({ status: 'warn', data: { dtypesPresent: [], installed: false } });
  });

  it('a model whose configured dtype is missing is a warning naming the dtypes that are there', async () => {
    const { dataDir } = setup();
    const config = validateConfig({ ...base, dataDir, inference: { models: [{ name: 'qwen3-0.6b', family: 'llm', repo: 'onnx-community/Qwen3-0.6B-ONNX', dtype: 'q4' }] } });
    const [line] = await modelsCheck({ config, timeoutMs: 1000 });
    expect(line).toMatchObject({ status: 'warn', data: { dtype: 'q4', dtypesPresent: ['fp32', 'fp16'], installed: false } });
    expect(line?.detail).toMatch(/^dtype q4; complete on disk: fp32, fp16; not on disk/);
  });

  it('auto: CUDA only where its libraries are installed and it loads, else CPU with the reason', async () => {
    const { config } = setup({ provider: 'auto', deviceId: 0 });
    const lines = [...(await onnxRuntimeCheck({ config, timeoutMs: 1000 })), ...(await modelsCheck({ config, timeoutMs: 1000 }))];
    expect(lines[0]).toMatchObject({ name: 'onnxruntime', status: 'ok', data: { providers: expect.arrayContaining(['cpu', 'cuda']) } });
    const qwen = lines.find((l) => l.name === 'model qwen3-0.6b');
    if (cudaUnavailableReason() !== null) {
      // This host: onnxruntime-node without its CUDA download.
      expect(lines.find((l) => l.name === 'cuda')).toMatchObject({ status: 'ok', data: { installed: false } });
      expect(lines.find((l) => l.name === 'cuda')?.detail).toContain('ONNXRUNTIME_NODE_INSTALL=1 node node_modules/onnxruntime-node/script/install');
      expect(qwen?.data).toMatchObject({ configuredProvider: 'auto', provider: 'cpu', deviceId: null });
      expect(qwen?.detail).toMatch(/runs on CPU \(onnxruntime-node CUDA provider libraries are not installed \(libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so missing\)\)$/);
    } else {
      const device = lines.find((l) => l.name === 'cuda device 0');
      expect(qwen?.data).toMatchObject({ provider: device?.data?.loads === true ? 'cuda' : 'cpu' });
    }
  });

  it('the provider probe opens a real session, and reports why the CUDA provider does not load', async () => {
    const settings = { provider: 'auto' as const, deviceId: 0, intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all' as const, memoryArena: true };
    expect(await probeProvider(settings, 'cpu')).toBeNull();
    if (cudaUnavailableReason() !== null) expect(await probeProvider(settings, 'cuda')).toMatch(/\S/);
  });

  it('agentphone doctor --json carries the same values', async () => {
    const { dataDir } = setup({ provider: 'cpu' });
    rmSync(join(dataDir, 'models', 'whisper-large-v3'), { recursive: true });
    const configFile = join(dataDir, '..', 'agentphone.yaml');
    writeFileSync(configFile, 'inference:\n  session:\n    provider: cpu\n');
    const res = await cli(['doctor', '--json', '--timeout', '500'], { AGENTPHONE_CONFIG: configFile, AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_ADMIN_TOKEN: base.adminToken });
    const out = JSON.parse(res.stdout) as { checks: Array<{ name: string; data?: Record<string, unknown> }> };
    expect(out.checks.find((c) => c.name === 'model qwen3-0.6b')?.data).toMatchObject({ dtypesPresent: ['fp32', 'fp16'], provider: 'cpu' });
    expect(out.checks.find((c) => c.name === 'model whisper-large-v3')?.data).toMatchObject({ dtypesPresent: [], installed: false });
  });
});
