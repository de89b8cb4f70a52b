import { AsyncResource } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import type { Database } from './sql/database.ts';
import type { SqlStore } from './sql/sql-store.ts';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Thrown through the batch's transaction to roll it back (one object: no stack captured per batch). */
const unitFailed = new Error('a unit failed');

/** A unit of work: database work only, on the batch's transaction. */
export type Unit<T> = (tx: Kysely<Database>) => Promise<T>;

interface Pending<T> {
  work: Unit<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: units of work submitted in the same turn of the event loop run one after the
 * other in one transaction, and their promises settle only after that one commit. A unit that
 * throws is rolled back alone; a failed commit fails them all. Under load this turns N commits
 * into one without making any caller wait longer than a tick. A unit may run twice (the first
 * run rolled back) when another unit in its batch throws, so units keep their effects inside
 * the database. Batches run one at a time: units submitted while one commits wait for the next.
 */
export class GroupCommit {
  private pending: Array<Pending<unknown>> = [];
  private scheduled = false;
  /** The batch in flight (SQLite has one connection: two batches at once would only queue). */
  private running: Promise<void> = Promise.resolve();
  /** Batches run in the context GroupCommit was built in, not in whichever caller's came first. */
  private readonly outside = new AsyncResource('GroupCommit');

  constructor(private readonly store: SqlStore<Database>) {}

  run<T>(work: Unit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.outside.runInAsyncScope(() =>
          setImmediate(() => {
            this.running = this.running.then(() => this.flush());
          }),
        );
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    // Optimistic: the whole batch in one transaction without a savepoint per unit (two
    // statements each). A unit that throws is rare (input is checked before it writes): then
    // the batch is rolled back and run again, each unit in its own savepoint.
    let outcomes: Outcome[];
    try {
      outcomes = (await this.runBatch(batch, false)) ?? ((await this.runBatch(batch, true)) as Outcome[]);
    } catch (error) {
      for (const unit of batch) unit.reject(error); // the transaction itself failed
      return;
    }
    batch.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }

  /** Runs and commits the batch; undefined when a unit threw without savepoints (all rolled back). */
  private async runBatch(batch: Array<Pending<unknown>>, isolated: boolean): Promise<Outcome[] | undefined> {
    try {
      return await this.store.tx(async (tx) => {
        const outcomes: Outcome[] = [];
        for (const unit of batch) {
          if (!isolated) {
            try {
              outcomes.push({ ok: true, value: await unit.work(tx) });
            } catch {
              throw unitFailed;
            }
            continue;
          }
          await sql`SAVEPOINT unit`.execute(tx);
          try {
            outcomes.push({ ok: true, value: await unit.work(tx) });
            await sql`RELEASE SAVEPOINT unit`.execute(tx);
          } catch (error) {
            // Undo this unit alone; RELEASE then drops the savepoint so the next unit's is fresh.
            await sql`ROLLBACK TO SAVEPOINT unit`.execute(tx);
            await sql`RELEASE SAVEPOINT unit`.execute(tx);
            outcomes.push({ ok: false, error });
          }
        }
        return outcomes;
      });
    } catch (error) {
      if (error === unitFailed) return undefined;
      throw error;
    }
  }
}
