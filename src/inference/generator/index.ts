import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeWhisperModel, WHISPER_DIMS } from './whisper.ts';

/** A family's generated test models: each writes a whole model folder under the given name. */
export interface TestModelSpec {
  /** The real default name it stands in for (whisper-large-v3, orpheus-3b, ...). */
  name: string;
  family: string;
  write(dir: string): void;
}

const specs: TestModelSpec[] = [
  { name: 'whisper-large-v3', family: 'whisper', write: (dir) => writeWhisperModel(dir, { dims: WHISPER_DIMS['test-v3'] }) },
  { name: 'whisper-large-v3-turbo', family: 'whisper', write: (dir) => writeWhisperModel(dir, { dims: WHISPER_DIMS['test-v3'], seed: 11 }) },
];

/** Adds (or replaces, by name) a test model that `models make-test` writes. */
export function registerTestModel(spec: TestModelSpec): void {
  const i = specs.findIndex((s) => s.name === spec.name);
  if (i >= 0) specs[i] = spec;
  else specs.push(spec);
}

export function testModelSpecs(): readonly TestModelSpec[] {
  return specs;
}

/** Writes every registered test model into `<dir>/<name>`; returns what it wrote. */
export function makeTestModels(dir: string, only?: readonly string[]): Array<{ name: string; family: string; dir: string }> {
  mkdirSync(dir, { recursive: true });
  return specs
    .filter((s) => !only || only.includes(s.name))
    .map((s) => {
      const target = join(dir, s.name);
      s.write(target);
      return { name: s.name, family: s.family, dir: target };
    });
}

export { Graph, serializeModel, rng, randomValues, toHalf, valueInfo, type DType, type Dim } from './onnx-builder.ts';
export { writeOnnx, writeWhisperModel, type WhisperModelOptions } from './whisper.ts';
export { WHISPER_DIMS, type WhisperDims } from './whisper-graphs.ts';
export { whisperTokenizerJson, whisperTokenLayout, WHISPER_LANGUAGES, bytesToUnicode, type WhisperTokenLayout } from './tokenizer-json.ts';
