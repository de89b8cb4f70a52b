/**
 * bench:conversations — what migration 017 costs and buys. Writes: messages inserted in
 * transactions of 32 (as the send path's group commit does) on a store without migration 017
 * and on one with its triggers, alternating rounds in the same run; prints the ratio. Reads: with
 * BENCH_MESSAGES (default 100,000) on one number over BENCH_CONTACTS (default 1,000) contacts,
 * a conversation list page, a later page and a thread page, against grouping the number's
 * messages by contact (what a list without the conversations table has to do).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newMessageId } from '../src/ids/index.ts';
import { ConversationsRepository, MIGRATIONS, MessagesRepository, openDatabase, sqliteSqlStore, type Database, type Db, type SqlStore } from '../src/store/index.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000);
const WRITES = Number(process.env.BENCH_WRITES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 32;
const START = Date.UTC(2026, 0, 1);

function store(migrations: typeof MIGRATIONS): { db: Db; store: SqlStore<Database>; messages: MessagesRepository; close: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-conversations-'));
  const db = openDatabase(join(dir, 'agentphone.db'), { migrations });
  db.prepare(`INSERT INTO numbers (id, phone_number, webhook_secret, created_at, updated_at) VALUES ('num_a', '+15550000001', 'x', 'x', 'x')`).run();
  const sqlStore = sqliteSqlStore<Database>(db);
  return {
    db,
    store: sqlStore,
    messages: new MessagesRepository(sqlStore.db),
    close: async () => {
      await sqlStore.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Inserts `count` messages in transactions of BATCH; microseconds per message. */
async function write(s: { store: SqlStore<Database>; messages: MessagesRepository }, count: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < count; b += BATCH) {
    await s.store.tx(async (tx) => {
      const messages = s.messages.on(tx);
      for (let i = b; i < Math.min(count, b + BATCH); i++) {
        const at = START + i * 1000;
        await messages.insert({
          id: newMessageId(at),
          numberId: 'num_a',
          direction: i % 2 === 0 ? 'outbound' : 'inbound',
          channel: 'sms',
          contact: `+1555${String((i * 7919) % CONTACTS).padStart(7, '0')}`,
          body: 'hello there',
          media: [],
          status: 'sent',
          encoding: 'gsm7',
          segments: 1,
          createdAt: new Date(at).toISOString(),
        });
      }
    });
  }
  return Number(process.hrtime.bigint() - t0) / 1e3 / count;
}

async function timeUs(fn: () => unknown, reps: number): Promise<number> {
  await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / reps;
}

const before = MIGRATIONS.filter((m) => m.version < 17);
const best = { without: Infinity, with: Infinity };
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, migrations] of [['without', before], ['with', MIGRATIONS]] as const) {
    const s = store(migrations);
    best[name] = Math.min(best[name], await write(s, WRITES));
    await await s.close();
  }
}
console.log(`writes (${WRITES} messages, ${BATCH} per transaction, best of ${ROUNDS}): ${best.without.toFixed(1)} µs/message before 017, ${best.with.toFixed(1)} with its triggers: ×${(best.with / best.without).toFixed(2)}`);

const s = store(MIGRATIONS);
await write(s, MESSAGES);
const conversations = new ConversationsRepository(s.store.db);
const deep = (await conversations.list('num_a', undefined, 500)).at(-1);
const grouped = s.db.prepare(`SELECT contact, MAX(created_at) AS last FROM messages WHERE number_id = 'num_a' GROUP BY contact ORDER BY last DESC LIMIT 21`);
const reads: [string, number][] = [
  ['list, first page', await timeUs(() => conversations.list('num_a', undefined, 21), 500)],
  ['list, page after 500', await timeUs(() => deep && conversations.list('num_a', { at: deep.lastActivity, key: deep.contact }, 21), 500)],
  ['thread, first page', await timeUs(() => conversations.threadMessages('num_a', '+15550000007', undefined, 21), 500)],
  ['GROUP BY the messages', await timeUs(() => grouped.all(), 5)],
];
console.log(`reads (${MESSAGES} messages, ${CONTACTS} contacts on one number):`);
const base = reads[3]![1];
for (const [name, us] of reads) console.log(`  ${name.padEnd(24)} ${us.toFixed(0).padStart(8)} µs  (${(base / us).toFixed(0)}× faster than grouping)`);
await s.close();
