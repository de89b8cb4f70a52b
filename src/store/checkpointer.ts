import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/index.ts';
import type { Db } from './db.ts';

// Runs in its own thread with its own connection: a checkpoint copies WAL pages into the
// database file and fsyncs it, which can take tens of milliseconds on a busy disk. Done on
// the main thread (SQLite's auto-checkpoint, inside some unlucky commit) it stalls every
// request behind it; here it only shares the disk.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Moves WAL checkpoints off the main thread. While it runs, the main connection does not
 * checkpoint by itself; if the thread fails, the main connection takes checkpoints back.
 */
export class WalCheckpointer {
  /** False once the thread has exited (stopped, or failed): its 'exit' will not come again. */
  private running = true;

  private constructor(
    private readonly db: Db,
    private readonly worker: Worker,
  ) {}

  static start(db: Db, logger: Logger, intervalMs = 1000): WalCheckpointer {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: db.name, driver: createRequire(import.meta.url).resolve('better-sqlite3'), intervalMs },
    });
    worker.unref();
    db.pragma('wal_autocheckpoint = 0');
    const log = logger.child({ mod: 'store' });
    const fallBack = (reason: string) => {
      if (!db.open) return;
      db.pragma('wal_autocheckpoint = 1000');
      log.warn({ reason }, 'WAL checkpoints are back on the main thread');
    };
    worker.on('message', (m: { error?: string }) => log.warn({ reason: m.error }, 'WAL checkpoint failed'));
    worker.on('error', (err) => fallBack(err.message));
    worker.on('exit', (code) => {
      if (code !== 0) fallBack(`checkpoint thread exited with ${code}`);
    });
    const checkpointer = new WalCheckpointer(db, worker);
    worker.once('exit', () => (checkpointer.running = false));
    return checkpointer;
  }

  /** Stops the thread and folds the whole WAL into the database (the main connection, last). */
  async stop(): Promise<void> {
    if (this.running) {
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      // The thread is unref'd so it never holds the process open, but while it winds down it
      // is all that does: a stop right after start (a failed start-up) otherwise let Node
      // exit mid-await with code 13 and nothing said.
      this.worker.ref();
      this.worker.postMessage('stop');
      await exited;
    }
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('wal_autocheckpoint = 1000');
    }
  }
}
