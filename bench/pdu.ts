/**
 * PDU codec throughput against node-pdu (the most-used npm PDU library), in one run:
 * SUBMIT encode and DELIVER decode over a fixed corpus of mixed GSM-7 / UCS-2 /
 * concatenated messages. Prints segments per second, the ratio, and how many corpus
 * messages each library gets exactly right. Run with `npm run bench:pdu`.
 */
import { performance } from 'node:perf_hooks';
import { Deliver, Submit, parse } from 'node-pdu';
import { decodePdu, encodeDeliver, encodeSubmit } from '../src/sms/index.ts';

const TO = '+15551234567';
const FROM = '+4915112345678';
const WHEN = new Date('2024-03-01T13:05:09Z');

function buildCorpus(): string[] {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const kinds = [
    { chars: 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ 0123456789 .,!?', min: 10, max: 160 },
    { chars: 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ 0123456789 .,!?@£$', min: 161, max: 600 },
    { chars: 'Привет, как дела? Всё хорошо.', min: 5, max: 70 },
    { chars: '你好世界，今天天气很好。', min: 71, max: 300 },
    { chars: 'Hello 😀 👍 world ', min: 10, max: 200 },
  ];
  const out: string[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = kinds[i % kinds.length] as (typeof kinds)[number];
    const chars = Array.from(kind.chars);
    const length = kind.min + rand(kind.max - kind.min + 1);
    let text = '';
    for (let j = 0; j < length; j++) text += chars[rand(chars.length)];
    out.push(Array.from(text).slice(0, length).join(''));
  }
  return out;
}

const corpus = buildCorpus();
const delivers = corpus.map((text, i) => encodeDeliver({ originator: FROM, text, timestamp: WHEN, reference: i & 0xff }));
const totalSegments = delivers.reduce((n, d) => n + d.length, 0);

/** Joins the texts of decoded SUBMIT/DELIVER parts, checking their concatenation headers. */
function joinOurs(hexes: readonly string[]): string | null {
  let text = '';
  for (const [i, hex] of hexes.entries()) {
    const d = decodePdu(hex);
    if (d.type === 'status-report' || d.text === null) return null;
    if (hexes.length > 1 && (d.concat?.part !== i + 1 || d.concat.total !== hexes.length)) return null;
    text += d.text;
  }
  return text;
}

const libraries = {
  agentphone: {
    encode: (text: string): string[] => encodeSubmit({ to: TO, text, maxParts: 255 }).map((p) => p.hex),
    decode: (hexes: readonly string[]): string | null => joinOurs(hexes),
  },
  'node-pdu': {
    encode: (text: string): string[] => new Submit(TO, text).getPartStrings(),
    decode: (hexes: readonly string[]): string | null => {
      let text = '';
      for (const hex of hexes) {
        const d = parse(hex);
        if (!(d instanceof Deliver)) return null;
        text += d.data.getText();
      }
      return text;
    },
  },
};

function correct(name: keyof typeof libraries): { encode: number; decode: number } {
  const lib = libraries[name];
  let encode = 0;
  let decode = 0;
  corpus.forEach((text, i) => {
    try {
      if (joinOurs(lib.encode(text)) === text) encode++;
    } catch {
      // counted as wrong
    }
    try {
      if (lib.decode(delivers[i] as string[]) === text) decode++;
    } catch {
      // counted as wrong
    }
  });
  return { encode, decode };
}

/** Segments per second of one ~200 ms burst of `fn`. */
function burst(fn: () => number): number {
  let segments = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < 200) {
    segments += fn();
    elapsed = performance.now() - start;
  }
  return (segments * 1000) / elapsed;
}

const safe = <T>(f: () => T): T | null => {
  try {
    return f();
  } catch {
    return null;
  }
};

const workloads = (name: keyof typeof libraries) => {
  const lib = libraries[name];
  return {
    encode: () => corpus.reduce((n, text) => n + (safe(() => lib.encode(text))?.length ?? 0), 0),
    decode: () => {
      for (const d of delivers) safe(() => lib.decode(d));
      return totalSegments;
    },
  };
};

/** Best of 8 rounds, the libraries interleaved so a change in machine load hits both alike. */
function measureAll(names: readonly (keyof typeof libraries)[]): Map<string, { encode: number; decode: number }> {
  const best = new Map(names.map((n) => [n, { encode: 0, decode: 0 }]));
  for (const n of names) {
    const w = workloads(n);
    for (let i = 0; i < 3; i++) {
      w.encode();
      w.decode();
    }
  }
  for (let round = 0; round < 8; round++) {
    for (const n of names) {
      const w = workloads(n);
      const b = best.get(n) as { encode: number; decode: number };
      b.encode = Math.max(b.encode, burst(w.encode));
      b.decode = Math.max(b.decode, burst(w.decode));
    }
  }
  return best;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(10);
console.log(`corpus: ${corpus.length} messages, ${totalSegments} segments (GSM-7, UCS-2, emoji, concatenated)\n`);
const names = ['agentphone', 'node-pdu'] as const;
const speeds = measureAll(names);
const results = names.map((name) => ({ name, speed: speeds.get(name) as { encode: number; decode: number }, right: correct(name) }));
console.log('library        encode seg/s   decode seg/s   encode right   decode right');
for (const r of results) {
  console.log(
    `${r.name.padEnd(12)} ${fmt(r.speed.encode)}     ${fmt(r.speed.decode)}     ${`${r.right.encode}/${corpus.length}`.padStart(10)}     ${`${r.right.decode}/${corpus.length}`.padStart(10)}`,
  );
}
const [ours, base] = results as [(typeof results)[number], (typeof results)[number]];
console.log(
  `\nratio (agentphone / node-pdu): encode ${(ours.speed.encode / base.speed.encode).toFixed(2)}x, decode ${(ours.speed.decode / base.speed.decode).toFixed(2)}x`,
);
