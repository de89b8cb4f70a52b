/** PCM helpers for the speech output: float → s16le, and the 44-byte RIFF/WAVE header. */

/** Float samples in [-1, 1] → signed 16-bit little-endian, clipped; ×32767 truncated, as the reference (numpy astype) does. */
export function floatToPcm16(samples: Float32Array, from = 0, to = samples.length): Buffer {
  const out = Buffer.allocUnsafe((to - from) * 2);
  for (let i = from, o = 0; i < to; i++, o += 2) {
    const s = samples[i] as number;
    const v = s >= 1 ? 32767 : s <= -1 ? -32767 : Math.trunc(s * 32767);
    out.writeInt16LE(Number.isNaN(v) ? 0 : v, o);
  }
  return out;
}

/** A canonical PCM WAVE header for `dataBytes` of s16le audio. */
export function wavHeader(dataBytes: number, sampleRateHz: number, channels = 1): Buffer {
  const h = Buffer.alloc(44);
  const blockAlign = channels * 2;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRateHz, 24);
  h.writeUInt32LE(sampleRateHz * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export function wavFile(pcm: Buffer, sampleRateHz: number): Buffer {
  return Buffer.concat([wavHeader(pcm.length, sampleRateHz), pcm]);
}
