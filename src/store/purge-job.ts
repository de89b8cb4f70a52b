/** The gateway's retention job: every purgeIntervalMinutes, what is older than the retention settings is purged. */
import type { RetentionConfig } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import type { Database } from './sql/database.ts';
import type { SqlStore } from './sql/sql-store.ts';
import { purgeStored, retentionCutoffs, type PurgeCounts } from './retention.ts';

export interface PurgeJobDeps {
  store: SqlStore<Database>;
  mediaDir: string;
  retention: Readonly<RetentionConfig>;
  now: () => number;
  logger: Logger;
}

export class PurgeJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PurgeCounts | undefined> | undefined;
  private readonly log: Logger;

  constructor(private readonly d: PurgeJobDeps) {
    this.log = d.logger.child({ mod: 'retention' });
  }

  /** Nothing to do when both messages and transcripts are kept forever. */
  get enabled(): boolean {
    return this.d.retention.messagesDays > 0 || this.d.retention.callTranscriptsDays > 0;
  }

  /** Runs once now, then on the interval (unref'd: it never keeps the process up). */
  start(): void {
    if (!this.enabled || this.timer) return;
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.d.retention.purgeIntervalMinutes * 60_000);
    this.timer.unref();
  }

  /** One purge; a run already under way is joined, not doubled. Failures are logged, never thrown. */
  runOnce(): Promise<PurgeCounts | undefined> {
    this.running ??= purgeStored(this.d.store, this.d.mediaDir, retentionCutoffs(this.d.retention, this.d.now()))
      .then((counts) => {
        this.log.info({ ...counts }, 'retention purge done');
        return counts;
      })
      .catch((err: unknown) => {
        this.log.error({ err }, 'retention purge failed');
        return undefined;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
