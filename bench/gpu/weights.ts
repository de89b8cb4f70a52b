/**
 * Real weights for the GPU benches: a model directory as `agentphone models pull` leaves it
 * (config.json, tokenizer files, onnx/*.onnx in the dtype asked for) is used as it is when its
 * option names one; otherwise the bench writes random weights of the real sizes into its own
 * directory (kept between runs with --dir).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The directory to load `label` from: `real` (checked to hold `file`) or `generated`, written by `write` if missing. */
export function modelDir(label: string, real: string | undefined, generated: string, file: string, write: () => void): string {
  if (real !== undefined) {
    if (!existsSync(join(real, file))) throw new Error(`${label}: ${real} has no ${file}; pass a directory \`agentphone models pull\` filled, in the dtype asked for`);
    console.log(`${label}: real weights from ${real}`);
    return real;
  }
  if (!existsSync(join(generated, file))) {
    console.log(`${label}: writing random weights to ${generated} ...`);
    write();
  }
  return generated;
}
