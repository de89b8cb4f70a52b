import { describe, expect, it } from 'vitest';
import { base62, newId, newMessageId, uuidV7 } from '../../src/ids/index.ts';

describe('ids', () => {
  it('makes msg_<uuid> ids that are version 7 UUIDs and sort by creation time', () => {
    const id = newMessageId(Date.parse('2026-11-28T12:00:00Z'));
    expect(id).toMatch(/^msg_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id.slice(4, 17).replace('-', '')).toBe(Date.parse('2026-11-28T12:00:00Z').toString(16).padStart(12, '0'));
    const later = [1, 2, 3, 1000, 86_400_000].map((d) => uuidV7(Date.parse('2026-11-28T12:00:00Z') + d));
    expect([...later].sort()).toEqual(later);
    expect(newMessageId()).not.toBe(newMessageId());
  });

  it('makes prefixed base62 ids', () => {
    expect(newId('num')).toMatch(/^num_[0-9A-Za-z]{20,22}$/);
    expect(base62(new Uint8Array([0]))).toBe('0');
    expect(base62(new Uint8Array([1, 0]))).toBe('48');
  });
});
