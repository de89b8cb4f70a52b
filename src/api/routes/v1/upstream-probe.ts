import type { FetchLike } from '../../../inference/upstream/index.ts';

export interface ProbedUpstream {
  baseUrl: string;
  apiKey: string | null;
}

/**
 * Whether an upstream engine answers `GET <baseUrl>/models` (every OpenAI-compatible engine
 * serves it), remembered for `ttlMs` so listing models costs at most one short request per
 * engine in that time. A configured engine that is down is then left out of /v1/models.
 */
export class UpstreamProbe {
  private readonly cache = new Map<string, { atMs: number; up: Promise<boolean> }>();

  constructor(
    private readonly fetch: FetchLike,
    private readonly nowMs: () => number,
    private readonly ttlMs = 10_000,
    private readonly timeoutMs = 1_000,
  ) {}

  up(upstream: ProbedUpstream): Promise<boolean> {
    const hit = this.cache.get(upstream.baseUrl);
    if (hit && this.nowMs() - hit.atMs < this.ttlMs) return hit.up;
    const up = this.probe(upstream);
    this.cache.set(upstream.baseUrl, { atMs: this.nowMs(), up });
    return up;
  }

  private async probe({ baseUrl, apiKey }: ProbedUpstream): Promise<boolean> {
    try {
      const res = await this.fetch(`${baseUrl.replace(/\/+$/, '')}/models`, {
        method: 'GET',
        headers: apiKey === null ? {} : { authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }
}
