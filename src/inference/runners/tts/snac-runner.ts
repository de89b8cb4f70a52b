import { Tensor } from 'onnxruntime-node';
import { DTYPE_SUFFIX } from '../../registry.ts';
import type { TaskContext } from '../../types.ts';

/*
 * Worker-side ops (run on the inference pool): SNAC codes → PCM. Codes come in and samples go
 * back as transferred buffers.
 */

export interface SnacDecodePayload {
  frames: number;
  codes0: BigInt64Array;
  codes1: BigInt64Array;
  codes2: BigInt64Array;
  keepFrom: number;
  keepTo: number;
}

async function decode(payload: SnacDecodePayload, ctx: TaskContext): Promise<Float32Array> {
  const model = ctx.model;
  if (!model) throw new Error('snac decode needs a model');
  const session = await ctx.session(`onnx/decoder_model${DTYPE_SUFFIX[model.dtype]}.onnx`);
  const n = payload.frames;
  const out = await session.run({
    'audio_codes.0': new Tensor('int64', payload.codes0, [1, n]),
    'audio_codes.1': new Tensor('int64', payload.codes1, [1, 2 * n]),
    'audio_codes.2': new Tensor('int64', payload.codes2, [1, 4 * n]),
  });
  const audio = (out.audio_values as Tensor).data as Float32Array;
  const kept = audio.slice(payload.keepFrom, Math.min(payload.keepTo, audio.length));
  ctx.transfer(kept.buffer);
  return kept;
}

export const ops = { decode };
