import type { Db } from './db.ts';
import { SecretBox } from './secret-box.ts';

export interface NumberRecord {
  id: string;
  phoneNumber: string;
  lineId: string | null;
  label: string | null;
  webhookUrl: string | null;
  webhookSecret: string;
  webhookTimeoutMs: number;
  overageEnabled: boolean;
  status: 'active' | 'inactive';
  createdAt: string;
  updatedAt: string;
}

interface NumberRow {
  id: string;
  phone_number: string;
  line_id: string | null;
  label: string | null;
  webhook_url: string | null;
  webhook_secret: string;
  webhook_timeout_ms: number;
  overage_enabled: number;
  status: 'active' | 'inactive';
  created_at: string;
  updated_at: string;
}

export interface NumberSettingsPatch {
  label?: string | null;
  webhookUrl?: string | null;
  webhookTimeoutMs?: number;
  overageEnabled?: boolean;
}

const COLUMNS = `id, phone_number, line_id, label, webhook_url, webhook_secret, webhook_timeout_ms,
  overage_enabled, status, created_at, updated_at`;

function toRecord(row: NumberRow, box: SecretBox): NumberRecord {
  return {
    id: row.id,
    phoneNumber: row.phone_number,
    lineId: row.line_id,
    label: row.label,
    webhookUrl: row.webhook_url,
    webhookSecret: box.open(row.webhook_secret, row.id),
    webhookTimeoutMs: row.webhook_timeout_ms,
    overageEnabled: row.overage_enabled === 1,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Records by id, per connection, so every repository on one connection sees the others' writes.
 * Filled only outside a transaction (never with a row a rollback could take back) and emptied by
 * every write here; the numbers table has one row per SIM, so it stays small. The gateway is
 * the only writer while it runs (gateway.lock), so no other connection changes a cached row.
 */
const recordsByDb = new WeakMap<Db, Map<string, NumberRecord>>();

/**
 * Phone numbers and the line each is bound to. Rows are keyed by the E.164 number. Webhook
 * secrets go through `box`: sealed on write when a key is configured, opened on read.
 */
export class NumbersRepository {
  private readonly stmts;
  private readonly records: Map<string, NumberRecord>;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox = new SecretBox(),
  ) {
    let records = recordsByDb.get(db);
    if (!records) recordsByDb.set(db, (records = new Map()));
    this.records = records;
    this.stmts = {
      all: db.prepare<[], NumberRow>(`SELECT ${COLUMNS} FROM numbers ORDER BY phone_number`),
      byId: db.prepare<[string], NumberRow>(`SELECT ${COLUMNS} FROM numbers WHERE id = ?`),
      byPhone: db.prepare<[string], NumberRow>(`SELECT ${COLUMNS} FROM numbers WHERE phone_number = ?`),
      byLine: db.prepare<[string], NumberRow>(`SELECT ${COLUMNS} FROM numbers WHERE line_id = ?`),
      unbindLine: db.prepare<[string, string, string]>(
        `UPDATE numbers SET line_id = NULL, status = 'inactive', updated_at = ? WHERE line_id = ? AND phone_number <> ?`,
      ),
      insert: db.prepare(
        `INSERT INTO numbers (id, phone_number, line_id, webhook_secret, status, created_at, updated_at)
         VALUES (@id, @phoneNumber, @lineId, @webhookSecret, 'active', @now, @now)`,
      ),
      bind: db.prepare<[string, string, string]>(
        `UPDATE numbers SET line_id = ?, status = 'active', updated_at = ? WHERE phone_number = ?`,
      ),
      update: db.prepare(
        `UPDATE numbers SET label = @label, webhook_url = @webhookUrl, webhook_timeout_ms = @webhookTimeoutMs,
           overage_enabled = @overageEnabled, updated_at = @now WHERE id = @id`,
      ),
      secret: db.prepare<[string, string, string]>(`UPDATE numbers SET webhook_secret = ?, updated_at = ? WHERE id = ?`),
      secrets: db.prepare<[], { id: string; webhook_secret: string }>(`SELECT id, webhook_secret FROM numbers`),
      reseal: db.prepare<[string, string]>(`UPDATE numbers SET webhook_secret = ? WHERE id = ?`),
    };
  }

  list(): NumberRecord[] {
    return this.stmts.all.all().map((row) => toRecord(row, this.box));
  }

  /** Read on every API request (the send path), so served from memory after the first read. */
  get(id: string): NumberRecord | undefined {
    const cached = this.records.get(id);
    if (cached) return { ...cached };
    const row = this.stmts.byId.get(id);
    if (!row) return undefined;
    const record = toRecord(row, this.box);
    if (!this.db.inTransaction) this.records.set(id, record);
    return { ...record };
  }

  getByPhone(phoneNumber: string): NumberRecord | undefined {
    const row = this.stmts.byPhone.get(phoneNumber);
    return row && toRecord(row, this.box);
  }

  getByLine(lineId: string): NumberRecord | undefined {
    const row = this.stmts.byLine.get(lineId);
    return row && toRecord(row, this.box);
  }

  /**
   * Records that `phoneNumber` is reachable on `lineId` (a SIM found in a modem, or a virtual
   * line). A number keeps its id when its SIM moves to another modem; a line that now carries
   * another SIM releases its old number.
   */
  bindLine(input: { phoneNumber: string; lineId: string; newId: string; newSecret: string; now: string }): NumberRecord {
    this.records.clear();
    return this.db.transaction(() => {
      this.stmts.unbindLine.run(input.now, input.lineId, input.phoneNumber);
      if (this.stmts.byPhone.get(input.phoneNumber)) {
        this.stmts.bind.run(input.lineId, input.now, input.phoneNumber);
      } else {
        this.stmts.insert.run({
          id: input.newId,
          phoneNumber: input.phoneNumber,
          lineId: input.lineId,
          webhookSecret: this.box.seal(input.newSecret, input.newId),
          now: input.now,
        });
      }
      return toRecord(this.stmts.byPhone.get(input.phoneNumber) as NumberRow, this.box);
    })();
  }

  updateSettings(id: string, patch: NumberSettingsPatch, now: string): NumberRecord | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    this.records.clear();
    this.stmts.update.run({
      id,
      label: patch.label === undefined ? current.label : patch.label,
      webhookUrl: patch.webhookUrl === undefined ? current.webhookUrl : patch.webhookUrl,
      webhookTimeoutMs: patch.webhookTimeoutMs ?? current.webhookTimeoutMs,
      overageEnabled: (patch.overageEnabled ?? current.overageEnabled) ? 1 : 0,
      now,
    });
    return this.get(id);
  }

  setWebhookSecret(id: string, secret: string, now: string): NumberRecord | undefined {
    this.records.clear();
    this.stmts.secret.run(this.box.seal(secret, id), now, id);
    return this.get(id);
  }

  /**
   * Run at start: opens every stored secret, so a wrong or missing key stops the gateway there
   * (never a delivery signed with garbage later), and with a key seals the plaintext ones left
   * from before it was configured, in one transaction. Returns how many were sealed.
   */
  sealSecrets(): number {
    this.records.clear();
    return this.db.transaction(() => {
      let sealed = 0;
      for (const row of this.stmts.secrets.all()) {
        const plain = this.box.open(row.webhook_secret, row.id);
        if (this.box.sealing && !SecretBox.isSealed(row.webhook_secret)) {
          this.stmts.reseal.run(this.box.seal(plain, row.id), row.id);
          sealed++;
        }
      }
      return sealed;
    }).immediate();
  }
}
