import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import { StoreError } from '../../errors/index.ts';
import type { Db } from '../db.ts';
import { mediaFilePath } from '../retention.ts';

export interface MediaFilesCopy {
  /** Media rows whose file was copied into media_blobs. */
  readonly copied: number;
  readonly bytes: number;
  /** Media rows with no file under the media directory (expired or purged files): left without bytes, as they were. */
  readonly missing: number;
}

/**
 * Copies the media files of a SQLite store's rows (those without a media_blobs row) into the
 * target's media_blobs, on `trx` (migrate-store's one transaction): the target then serves every
 * medium from any node (media.store "database"). One file in memory at a time; a file whose size
 * is not its row's is refused before it is read, and one whose content is not its hash after.
 */
export async function copyMediaFilesToBlobs<DB>(source: Db, trx: Kysely<DB>, mediaDir: string): Promise<MediaFilesCopy> {
  const rows = source.prepare<[], { id: string; sha256: string; size: number }>('SELECT id, sha256, size FROM media WHERE id NOT IN (SELECT media_id FROM media_blobs) ORDER BY id');
  let copied = 0;
  let bytes = 0;
  let missing = 0;
  for (const row of rows.iterate()) {
    const path = mediaFilePath(mediaDir, row.sha256);
    const size = statSync(path, { throwIfNoEntry: false })?.size;
    if (size === undefined) {
      missing++;
      continue;
    }
    if (size !== row.size) throw new StoreError(`The media file ${path} is ${size} bytes but its row (media ${row.id}) says ${row.size}; nothing was copied`);
    const data = readFileSync(path);
    if (createHash('sha256').update(data).digest('hex') !== row.sha256) throw new StoreError(`The media file ${path} does not match its hash; nothing was copied`);
    await sql`insert into media_blobs (media_id, data) values (${row.id}, ${data})`.execute(trx);
    copied++;
    bytes += size;
  }
  return { copied, bytes, missing };
}
