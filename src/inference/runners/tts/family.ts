import { registerTestModel } from '../../generator/index.ts';
import { DTYPE_SUFFIX, onnxFileWithData, registerModelFamily, type ModelFamily } from '../../registry.ts';
import { decoderOnlyFamily } from '../llm/family.ts';
import { writeOrpheusTestModel, writeSnacTestModel } from './test-models.ts';

/** The Orpheus LM: a decoder-only export (same files as any local LLM). */
export const orpheusFamily: ModelFamily = { ...decoderOnlyFamily, name: 'orpheus' };

export const snacFamily: ModelFamily = {
  name: 'snac',
  requiredFiles: (dtype) => [`onnx/decoder_model${DTYPE_SUFFIX[dtype]}.onnx`],
  selectFiles: (dtype, repoFiles) => [...['config.json'].filter((f) => repoFiles.includes(f)), ...onnxFileWithData('decoder_model', dtype, repoFiles)],
};

registerModelFamily(orpheusFamily);
registerModelFamily(snacFamily);
registerTestModel({ name: 'orpheus-3b', family: 'orpheus', write: (dir) => writeOrpheusTestModel(dir) });
registerTestModel({ name: 'snac-24khz', family: 'snac', write: (dir) => writeSnacTestModel(dir) });
