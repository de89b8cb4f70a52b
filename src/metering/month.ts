/** The ledger month (UTC) of an instant: "2026-11". */
export function ledgerMonth(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

export function isLedgerMonth(value: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(value);
}
