import type { Tensor } from 'onnxruntime-node';
import { allocCache, cacheTensor, type CacheArray, type CacheType } from './decoder-io.ts';

/*
 * The KV cache of a decode batch. A batch keeps the presents of its last run as the next run's
 * pasts while the same sequences stay (each row keeps its left padding), so a step copies no
 * cache; only when sequences join or leave is it rebuilt from per-sequence caches.
 */

export interface CacheShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  type: CacheType;
}

/** A sequence's own cache while it is not in a batch: per layer [kvHeads, len, headDim]. */
export interface CachedRows {
  id: number;
  len: number;
  keys: CacheArray[];
  values: CacheArray[];
}

export interface BatchCache {
  ids: number[];
  /** Cache length of every row (the longest sequence's). */
  P: number;
  /** Left padding of each row. */
  pads: number[];
  keys: Tensor[];
  values: Tensor[];
}

/**
 * Which sequences may share a run. With position_ids every row gets its own positions, so all
 * sequences form one left-padded batch. Without them the export derives positions from the
 * cache length, which padding would shift: only sequences of equal length are batched (they
 * stay equal, as every step adds one token to each).
 */
export function planGroups(seqs: ReadonlyArray<{ id: number; len: number }>, positionIds: boolean): number[][] {
  if (seqs.length === 0) return [];
  if (positionIds) return [seqs.map((s) => s.id)];
  const byLen = new Map<number, number[]>();
  for (const s of seqs) {
    const group = byLen.get(s.len);
    if (group) group.push(s.id);
    else byLen.set(s.len, [s.id]);
  }
  return [...byLen.values()];
}

/** Moves sequences' caches into one left-padded batch cache (the sequences keep empty arrays). */
export function rebatch(batch: CachedRows[], shape: CacheShape): BatchCache {
  const { layers, kvHeads, headDim, type } = shape;
  const B = batch.length;
  const P = Math.max(...batch.map((s) => s.len));
  const block = kvHeads * P * headDim;
  const keys: Tensor[] = [];
  const values: Tensor[] = [];
  for (let l = 0; l < layers; l++) {
    const k = allocCache(type, B * block);
    const v = allocCache(type, B * block);
    batch.forEach((s, b) => {
      const pad = P - s.len;
      for (let h = 0; h < kvHeads; h++) {
        const src = h * s.len * headDim;
        const dst = b * block + (h * P + pad) * headDim;
        k.set((s.keys[l] as CacheArray).subarray(src, src + s.len * headDim), dst);
        v.set((s.values[l] as CacheArray).subarray(src, src + s.len * headDim), dst);
      }
      s.keys[l] = allocCache(type, 0);
      s.values[l] = allocCache(type, 0);
    });
    keys.push(cacheTensor(type, k, [B, kvHeads, P, headDim]));
    values.push(cacheTensor(type, v, [B, kvHeads, P, headDim]));
  }
  return { ids: batch.map((s) => s.id), P, pads: batch.map((s) => P - s.len), keys, values };
}

/** Copies each row still wanted (`rowOf` finds it) back into its sequence, without the padding. */
export function unbatch(state: BatchCache, rowOf: (id: number) => CachedRows | undefined, shape: CacheShape): void {
  const { kvHeads, headDim, layers, type } = shape;
  const { P } = state;
  const block = kvHeads * P * headDim;
  state.ids.forEach((id, b) => {
    const s = rowOf(id);
    if (!s) return;
    const pad = state.pads[b] as number;
    for (let l = 0; l < layers; l++) {
      const pk = state.keys[l]?.data as CacheArray;
      const pv = state.values[l]?.data as CacheArray;
      const k = allocCache(type, kvHeads * s.len * headDim);
      const v = allocCache(type, kvHeads * s.len * headDim);
      for (let h = 0; h < kvHeads; h++) {
        const src = b * block + (h * P + pad) * headDim;
        k.set(pk.subarray(src, src + s.len * headDim), h * s.len * headDim);
        v.set(pv.subarray(src, src + s.len * headDim), h * s.len * headDim);
      }
      s.keys[l] = k;
      s.values[l] = v;
    }
  });
}

/**
 * Brings the batch caches in line with `groups`: a cache whose sequences are exactly a group is
 * kept; every other one is unbatched, then each group without a cache gets a new one.
 * Returns the caches in the order of `groups`.
 */
export function reconcile(current: BatchCache[], groups: number[][], rowOf: (id: number) => CachedRows | undefined, shape: CacheShape): BatchCache[] {
  const sameIds = (a: number[], b: number[]) => a.length === b.length && a.every((id, i) => b[i] === id);
  const kept = groups.map((g) => current.find((c) => sameIds(c.ids, g)));
  for (const c of current) if (!kept.includes(c)) unbatch(c, rowOf, shape);
  return groups.map((g, i) => kept[i] ?? rebatch(g.map((id) => rowOf(id) as CachedRows), shape));
}
