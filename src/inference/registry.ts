import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceConfig, ModelConfig } from '../config/index.ts';
import { ModelNotInstalledError, UnknownModelError } from './errors.ts';
import type { ModelDtype, ModelRuntime, SessionSettings } from './types.ts';

/** A kind of model (whisper, orpheus, ...): which files make it whole and how it is pulled. */
export interface ModelFamily {
  name: string;
  /** Files (relative to the model dir) that must all exist for the model to be served. */
  requiredFiles(dtype: ModelDtype): string[];
  /** Which of a repository's files `models pull` downloads (external .onnx_data included). */
  selectFiles(dtype: ModelDtype, repoFiles: readonly string[]): string[];
}

/** Written by `models make-test` into each generated model's folder. */
export const TEST_MODEL_MARKER = 'agentphone-test.json';

const families = new Map<string, ModelFamily>();

/** Adds a model family; the registry then serves config entries with `family: <name>`. */
export function registerModelFamily(family: ModelFamily): void {
  families.set(family.name, family);
}

export function modelFamily(name: string): ModelFamily | undefined {
  return families.get(name);
}

/** The suffix ONNX exports give a weight file per dtype (encoder_model_fp16.onnx). */
export const DTYPE_SUFFIX: Record<ModelDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** `onnx/<base><suffix>.onnx` plus its external data files, from a repository listing. */
export function onnxFileWithData(base: string, dtype: ModelDtype, repoFiles: readonly string[]): string[] {
  const file = `onnx/${base}${DTYPE_SUFFIX[dtype]}.onnx`;
  return repoFiles.filter((f) => f === file || f.startsWith(`${file}_data`) || f.startsWith(`${file}.data`));
}

export interface ModelInfo {
  name: string;
  family: string;
  dir: string;
  dtype: ModelDtype;
  repo: string;
  installed: boolean;
  /** Generated random-weight test model (its output is noise). */
  test: boolean;
}

/** Name → model directory and session settings, from the `inference` config. */
export class ModelRegistry {
  private readonly byName = new Map<string, ModelConfig>();

  constructor(
    private readonly config: Readonly<InferenceConfig>,
    private readonly dataDir: string,
  ) {
    for (const m of config.models) this.byName.set(m.name, m);
  }

  get modelsDir(): string {
    return this.config.modelsDir ?? join(this.dataDir, 'models');
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): ModelConfig | undefined {
    return this.byName.get(name);
  }

  dirOf(m: ModelConfig): string {
    return m.dir ?? join(this.modelsDir, m.name);
  }

  list(): ModelInfo[] {
    return [...this.byName.values()].map((m) => this.info(m));
  }

  info(m: ModelConfig): ModelInfo {
    const dir = this.dirOf(m);
    return {
      name: m.name,
      family: m.family,
      dir,
      dtype: m.dtype,
      repo: m.repo,
      installed: this.missingFiles(m).length === 0,
      test: isTestModel(dir),
    };
  }

  /** Required files not present (every file when the family is unknown to this process). */
  missingFiles(m: ModelConfig): string[] {
    const family = families.get(m.family);
    if (!family) return ['(unknown model family)'];
    const dir = this.dirOf(m);
    return family.requiredFiles(m.dtype).filter((f) => !existsSync(join(dir, f)));
  }

  /** The dtypes whose files are all in the model's folder (whatever `dtype` the config picks). */
  presentDtypes(m: ModelConfig): ModelDtype[] {
    const family = families.get(m.family);
    if (!family) return [];
    const dir = this.dirOf(m);
    return (Object.keys(DTYPE_SUFFIX) as ModelDtype[]).filter((d) => family.requiredFiles(d).every((f) => existsSync(join(dir, f))));
  }

  /** The runtime description of an installed model: 404 when unknown, 503 when not installed. */
  resolve(name: string, family?: string): ModelRuntime {
    const m = this.byName.get(name);
    if (!m || (family !== undefined && m.family !== family)) {
      throw new UnknownModelError(name, [...this.byName.values()].filter((x) => family === undefined || x.family === family).map((x) => x.name));
    }
    if (this.missingFiles(m).length > 0) throw new ModelNotInstalledError(name);
    return { name: m.name, family: m.family, dir: this.dirOf(m), dtype: m.dtype, session: this.sessionSettings(m) };
  }

  sessionSettings(m: ModelConfig): SessionSettings {
    const d = this.config.session;
    return {
      provider: m.provider ?? d.provider,
      deviceId: m.deviceId ?? d.deviceId,
      intraOpThreads: m.intraOpThreads ?? d.intraOpThreads,
      interOpThreads: m.interOpThreads ?? d.interOpThreads,
      graphOptimization: m.graphOptimization ?? d.graphOptimization,
      memoryArena: m.memoryArena ?? d.memoryArena,
      cuda: { weightsOutsideArena: d.cuda.weightsOutsideArena },
    };
  }
}

export function isTestModel(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, TEST_MODEL_MARKER), 'utf8')) as { generated?: unknown }).generated === true;
  } catch {
    return false;
  }
}
