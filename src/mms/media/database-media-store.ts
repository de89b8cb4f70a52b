/**
 * Media bytes in the store's media_blobs table, written in the message's transaction: every
 * node of a cluster serves every medium, and the store's backup holds them. One copy per media
 * row (not per content as files are), going with its row (ON DELETE CASCADE).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/index.ts';
import type { MediaRow } from '../mms-repository.ts';
import { SqlMediaStore, type StagedMedia } from './media-store.ts';

export class DatabaseMediaStore extends SqlMediaStore {
  readonly kind = 'database';

  protected async stage(): Promise<void> {
    // Nothing outside the transaction: the bytes go in with the row (keep).
  }

  protected async keep(staged: StagedMedia, tx: Kysely<Database>): Promise<void> {
    const data = Buffer.from(staged.data.buffer, staged.data.byteOffset, staged.data.byteLength);
    await tx.insertInto('media_blobs').values({ media_id: staged.id, data }).execute();
  }

  /**
   * The row's blob. A row without one was stored as a file (before media.store was "database",
   * or by a restore) and lookup serves it from this node's media directory, as before.
   */
  protected async storedBytes(row: MediaRow): Promise<Buffer | undefined> {
    const blob = await this.o.store.db.selectFrom('media_blobs').select('data').where('media_id', '=', row.id).executeTakeFirst();
    return blob?.data;
  }
}
