import type { Db } from './db.ts';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Thrown through the batch's transaction to roll it back (one object: no stack captured per batch). */
const unitFailed = new Error('a unit failed');

interface Pending<T> {
  work: () => T;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: units of work submitted in the same turn of the event loop run in one SQLite
 * transaction, and their promises settle only after that one
 * commit. A unit that throws is rolled back alone; a failed commit fails them all. Under
 * load this turns N commits into one without making any caller wait longer than a tick.
 * A unit may run twice (the first run rolled back) when another unit in its batch throws, so
 * units keep their effects inside the database.
 */
export class GroupCommit {
  private pending: Array<Pending<unknown>> = [];
  private scheduled = false;
  /** The batch's transaction, wrapped once (better-sqlite3 builds a wrapper per transaction() call). */
  private readonly inTransaction: (run: () => void) => void;

  constructor(private readonly db: Db) {
    this.inTransaction = db.transaction((run: () => void) => run());
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    // Optimistic: the whole batch in one transaction without a savepoint per unit (two
    // statements each). A unit that throws is rare (input is checked before it writes): then
    // the batch is rolled back and run again, each unit in its own savepoint.
    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch(batch, false) ?? (this.runBatch(batch, true) as Outcome[]);
    } catch (error) {
      for (const unit of batch) unit.reject(error); // the commit itself failed
      return;
    }
    batch.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }

  /** Runs and commits the batch; undefined when a unit threw without savepoints (all rolled back). */
  private runBatch(batch: Array<Pending<unknown>>, isolated: boolean): Outcome[] | undefined {
    const outcomes: Outcome[] = [];
    try {
      this.inTransaction(() => {
        for (const unit of batch) {
          if (isolated) {
            try {
              outcomes.push({ ok: true, value: this.db.transaction(unit.work)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          } else {
            try {
              outcomes.push({ ok: true, value: unit.work() });
            } catch {
              throw unitFailed;
            }
          }
        }
      });
    } catch (error) {
      if (error === unitFailed) return undefined;
      throw error;
    }
    return outcomes;
  }
}
