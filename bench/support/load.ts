import { Agent, request } from 'node:http';

/** One HTTP request's outcome. */
interface Sample {
  ms: number;
  status: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  statuses: Record<number, number>;
}

export interface Target {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: (i: number) => string;
}

function once(agent: Agent, t: Target, i: number): Promise<Sample> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const body = t.body?.(i);
    const req = request(t.url, { method: t.method, agent, headers: { ...t.headers, ...(body && { 'content-length': Buffer.byteLength(body) }) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode ?? 0 }));
    });
    req.on('error', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: 0 }));
    req.end(body);
  });
}

function summarise(samples: Sample[], seconds: number): LoadResult {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  const statuses: Record<number, number> = {};
  for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  return {
    requests: samples.length,
    seconds,
    rps: samples.length / seconds,
    p50: q(0.5),
    p99: q(0.99),
    errors: samples.filter((s) => s.status < 200 || s.status >= 300).length,
    statuses,
  };
}

/** Closed loop: `connections` clients, each sending its next request when the last answers. */
export async function saturate(t: Target, connections: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const samples: Sample[] = [];
  const end = Date.now() + seconds * 1000;
  let n = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) samples.push(await once(agent, t, n++));
    }),
  );
  agent.destroy();
  return summarise(samples, Number(process.hrtime.bigint() - started) / 1e9);
}

/** Open loop: requests started at a fixed rate, whatever the server's pace. */
export async function fixedRate(t: Target, rps: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rps * seconds);
  const pending: Promise<Sample>[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const due = Number(started) / 1e6 + (i * 1000) / rps;
    const wait = due - Number(process.hrtime.bigint()) / 1e6;
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(once(agent, t, i));
  }
  const samples = await Promise.all(pending);
  agent.destroy();
  return summarise(samples, Number(process.hrtime.bigint() - started) / 1e9);
}
