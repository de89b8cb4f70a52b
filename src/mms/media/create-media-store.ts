import { DatabaseMediaStore } from './database-media-store.ts';
import { FileMediaStore } from './file-media-store.ts';
import type { MediaStore, MediaStoreKind, MediaStoreOptions } from './media-store.ts';

/** media.store resolved: "auto" is files on the embedded SQLite store, database on PostgreSQL. */
export function mediaStoreKind(config: { media: { store: 'auto' | MediaStoreKind }; store: { postgres: { url: string | null } } }): MediaStoreKind {
  if (config.media.store !== 'auto') return config.media.store;
  return config.store.postgres.url === null ? 'files' : 'database';
}

export function createMediaStore(kind: MediaStoreKind, options: MediaStoreOptions): MediaStore {
  return kind === 'database' ? new DatabaseMediaStore(options) : new FileMediaStore(options);
}
