/** Opt-out wire shapes: the store's records as the admin API returns them, shared by the CLI and the dashboard (no runtime imports). */

export type OptOutState = 'opted_out' | 'opted_in';
/** keyword: the contact texted it; admin: the admin API (CLI, dashboard). */
export type OptOutSource = 'keyword' | 'admin';

/** A (number, contact)'s current opt-out state. */
export interface OptOutRecord {
  numberId: string;
  contact: string;
  state: OptOutState;
  source: OptOutSource;
  /** The keyword as matched (upper case), for source keyword. */
  keyword: string | null;
  /** Who changed it: `contact`, or what the admin call named (`cli:alice`, `dashboard`, `admin-api`). */
  actor: string;
  updatedAt: string;
}

/** One change in the audit history. */
export interface OptOutAuditRecord extends Pick<OptOutRecord, 'numberId' | 'contact' | 'source' | 'keyword' | 'actor'> {
  id: number;
  action: 'opt_out' | 'opt_in';
  note: string | null;
  at: string;
}
