import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { parentPort } from 'node:worker_threads';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { createSession } from '../../sessions.ts';
import type { WorkerNote } from '../../types.ts';
import type { FinishReason, FromWorker, GenerateParams, LoopStats, ToWorker } from './protocol.ts';
import { Rng, sampleToken } from './sampling.ts';

/*
 * The continuous-batching decode loop of one local decoder-only model, on its own thread.
 * New sequences are prefilled one by one as they arrive; every step then decodes one token for
 * every live sequence in a single batched run (pasts left-padded to the longest, masked out),
 * so sequences join and leave between steps instead of queueing behind each other.
 */

interface Sequence {
  id: number;
  params: GenerateParams;
  rng: Rng;
  /** Prompt and generated tokens (the repetition penalty looks at both). */
  tokens: number[];
  seen: Set<number>;
  generated: number;
  /** Per layer: [kvHeads, len, headDim] keys and values. */
  keys: Float32Array[];
  values: Float32Array[];
  len: number;
}

const port = parentPort;
if (!port) throw new Error('llm-worker must run in a worker thread');
const send = (m: FromWorker) => port.postMessage(m);

let session: InferenceSession | undefined;
let shape = { layers: 0, kvHeads: 0, headDim: 0, vocabSize: 0 };
let maxBatch = 16;
const pending: Array<{ id: number; prompt: Int32Array; params: GenerateParams }> = [];
const live = new Map<number, Sequence>();
const cancelled = new Set<number>();
const stats: LoopStats = { steps: 0, batchedTokens: 0, maxBatchSeen: 0 };
let running = false;
let closing = false;

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      void init(m.model, m.file, m.maxBatch);
      return;
    case 'add':
      pending.push(m);
      void loop();
      return;
    case 'cancel':
      cancelled.add(m.id);
      return;
    case 'stats':
      send({ type: 'stats', stats: { ...stats } });
      return;
    case 'close':
      closing = true;
      pending.length = 0;
      live.clear();
      if (!running) void shutdown();
  }
});

/** Leaves nothing behind that keeps the thread alive, so it exits on its own. */
async function shutdown(): Promise<void> {
  await session?.release().catch(() => undefined);
  session = undefined;
  parentPort?.close();
}

async function init(model: Parameters<typeof createSession>[0], file: string, batch: number): Promise<void> {
  try {
    const config = JSON.parse(readFileSync(join(model.dir, 'config.json'), 'utf8')) as Record<string, number>;
    const heads = config.num_attention_heads as number;
    shape = {
      layers: config.num_hidden_layers as number,
      kvHeads: config.num_key_value_heads ?? heads,
      headDim: config.head_dim ?? (config.hidden_size as number) / heads,
      vocabSize: config.vocab_size as number,
    };
    maxBatch = batch;
    const notes: WorkerNote[] = [];
    const created = await createSession(model, file, notes);
    session = created.session;
    send({ type: 'ready', provider: created.provider, ...shape });
  } catch (err) {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  }
}

async function loop(): Promise<void> {
  if (running || !session || closing) return;
  running = true;
  try {
    while (!closing && (pending.length > 0 || live.size > 0)) {
      const out: FromWorker & { type: 'step' } = { type: 'step', tokens: [], done: [] };
      for (const id of cancelled) {
        if (live.delete(id)) out.done.push([id, 'cancelled']);
        const p = pending.findIndex((s) => s.id === id);
        if (p >= 0) {
          pending.splice(p, 1);
          out.done.push([id, 'cancelled']);
        }
      }
      cancelled.clear();
      while (pending.length > 0 && live.size < maxBatch) {
        const next = pending.shift() as (typeof pending)[number];
        try {
          const seq = await prefill(next.id, next.prompt, next.params);
          accept(seq, seq.lastToken, out);
        } catch (err) {
          out.done.push([next.id, 'error', err instanceof Error ? err.message : String(err)]);
        }
      }
      const batch = [...live.values()].filter((s) => !out.done.some(([id]) => id === s.id));
      if (batch.length > 0) {
        try {
          const tokens = await decodeStep(batch);
          batch.forEach((s, i) => accept(s, tokens[i] as number, out));
        } catch (err) {
          for (const s of batch) {
            live.delete(s.id);
            out.done.push([s.id, 'error', err instanceof Error ? err.message : String(err)]);
          }
        }
      }
      if (out.tokens.length > 0 || out.done.length > 0) send(out);
      // Lets 'add' and 'cancel' messages in between steps.
      await yieldToEvents();
    }
  } finally {
    running = false;
    if (closing) void shutdown();
  }
}

/** Records a sampled token: emitted, or the end of its sequence. */
function accept(seq: Sequence, token: number, out: FromWorker & { type: 'step' }): void {
  if (seq.params.stopTokens.includes(token)) return finish(seq, 'stop', out);
  out.tokens.push([seq.id, token]);
  seq.tokens.push(token);
  if (seq.params.sampling.repetitionPenalty !== 1) seq.seen.add(token);
  seq.generated++;
  if (seq.generated >= seq.params.maxTokens) finish(seq, 'length', out);
}

function finish(seq: Sequence, reason: FinishReason, out: FromWorker & { type: 'step' }): void {
  live.delete(seq.id);
  out.done.push([seq.id, reason]);
}

function emptyPast(batch: number, len: number): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  const { layers, kvHeads, headDim } = shape;
  for (let l = 0; l < layers; l++) {
    feeds[`past_key_values.${l}.key`] = new Tensor('float32', new Float32Array(batch * kvHeads * len * headDim), [batch, kvHeads, len, headDim]);
    feeds[`past_key_values.${l}.value`] = new Tensor('float32', new Float32Array(batch * kvHeads * len * headDim), [batch, kvHeads, len, headDim]);
  }
  return feeds;
}

const int64 = (values: ArrayLike<number>, dims: number[]) => new Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);

function pick(logits: Float32Array, row: number, seq: Sequence): number {
  const V = shape.vocabSize;
  const slice = logits.slice(row * V, (row + 1) * V);
  return sampleToken(slice, seq.params.sampling, seq.rng, seq.seen);
}

async function prefill(id: number, prompt: Int32Array, params: GenerateParams): Promise<Sequence & { lastToken: number }> {
  const S = prompt.length;
  const feeds = {
    input_ids: int64(prompt, [1, S]),
    attention_mask: int64(new Array<number>(S).fill(1), [1, S]),
    position_ids: int64(Array.from({ length: S }, (_, i) => i), [1, S]),
    ...emptyPast(1, 0),
  };
  const res = await (session as InferenceSession).run(feeds);
  const seq: Sequence = { id, params, rng: new Rng(params.seed), tokens: Array.from(prompt), seen: new Set(params.sampling.repetitionPenalty === 1 ? [] : prompt), generated: 0, keys: [], values: [], len: S };
  for (let l = 0; l < shape.layers; l++) {
    seq.keys.push((res[`present.${l}.key`] as Tensor).data as Float32Array);
    seq.values.push((res[`present.${l}.value`] as Tensor).data as Float32Array);
  }
  live.set(id, seq);
  const logits = (res.logits as Tensor).data as Float32Array;
  return Object.assign(seq, { lastToken: pick(logits, S - 1, seq) });
}

/**
 * The batch as the model last saw it: its presents are the next step's pasts as long as the
 * same sequences stay (each row keeps its left padding), so a step copies no cache at all.
 * Only when sequences join or leave is the batch cache rebuilt from per-sequence caches.
 */
let state: { ids: number[]; P: number; pads: number[]; keys: Tensor[]; values: Tensor[] } | undefined;

/** Copies each remaining row of the batch cache back into its sequence (without the padding). */
function unbatch(): void {
  if (!state) return;
  const { kvHeads, headDim, layers } = shape;
  const { P } = state;
  const block = kvHeads * P * headDim;
  state.ids.forEach((id, b) => {
    const s = live.get(id);
    if (!s) return;
    const pad = (state as NonNullable<typeof state>).pads[b] as number;
    for (let l = 0; l < layers; l++) {
      const pk = (state as NonNullable<typeof state>).keys[l]?.data as Float32Array;
      const pv = (state as NonNullable<typeof state>).values[l]?.data as Float32Array;
      const k = new Float32Array(kvHeads * s.len * headDim);
      const v = new Float32Array(kvHeads * s.len * headDim);
      for (let h = 0; h < kvHeads; h++) {
        const src = b * block + (h * P + pad) * headDim;
        k.set(pk.subarray(src, src + s.len * headDim), h * s.len * headDim);
        v.set(pv.subarray(src, src + s.len * headDim), h * s.len * headDim);
      }
      s.keys[l] = k;
      s.values[l] = v;
    }
  });
  state = undefined;
}

function rebatch(batch: Sequence[]): NonNullable<typeof state> {
  const { layers, kvHeads, headDim } = shape;
  const B = batch.length;
  const P = Math.max(...batch.map((s) => s.len));
  const block = kvHeads * P * headDim;
  const keys: Tensor[] = [];
  const values: Tensor[] = [];
  for (let l = 0; l < layers; l++) {
    const k = new Float32Array(B * block);
    const v = new Float32Array(B * block);
    batch.forEach((s, b) => {
      const pad = P - s.len;
      for (let h = 0; h < kvHeads; h++) {
        const src = h * s.len * headDim;
        const dst = b * block + (h * P + pad) * headDim;
        k.set((s.keys[l] as Float32Array).subarray(src, src + s.len * headDim), dst);
        v.set((s.values[l] as Float32Array).subarray(src, src + s.len * headDim), dst);
      }
      s.keys[l] = new Float32Array(0);
      s.values[l] = new Float32Array(0);
    });
    keys.push(new Tensor('float32', k, [B, kvHeads, P, headDim]));
    values.push(new Tensor('float32', v, [B, kvHeads, P, headDim]));
  }
  return { ids: batch.map((s) => s.id), P, pads: batch.map((s) => P - s.len), keys, values };
}

/** One token for every sequence in one run; pasts are left-padded to the longest and masked. */
async function decodeStep(batch: Sequence[]): Promise<number[]> {
  const B = batch.length;
  const { layers } = shape;
  const same = state !== undefined && state.ids.length === B && state.ids.every((id, b) => batch[b]?.id === id);
  if (!same) {
    unbatch();
    state = rebatch(batch);
  }
  const st = state as NonNullable<typeof state>;
  const T = st.P + 1;
  const mask = new BigInt64Array(B * T);
  const ids = new BigInt64Array(B);
  const positions = new BigInt64Array(B);
  batch.forEach((s, b) => {
    mask.fill(1n, b * T + (st.pads[b] as number), (b + 1) * T);
    ids[b] = BigInt(s.tokens[s.tokens.length - 1] as number);
    positions[b] = BigInt(s.len);
  });
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', ids, [B, 1]),
    attention_mask: new Tensor('int64', mask, [B, T]),
    position_ids: new Tensor('int64', positions, [B, 1]),
  };
  for (let l = 0; l < layers; l++) {
    feeds[`past_key_values.${l}.key`] = st.keys[l] as Tensor;
    feeds[`past_key_values.${l}.value`] = st.values[l] as Tensor;
  }
  const res = await (session as InferenceSession).run(feeds);
  stats.steps++;
  stats.batchedTokens += B;
  stats.maxBatchSeen = Math.max(stats.maxBatchSeen, B);
  for (let l = 0; l < layers; l++) {
    st.keys[l] = res[`present.${l}.key`] as Tensor;
    st.values[l] = res[`present.${l}.value`] as Tensor;
  }
  st.P = T;
  for (const s of batch) s.len++;
  const logits = (res.logits as Tensor).data as Float32Array;
  return batch.map((s, b) => pick(logits, b, s));
}
