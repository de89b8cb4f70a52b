/**
 * Media bytes in the store's media_blobs table, written in the message's transaction: every
 * node of a cluster serves every medium, and the store's backup holds them. One copy per media
 * row (not per content as files are), going with its row (ON DELETE CASCADE).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/index.ts';
import type { MediaRow } from '../mms-repository.ts';
import { SqlMediaStore, type FoundMedia, type StagedMedia } from './media-store.ts';

export class DatabaseMediaStore extends SqlMediaStore {
  readonly kind = 'database';

  protected async stage(): Promise<void> {
    // Nothing outside the transaction: the bytes go in with the row (keep).
  }

  protected async keep(staged: StagedMedia, tx: Kysely<Database>): Promise<void> {
    await tx.insertInto('media_blobs').values({ media_id: staged.id, data: Buffer.from(staged.data.buffer, staged.data.byteOffset, staged.data.byteLength) }).execute();
  }

  /**
   * The row's blob; a row without one was stored as a file (before media.store was "database",
   * or copied by a restore) and is served from this node's media directory, as before.
   */
  protected bytes(row: MediaRow): Pick<FoundMedia, 'body' | 'read'> {
    const path = this.pathOf(row.sha256);
    const blob = async (): Promise<Buffer | undefined> =>
      (await this.o.store.db.selectFrom('media_blobs').select('data').where('media_id', '=', row.id).executeTakeFirst())?.data;
    return {
      body: async (): Promise<Readable | Buffer> => (await blob()) ?? createReadStream(path),
      read: async () => (await blob()) ?? readFile(path),
    };
  }
}
