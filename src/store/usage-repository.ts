import type { Db } from './db.ts';

/** The monthly usage ledger: units per (number, month, kind) and per (API key, month, kind). */
export class UsageRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      add: db.prepare<[string, string, string, number]>(
        `INSERT INTO usage_ledger (number_id, month, kind, units) VALUES (?, ?, ?, ?)
         ON CONFLICT (number_id, month, kind) DO UPDATE SET units = units + excluded.units`,
      ),
      get: db.prepare<[string, string], { kind: string; units: number }>(
        'SELECT kind, units FROM usage_ledger WHERE number_id = ? AND month = ?',
      ),
      addKey: db.prepare<[string, string, string, number]>(
        `INSERT INTO key_usage_ledger (api_key_id, month, kind, units) VALUES (?, ?, ?, ?)
         ON CONFLICT (api_key_id, month, kind) DO UPDATE SET units = units + excluded.units`,
      ),
      getKey: db.prepare<[string, string], { kind: string; units: number }>(
        'SELECT kind, units FROM key_usage_ledger WHERE api_key_id = ? AND month = ?',
      ),
    };
  }

  add(numberId: string, month: string, kind: string, units: number): void {
    this.stmts.add.run(numberId, month, kind, units);
  }

  forNumber(numberId: string, month: string): Record<string, number> {
    return Object.fromEntries(this.stmts.get.all(numberId, month).map((r) => [r.kind, r.units]));
  }

  addForKey(apiKeyId: string, month: string, kind: string, units: number): void {
    this.stmts.addKey.run(apiKeyId, month, kind, units);
  }

  forKey(apiKeyId: string, month: string): Record<string, number> {
    return Object.fromEntries(this.stmts.getKey.all(apiKeyId, month).map((r) => [r.kind, r.units]));
  }
}
