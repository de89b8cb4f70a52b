import type { AdminResponse } from './admin-client.ts';
import type { CliIo } from './command.ts';

/**
 * Prints an admin API answer: with --json exactly one JSON document (the error body on
 * failure), otherwise `human(body)` or the error message. Returns the exit code.
 */
export function report(io: CliIo, json: boolean, res: AdminResponse, human: (body: never) => string): number {
  const failed = res.status >= 400;
  if (json) {
    io.stdout(`${JSON.stringify(res.body, null, 2)}\n`);
  } else if (failed) {
    const b = res.body as { error?: string; message?: string };
    io.stderr(`error: ${b.message ?? b.error ?? `HTTP ${res.status}`}\n`);
  } else {
    io.stdout(`${human(res.body as never)}\n`);
  }
  return failed ? 1 : 0;
}

/** A fixed-width table for human output. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
