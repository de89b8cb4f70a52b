import { spawnSync } from 'node:child_process';
import type * as Ort from 'onnxruntime-node';
import type { ModelConfig } from '../../config/index.ts';
import { cudaUnavailableReason, ModelRegistry, probeProvider } from '../../inference/index.ts';
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

/** The command that fetches onnxruntime-node's CUDA provider libraries (npm's allowScripts keeps its install script from running). */
const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=1 node node_modules/onnxruntime-node/script/install';

/**
 * ONNX Runtime loads; which execution providers this build has; whether the CUDA provider's
 * libraries are installed and, when they are, whether it loads on each configured device.
 */
export const onnxRuntimeCheck: DoctorCheck = async ({ config }) => {
  let ort: typeof Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (err) {
    return [fail('onnxruntime', `onnxruntime-node does not load (${(err as Error).message}): reinstall with npm ci`)];
  }
  const backends = ort.listSupportedBackends();
  const names = backends.map((b) => `${b.name}${b.bundled ? '' : ' (separate download)'}`).join(', ');
  const lines = [ok('onnxruntime', `onnxruntime-node ${ort.env.versions.node ?? '?'}; execution providers in this build: ${names}`, { version: ort.env.versions.node ?? null, providers: backends.map((b) => b.name) })];
  const registry = new ModelRegistry(config.inference, config.dataDir);
  const models = registry.list().map((m) => registry.sessionSettings(registry.get(m.name) as ModelConfig));
  const wantsCuda = models.some((s) => s.provider === 'cuda');
  const probes = await cudaProbes(registry);
  const missing = cudaUnavailableReason();
  if (missing !== null) {
    const detail = `${missing}: local models run on CPU. To use an NVIDIA GPU: ${CUDA_INSTALL_COMMAND} (again after every npm ci; docs/inference.md)`;
    return [...lines, (wantsCuda ? warn : ok)('cuda', detail, { installed: false })];
  }
  for (const [deviceId, error] of probes) {
    const data = { installed: true, deviceId, loads: error === null };
    if (error === null) lines.push(ok(`cuda device ${deviceId}`, 'the CUDA execution provider loads on this device', data));
    else lines.push((wantsCuda ? fail : warn)(`cuda device ${deviceId}`, `the CUDA execution provider does not load (${error}): it needs CUDA 12 and cuDNN 9 libraries on the loader path and a driver for this device`, data));
  }
  return lines;
};

/** Probe results by device id, kept for the process: both checks ask, a probe loads the CUDA libraries. */
const probed = new Map<number, Promise<string | null>>();

/** Whether the CUDA provider loads, per device id a model would use it on (none when its libraries are absent). */
const cudaProbes = async (registry: ModelRegistry): Promise<Map<number, string | null>> => {
  const probes = new Map<number, string | null>();
  if (cudaUnavailableReason() !== null) return probes;
  for (const name of registry.names()) {
    const settings = registry.sessionSettings(registry.get(name) as ModelConfig);
    if (settings.provider === 'cpu' || probes.has(settings.deviceId)) continue;
    if (!probed.has(settings.deviceId)) probed.set(settings.deviceId, probeProvider(settings, 'cuda'));
    probes.set(settings.deviceId, await (probed.get(settings.deviceId) as Promise<string | null>));
  }
  return probes;
};

/**
 * Each configured local model: its files on disk (which dtypes are complete), and where its
 * sessions would run: the provider createSession would pick here, and the CUDA device.
 */
export const modelsCheck: DoctorCheck = async ({ config }) => {
  const registry = new ModelRegistry(config.inference, config.dataDir);
  const models = registry.list();
  if (models.length === 0) return [ok('models', 'no local models configured')];
  const probes = await cudaProbes(registry);
  const cudaMissing = cudaUnavailableReason();
  return models.map((m) => {
    const cfg = registry.get(m.name) as ModelConfig;
    const settings = registry.sessionSettings(cfg);
    const present = registry.presentDtypes(cfg);
    const cudaError = settings.provider === 'cpu' ? 'provider: cpu' : (cudaMissing ?? probes.get(settings.deviceId) ?? null);
    const provider = cudaError === null ? 'cuda' : 'cpu';
    const runsOn = provider === 'cuda' ? `CUDA device ${settings.deviceId}` : settings.provider === 'cpu' ? 'CPU' : `CPU (${cudaError})`;
    const data = { dir: m.dir, dtype: m.dtype, dtypesPresent: present, installed: m.installed, test: m.test, configuredProvider: settings.provider, provider, deviceId: provider === 'cuda' ? settings.deviceId : null };
    const files = `dtype ${m.dtype}; complete on disk: ${present.length > 0 ? present.join(', ') : 'none'}`;
    if (!m.installed) return warn(`model ${m.name}`, `${files}; not on disk at ${m.dir} for dtype ${m.dtype}: agentphone models pull ${m.name} (its routes answer 503 until then)`, data);
    return ok(`model ${m.name}`, `${m.dir}${m.test ? ' (generated test model: its output is noise)' : ''}; ${files}; runs on ${runsOn}`, data);
  });
};
