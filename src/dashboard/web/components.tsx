import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Delivery } from './api.ts';

export interface Async<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
  set: (data: T) => void;
}

/** Loads `load()` now and again whenever `deps` change; keeps the last data while reloading. */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[] = []): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (!live) return;
        setError(messageOf(err));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, set: setData };
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export function ErrorNote({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <p>{children}</p>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{title}</h1>
      {children && <div class="page-actions">{children}</div>}
    </header>
  );
}

/** 0–4 bars from the GSM RSSI index (0–31, 99 = unknown). */
export function signalBars(signal: { rssi: number; dbm: number } | null): number {
  if (!signal || signal.rssi === 99 || signal.rssi < 0) return 0;
  if (signal.rssi >= 20) return 4;
  if (signal.rssi >= 15) return 3;
  if (signal.rssi >= 10) return 2;
  return signal.rssi >= 2 ? 1 : 0;
}

export function SignalBars({ signal }: { signal: { rssi: number; dbm: number } | null }) {
  const bars = signalBars(signal);
  const label = signal ? `Signal ${bars} of 4 bars (${signal.dbm} dBm)` : 'Signal unknown';
  return (
    <span class="signal" role="img" aria-label={label} title={label}>
      {[1, 2, 3, 4].map((b) => (
        <span key={b} class={b <= bars ? 'bar on' : 'bar'} style={{ height: `${b * 25}%` }} />
      ))}
    </span>
  );
}

/** Delivery ticks as in a phone's messages app: ✓ sent, ✓✓ delivered. */
export function Ticks({ status }: { status: string }) {
  const map: Record<string, [string, string]> = {
    queued: ['🕓', 'Queued'],
    sending: ['🕓', 'Sending'],
    sent: ['✓', 'Sent'],
    delivered: ['✓✓', 'Delivered'],
    failed: ['!', 'Failed'],
    received: ['', 'Received'],
  };
  const [mark, label] = map[status] ?? ['', status];
  if (!mark) return null;
  return (
    <span class={`ticks ticks-${status}`} role="img" aria-label={label} title={label}>
      {mark}
    </span>
  );
}

export function Badge({ kind, children }: { kind: 'ok' | 'warn' | 'bad' | 'info'; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function Time({ iso }: { iso: string | null }) {
  if (!iso) return <span class="muted">—</span>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={d.toISOString()}>
      {d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
    </time>
  );
}

/** The cells every webhook-delivery table starts with: event, status, attempts, last response. */
export function DeliveryCells({ delivery: d }: { delivery: Delivery }) {
  return (
    <>
      <td data-label="Event">{d.event}</td>
      <td data-label="Status">
        <Badge kind={d.status === 'delivered' ? 'ok' : d.status === 'dead' ? 'bad' : 'warn'}>{d.status}</Badge>
      </td>
      <td data-label="Attempts">{d.attempts}</td>
      <td data-label="Response">{d.lastStatus ?? d.lastError ?? '—'}</td>
    </>
  );
}

/** A modal confirmation on the native <dialog> (focus trapped, Escape cancels). */
export function Confirm({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={(e) => (e.preventDefault(), onCancel())}>
      <h2 id="confirm-title">{title}</h2>
      <div>{children}</div>
      <div class="row end">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
