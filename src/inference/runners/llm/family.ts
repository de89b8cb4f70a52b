import { registerTestModel } from '../../generator/index.ts';
import { DTYPE_SUFFIX, onnxFileWithData, registerModelFamily, type ModelFamily } from '../../registry.ts';
import { writeChatTestModel } from './test-model.ts';

const JSON_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** A decoder-only export: onnx/model{_dtype}.onnx with its JSON files (Qwen3, Llama, ...). */
export const decoderOnlyFamily: ModelFamily = {
  name: 'llm',
  requiredFiles: (dtype) => [...JSON_FILES, `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`],
  selectFiles: (dtype, repoFiles) => [
    ...[...JSON_FILES, 'special_tokens_map.json'].filter((f) => repoFiles.includes(f)),
    ...onnxFileWithData('model', dtype, repoFiles),
  ],
};

/** The decoder file of a model for its dtype. */
export const decoderOnlyFile = (dtype: keyof typeof DTYPE_SUFFIX) => `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;

registerModelFamily(decoderOnlyFamily);
registerTestModel({
  name: 'qwen3-0.6b',
  family: 'llm',
  write: (dir) => {
    writeChatTestModel(dir);
    // What onnx-community's model_fp16.onnx declares: float16 caches and logits.
    writeChatTestModel(dir, 5, { cacheType: 'float16', logitsType: 'float16' }, `model${DTYPE_SUFFIX.fp16}.onnx`);
  },
});
