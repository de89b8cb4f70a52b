import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { parentPort } from 'node:worker_threads';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { tensorBytes } from '../../io-meter.ts';
import { createSession } from '../../sessions.ts';
import type { WorkerNote } from '../../types.ts';
import type { FinishReason, FromWorker, GenerateParams, LoopStats, NewSequence, ToWorker } from './protocol.ts';
import { planGroups, reconcile, type BatchCache, type CacheShape } from './batch-cache.ts';
import { decoderIo, emptyPast, lastLogits, pastFeed, presentOutput, type CacheArray, type DecoderIo } from './decoder-io.ts';
import { Rng, sampleToken } from './sampling.ts';

/*
 * The continuous-batching decode loop of one local decoder-only model, on its own thread.
 * New sequences are prefilled one by one as they arrive; every step then decodes one token for
 * every live sequence in a single batched run (pasts left-padded to the longest, masked out),
 * so sequences join and leave between steps instead of queueing behind each other. Exports
 * without position_ids batch only sequences of equal length (one run per length). Cache and
 * logits types, and the inputs fed, follow the export (decoder-io.ts).
 */

interface Sequence {
  id: number;
  params: GenerateParams;
  rng: Rng;
  /** Prompt and generated tokens (the repetition penalty looks at both). */
  tokens: number[];
  seen: Set<number>;
  generated: number;
  /** Per layer: [kvHeads, len, headDim] keys and values, in the export's cache type. */
  keys: CacheArray[];
  values: CacheArray[];
  len: number;
}

const port = parentPort;
if (!port) throw new Error('llm-worker must run in a worker thread');
const send = (m: FromWorker) => port.postMessage(m);

let session: InferenceSession | undefined;
let shape = { layers: 0, kvHeads: 0, headDim: 0, vocabSize: 0 };
let io: DecoderIo = { layers: 0, cacheType: 'float32', positionIds: true, logitsToKeep: false, fetches: [] };
let cacheShape: CacheShape = { layers: 0, kvHeads: 0, headDim: 0, type: 'float32' };
let maxBatch = 16;
const pending: NewSequence[] = [];
const live = new Map<number, Sequence>();
const cancelled = new Set<number>();
const stats: LoopStats = { steps: 0, batchedTokens: 0, maxBatchSeen: 0, logitValues: 0, fedBytes: 0, fetchedBytes: 0 };
let running = false;
let closing = false;

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      void init(m.model, m.file, m.maxBatch);
      return;
    case 'add':
      pending.push(...m.sequences);
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
    try {
      io = decoderIo(session, shape.layers);
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
    cacheShape = { layers: shape.layers, kvHeads: shape.kvHeads, headDim: shape.headDim, type: io.cacheType };
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
        const next = pending.shift() as NewSequence;
        try {
          const seq = await prefill(next.id, next.prompt, next.params);
          accept(seq, seq.lastToken, out);
        } catch (err) {
          out.done.push([next.id, 'error', err instanceof Error ? err.message : String(err)]);
        }
      }
      const ready = [...live.values()].filter((s) => !out.done.some(([id]) => id === s.id));
      batches = reconcile(batches, planGroups(ready, io.positionIds), (id) => live.get(id), cacheShape);
      for (const cache of [...batches]) {
        const batch = cache.ids.map((id) => live.get(id) as Sequence);
        try {
          const tokens = await decodeStep(batch, cache);
          batch.forEach((s, i) => accept(s, tokens[i] as number, out));
        } catch (err) {
          batches = batches.filter((c) => c !== cache);
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

const int64 = (values: ArrayLike<number>, dims: number[]) => new Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
/** num_logits_to_keep = 1: only the last position's logits are computed and copied back. */
const keepLast = () => new Tensor('int64', BigInt64Array.of(1n), []);

/** Runs the session fetching only logits and presents; counts the logits and bytes copied each way. */
async function run(feeds: Record<string, Tensor>): Promise<InferenceSession.ReturnType> {
  const res = await (session as InferenceSession).run(feeds, io.fetches);
  stats.logitValues += (res.logits as Tensor).size;
  for (const t of Object.values(feeds)) stats.fedBytes += tensorBytes(t);
  for (const t of Object.values(res)) stats.fetchedBytes += tensorBytes(t as Tensor);
  return res;
}

async function prefill(id: number, prompt: Int32Array, params: GenerateParams): Promise<Sequence & { lastToken: number }> {
  const S = prompt.length;
  const feeds: Record<string, Tensor> = {
    input_ids: int64(prompt, [1, S]),
    attention_mask: int64(new Array<number>(S).fill(1), [1, S]),
    ...emptyPast(io, 1, shape.kvHeads, shape.headDim),
  };
  if (io.positionIds) feeds.position_ids = int64(Array.from({ length: S }, (_, i) => i), [1, S]);
  if (io.logitsToKeep) feeds.num_logits_to_keep = keepLast();
  const res = await run(feeds);
  const seq: Sequence = { id, params, rng: new Rng(params.seed), tokens: Array.from(prompt), seen: new Set(params.sampling.repetitionPenalty === 1 ? [] : prompt), generated: 0, keys: [], values: [], len: S };
  for (let l = 0; l < shape.layers; l++) {
    seq.keys.push((res[presentOutput(l, 'key')] as Tensor).data as CacheArray);
    seq.values.push((res[presentOutput(l, 'value')] as Tensor).data as CacheArray);
  }
  live.set(id, seq);
  return Object.assign(seq, { lastToken: pick(res.logits as Tensor, 0, seq) });
}

function pick(logits: Tensor, row: number, seq: Sequence): number {
  return sampleToken(lastLogits(logits, row), seq.params.sampling, seq.rng, seq.seen);
}

/** The decode batches as the model last saw them (one, or one per length without position_ids). */
let batches: BatchCache[] = [];

/** One token for every sequence of a batch in one run; pasts are left-padded to the longest and masked. */
async function decodeStep(batch: Sequence[], st: BatchCache): Promise<number[]> {
  const B = batch.length;
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
  };
  if (io.positionIds) feeds.position_ids = new Tensor('int64', positions, [B, 1]);
  if (io.logitsToKeep) feeds.num_logits_to_keep = keepLast();
  for (let l = 0; l < shape.layers; l++) {
    feeds[pastFeed(l, 'key')] = st.keys[l] as Tensor;
    feeds[pastFeed(l, 'value')] = st.values[l] as Tensor;
  }
  const res = await run(feeds);
  stats.steps++;
  stats.batchedTokens += B;
  stats.maxBatchSeen = Math.max(stats.maxBatchSeen, B);
  for (let l = 0; l < shape.layers; l++) {
    st.keys[l] = res[presentOutput(l, 'key')] as Tensor;
    st.values[l] = res[presentOutput(l, 'value')] as Tensor;
  }
  st.P = T;
  for (const s of batch) s.len++;
  return batch.map((s, b) => pick(res.logits as Tensor, b, s));
}
