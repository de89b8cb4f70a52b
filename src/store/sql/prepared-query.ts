import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import { directExecutorOf } from './direct-executor.ts';

/** Stands for argument `name` while the query is built once: a string no caller sends. */
const MARK = '\u0000agentphone-arg\u0000';

type Slot = { arg: string } | { value: unknown };

interface Compiled {
  readonly template: CompiledQuery;
  readonly slots: readonly Slot[];
}

/**
 * A query of the send path built and compiled once per dialect, then run with new arguments.
 * Building and compiling a Kysely query costs more CPU than SQLite takes to run a small
 * statement; the hot queries skip it. `build` receives an object with a stand-in for each of
 * `names` and must only place them as values (no branching on them, no computing with them):
 * compute in the caller and pass the result as an argument.
 */
export class PreparedQuery<DB, A extends Record<string, unknown>, R> {
  /** Per dialect: the compiled SQL differs between SQLite and PostgreSQL. */
  readonly #byAdapter = new Map<unknown, Compiled>();

  constructor(
    private readonly names: ReadonlyArray<keyof A & string>,
    private readonly build: (db: Kysely<DB>, args: A) => Compilable<R>,
  ) {}

  async execute(db: Kysely<DB>, args: A): Promise<R[]> {
    const compiled = this.#compiled(db);
    const parameters = compiled.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    const direct = directExecutorOf(db);
    if (direct) return direct(compiled.template.sql, parameters) as R[];
    const { rows } = await db.executeQuery<R>({ ...compiled.template, parameters });
    return rows;
  }

  #compiled(db: Kysely<DB>): Compiled {
    const adapter = db.getExecutor().adapter.constructor;
    let compiled = this.#byAdapter.get(adapter);
    if (compiled === undefined) {
      const byStand = new Map(this.names.map((name) => [`${MARK}${name}`, name]));
      const template = this.build(db, Object.fromEntries([...byStand].map(([stand, name]) => [name, stand])) as A).compile();
      const slots = template.parameters.map((p): Slot => {
        const arg = typeof p === 'string' ? byStand.get(p) : undefined;
        return arg === undefined ? { value: p } : { arg };
      });
      // A stand-in that reached the SQL text, or was changed on its way, was not placed as a value.
      if (template.sql.includes(MARK) || slots.some((s) => 'value' in s && typeof s.value === 'string' && s.value.includes(MARK))) {
        throw new Error('PreparedQuery: an argument was used other than as a value');
      }
      compiled = { template, slots };
      this.#byAdapter.set(adapter, compiled);
    }
    return compiled;
  }
}
