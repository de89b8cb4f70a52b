import { randomBytes } from 'node:crypto';
import type { ApiPrincipal } from '../auth/index.ts';
import { canAccessNumber } from '../auth/index.ts';
import type { Clock } from '../clock/index.ts';
import type { NumberConfig } from '../config/index.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import { base62, newId } from '../ids/index.ts';
import type { NumberRecord, NumbersRepository } from '../store/index.ts';

/** A number as agents and operators see it: never the webhook secret. */
export interface NumberView {
  id: string;
  phoneNumber: string;
  line: string | null;
  label: string | null;
  status: 'active' | 'inactive';
  webhookUrl: string | null;
  webhookTimeoutMs: number;
  overageEnabled: boolean;
  createdAt: string;
}

export function toNumberView(n: NumberRecord): NumberView {
  return {
    id: n.id,
    phoneNumber: n.phoneNumber,
    line: n.lineId,
    label: n.label,
    status: n.status,
    webhookUrl: n.webhookUrl,
    webhookTimeoutMs: n.webhookTimeoutMs,
    overageEnabled: n.overageEnabled,
    createdAt: n.createdAt,
  };
}

export function newWebhookSecret(): string {
  return `whsec_${base62(randomBytes(32))}`;
}

export class NumberService {
  private readonly webhookListeners: Array<(numberId: string) => void> = [];

  constructor(
    private readonly repo: NumbersRepository,
    private readonly clock: Clock,
    private readonly settings: readonly NumberConfig[] = [],
  ) {}

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Called after a number gets a webhook URL (the dispatcher releases its held events). */
  onWebhookSet(listener: (numberId: string) => void): void {
    this.webhookListeners.push(listener);
  }

  /**
   * A line came up carrying `phoneNumber`. Creates or rebinds its number, then applies the
   * settings the config file gives for that line (config wins at every start).
   */
  async lineFound(lineId: string, phoneNumber: string): Promise<NumberRecord> {
    const record = await this.repo.bindLine({
      phoneNumber,
      lineId,
      newId: newId('num'),
      newSecret: newWebhookSecret(),
      now: this.nowIso(),
    });
    const s = this.settings.find((c) => c.line === lineId);
    if (!s) return record;
    const updated =
      (await this.repo.updateSettings(
        record.id,
        {
          ...(s.label !== undefined && { label: s.label }),
          ...(s.webhookUrl !== undefined && { webhookUrl: s.webhookUrl }),
          ...(s.webhookTimeoutMs !== undefined && { webhookTimeoutMs: s.webhookTimeoutMs }),
          ...(s.overage !== undefined && { overageEnabled: s.overage }),
        },
        this.nowIso(),
      )) ?? record;
    if (s.webhookUrl) for (const l of this.webhookListeners) l(updated.id);
    return updated;
  }

  async list(principal?: ApiPrincipal): Promise<NumberRecord[]> {
    const all = await this.repo.list();
    return principal ? all.filter((n) => canAccessNumber(principal, n.id)) : all;
  }

  /** The number, or a 404 that does not tell a missing number from an out-of-scope one. Synchronous: from the repository's cache. */
  get(id: string, principal?: ApiPrincipal): NumberRecord {
    const n = this.repo.get(id);
    if (!n || (principal && !canAccessNumber(principal, id))) throw new NotFoundError(`Number ${id} not found`);
    return n;
  }

  /**
   * `get`, except that on a cluster (PostgreSQL) a number this node's cache lacks is read from
   * the database first: one another node made, whose bus hint was lost. Bounded against ids that
   * do not exist (NumberMissGuard); a key scoped to other numbers causes no read.
   */
  async find(id: string, principal?: ApiPrincipal): Promise<NumberRecord> {
    if (!this.repo.get(id) && (!principal || canAccessNumber(principal, id))) await this.repo.find(id);
    return this.get(id, principal);
  }

  /** Whether `find` may read the database (PostgreSQL); on SQLite the cache is exact and `get` is the whole answer. */
  get readsMisses(): boolean {
    return this.repo.readsMisses;
  }

  getByLine(lineId: string): Promise<NumberRecord | undefined> {
    return this.repo.getByLine(lineId);
  }

  getByPhone(phoneNumber: string): Promise<NumberRecord | undefined> {
    return this.repo.getByPhone(phoneNumber);
  }

  async setWebhook(id: string, input: { url: string | null; timeoutMs?: number | undefined }): Promise<NumberRecord> {
    this.get(id);
    if (input.url !== null) assertWebhookUrl(input.url);
    if (input.timeoutMs !== undefined && (!Number.isInteger(input.timeoutMs) || input.timeoutMs < 100 || input.timeoutMs > 120_000)) {
      throw new ValidationError('timeoutMs: must be an integer between 100 and 120000');
    }
    const updated = (await this.repo.updateSettings(
      id,
      { webhookUrl: input.url, ...(input.timeoutMs !== undefined && { webhookTimeoutMs: input.timeoutMs }) },
      this.nowIso(),
    )) as NumberRecord;
    if (updated.webhookUrl !== null) for (const l of this.webhookListeners) l(id);
    return updated;
  }

  async setOverage(id: string, enabled: boolean): Promise<NumberRecord> {
    this.get(id);
    return (await this.repo.updateSettings(id, { overageEnabled: enabled }, this.nowIso())) as NumberRecord;
  }

  async rotateWebhookSecret(id: string): Promise<NumberRecord> {
    this.get(id);
    return (await this.repo.setWebhookSecret(id, newWebhookSecret(), this.nowIso())) as NumberRecord;
  }
}

function assertWebhookUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError('url: must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ValidationError('url: must use http or https');
  }
}
