/** WSP primitive types (WAP-230-WSP §8.4.2): a bounds-checked reader and a chunked writer. */
import { MmsError, type MmsErrorCode } from './mms-error.ts';

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

export class WspReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    /** Exclusive end of the readable window (a header value, a part). */
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(code: MmsErrorCode, reason: string, at = this.pos): never {
    throw new MmsError(code, at, reason);
  }

  peek(field: string): number {
    if (this.pos >= this.end) this.fail('MMS_TRUNCATED', `ends before ${field}`);
    return this.bytes[this.pos] as number;
  }

  byte(field: string): number {
    const b = this.peek(field);
    this.pos++;
    return b;
  }

  take(n: number, field: string): Uint8Array {
    if (n < 0 || this.pos + n > this.end) this.fail('MMS_TRUNCATED', `${field} runs past the end (${n} bytes)`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A sub-reader over the next n bytes; this reader skips them. */
  window(n: number, field: string): WspReader {
    const start = this.pos;
    this.take(n, field);
    return new WspReader(this.bytes, start, start + n);
  }

  uintvar(field: string): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte(field);
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) return value;
    }
    return this.fail('MMS_INVALID_FIELD', `${field}: uintvar longer than 5 bytes`);
  }

  /** Value-length: 0–30 in one byte, or 31 followed by a uintvar. */
  valueLength(field: string): number {
    const b = this.byte(field);
    if (b <= 30) return b;
    if (b === 31) return this.uintvar(field);
    return this.fail('MMS_INVALID_FIELD', `${field}: not a value-length (0x${b.toString(16)})`, this.pos - 1);
  }

  /** True when the next byte starts a value-length (a "general form" value). */
  atValueLength(): boolean {
    return this.pos < this.end && (this.bytes[this.pos] as number) <= 31;
  }

  /**
   * Bytes up to a NUL (consumed, not returned). A text that runs to the end of its window
   * without one is taken whole, as Android's and mmsd's parsers do: MMSCs (MTS Russia) leave
   * the NUL off the last header of a notification, and a value-length already bounds it.
   */
  cstring(field: string): Uint8Array {
    const start = this.pos;
    if (start >= this.end) this.fail('MMS_TRUNCATED', `ends before ${field}`);
    const nul = this.bytes.indexOf(0, start);
    const stop = nul < 0 || nul >= this.end ? this.end : nul;
    this.pos = stop === this.end ? this.end : stop + 1;
    return this.bytes.subarray(start, stop);
  }

  /** Text-string (UTF-8, as every MMSC in practice sends it); the 0x7F quote is dropped. */
  text(field: string): string {
    let raw = this.cstring(field);
    if (raw[0] === 0x7f) raw = raw.subarray(1);
    return utf8.decode(raw);
  }

  shortInteger(field: string): number {
    const b = this.byte(field);
    if (b < 0x80) this.fail('MMS_INVALID_FIELD', `${field}: expected a short-integer`, this.pos - 1);
    return b & 0x7f;
  }

  longInteger(field: string): number {
    const len = this.byte(field);
    if (len < 1 || len > 8) this.fail('MMS_INVALID_FIELD', `${field}: long-integer of ${len} bytes`, this.pos - 1);
    let v = 0;
    for (const b of this.take(len, field)) v = v * 256 + b;
    return v;
  }

  /** Integer-value: a short-integer or a long-integer. */
  integer(field: string): number {
    return this.peek(field) >= 0x80 ? this.byte(field) & 0x7f : this.longInteger(field);
  }
}

/** Collects output in chunks so large media parts are not copied byte by byte. */
export class WspWriter {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private n = 0;
  private total = 0;

  get length(): number {
    return this.total + this.n;
  }

  byte(b: number): this {
    if (this.n === this.buf.length) this.flush();
    this.buf[this.n++] = b & 0xff;
    return this;
  }

  bytes(data: Uint8Array): this {
    if (data.length <= 64) {
      for (const b of data) this.byte(b);
      return this;
    }
    this.flush();
    this.chunks.push(data);
    this.total += data.length;
    return this;
  }

  uintvar(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`uintvar out of range: ${value}`);
    const groups: number[] = [value % 128];
    let v = Math.floor(value / 128);
    while (v > 0) {
      groups.unshift((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    for (const g of groups) this.byte(g);
    return this;
  }

  valueLength(n: number): this {
    return n <= 30 ? this.byte(n) : this.byte(31).uintvar(n);
  }

  /** Text-string: a leading byte ≥ 0x80 is quoted with 0x7F; NUL-terminated. */
  text(s: string): this {
    if (s.includes('\u0000')) throw new RangeError('text values cannot contain NUL');
    const raw = utf8Encoder.encode(s);
    if ((raw[0] ?? 0) >= 0x80) this.byte(0x7f);
    return this.bytes(raw).byte(0);
  }

  shortInteger(v: number): this {
    return this.byte(0x80 | (v & 0x7f));
  }

  longInteger(v: number): this {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`long-integer out of range: ${v}`);
    const out: number[] = [];
    let x = v;
    do {
      out.unshift(x % 256);
      x = Math.floor(x / 256);
    } while (x > 0);
    this.byte(out.length);
    for (const b of out) this.byte(b);
    return this;
  }

  integer(v: number): this {
    return v < 0x80 ? this.shortInteger(v) : this.longInteger(v);
  }

  /** Writes a value built separately, preceded by its value-length. */
  withLength(build: (w: WspWriter) => void): this {
    const inner = new WspWriter();
    build(inner);
    return this.valueLength(inner.length).bytes(inner.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0] as Uint8Array;
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private flush(): void {
    if (this.n === 0) return;
    this.chunks.push(this.buf.slice(0, this.n));
    this.total += this.n;
    this.n = 0;
  }
}
