import type { Migration } from '../../migrations/types.ts';

/** SQLite migration 021 (media bytes for media.store "database"), in PostgreSQL's types. */
export const pgMigration004: Migration = {
  version: 4,
  name: 'media-blobs',
  up: `
    CREATE TABLE media_blobs (
      media_id  text COLLATE "C" PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
      data      bytea NOT NULL
    );
  `,
};
