import type { Migration } from './types.ts';

/**
 * The bytes of stored media, for media.store "database" (every node of a cluster serves every
 * medium): one row per media row, going with it (ON DELETE CASCADE), so a purge or an expiry
 * that deletes the media row deletes its bytes in the same statement. Not deduplicated by
 * content as the files are: a row's bytes live and die with it, and no node has to ask whether
 * another still needs them. Media stored as files have no row here.
 */
export const migration021: Migration = {
  version: 21,
  name: 'media-blobs',
  up: `
    CREATE TABLE media_blobs (
      media_id  TEXT PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
      data      BLOB NOT NULL
    );
  `,
};
