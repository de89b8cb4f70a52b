import { spawnSync } from 'node:child_process';
import { cudaUnavailableReason, ModelRegistry } from '../../inference/index.ts';
import { fail, ok, warn, type CheckResult, type DoctorCheck } from './check.ts';

const TOOLS = [
  { command: 'ffmpeg', args: ['-version'], need: 'MMS media conversion', install: 'apt install ffmpeg' },
  { command: 'sox', args: ['--version'], need: 'call audio conversion', install: 'apt install sox' },
] as const;

/** ffmpeg and sox on PATH (warn: only the features that use them are affected). */
export const toolsCheck: DoctorCheck = async ({ timeoutMs }) => TOOLS.map((t) => toolLine(t, timeoutMs));

function toolLine(tool: (typeof TOOLS)[number], timeoutMs: number): CheckResult {
  const res = spawnSync(tool.command, [...tool.args], { encoding: 'utf8', timeout: timeoutMs });
  if (res.error !== undefined || res.status !== 0) return warn(tool.command, `not found or not working: needed for ${tool.need}; ${tool.install}`);
  const first = `${res.stdout}${res.stderr}`.split('\n').find((l) => l.trim() !== '') ?? '';
  return ok(tool.command, first.trim().slice(0, 80));
}

/** ONNX Runtime loads, and which execution providers it can use (CUDA or CPU only). */
export const onnxRuntimeCheck: DoctorCheck = async ({ config }) => {
  let backends: readonly { name: string; bundled: boolean }[];
  try {
    const ort = await import('onnxruntime-node');
    backends = ort.listSupportedBackends();
  } catch (err) {
    return [fail('onnxruntime', `onnxruntime-node does not load (${(err as Error).message}): reinstall with npm ci`)];
  }
  const names = backends.map((b) => b.name).join(', ');
  const cuda = cudaUnavailableReason();
  const wantsCuda = config.inference.session.provider === 'cuda';
  if (cuda === null) return [ok('onnxruntime', `execution providers: ${names}; CUDA libraries present`)];
  const detail = `execution providers: ${names}; ${cuda}: local models run on CPU (npm ci --onnxruntime-node-install=cuda12 for CUDA)`;
  return [wantsCuda ? warn('onnxruntime', detail) : ok('onnxruntime', detail)];
};

/** Each configured local model has its files on disk. */
export const modelsCheck: DoctorCheck = async ({ config }) => {
  const registry = new ModelRegistry(config.inference, config.dataDir);
  const models = registry.list();
  if (models.length === 0) return [ok('models', 'no local models configured')];
  return models.map((m) =>
    m.installed
      ? ok(`model ${m.name}`, `${m.dir}${m.test ? ' (generated test model: its output is noise)' : ''}`)
      : warn(`model ${m.name}`, `not on disk at ${m.dir}: agentphone models pull ${m.name} (its routes answer 503 until then)`),
  );
};
