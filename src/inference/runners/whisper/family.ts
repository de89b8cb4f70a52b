import { onnxFileWithData, registerModelFamily, type ModelFamily } from '../../registry.ts';
import { decoderFile, encoderFile, WHISPER_JSON_FILES } from './model-files.ts';

export const whisperFamily: ModelFamily = {
  name: 'whisper',
  requiredFiles: (dtype) => [...WHISPER_JSON_FILES, encoderFile(dtype), decoderFile(dtype)],
  selectFiles: (dtype, repoFiles) => [
    ...[...WHISPER_JSON_FILES, 'tokenizer_config.json', 'special_tokens_map.json'].filter((f) => repoFiles.includes(f)),
    ...onnxFileWithData('encoder_model', dtype, repoFiles),
    ...onnxFileWithData('decoder_model_merged', dtype, repoFiles),
  ],
};

registerModelFamily(whisperFamily);
