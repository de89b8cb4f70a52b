/** Media bytes as content-addressed files under <dataDir>/media: served only by the node that wrote them. */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MediaRow } from '../mms-repository.ts';
import { SqlMediaStore, type FoundMedia } from './media-store.ts';

export class FileMediaStore extends SqlMediaStore {
  readonly kind = 'files';

  /** Written once per content, before the row: a rollback leaves at most a file no row points at. */
  protected async stage(staged: { sha256: string; data: Uint8Array }): Promise<void> {
    const path = this.pathOf(staged.sha256);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Write-then-rename: a reader never sees half a file, and equal content lands once.
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, staged.data, { mode: 0o600 });
    await rename(tmp, path);
  }

  protected async keep(): Promise<void> {
    // The file is already in place (stage).
  }

  protected bytes(row: MediaRow): Pick<FoundMedia, 'body' | 'read'> & { path: string } {
    const path = this.pathOf(row.sha256);
    return { path, body: () => Promise.resolve(createReadStream(path)), read: () => readFile(path) };
  }

  override async lookup(id: string): Promise<(FoundMedia & { path: string }) | undefined> {
    return (await super.lookup(id)) as (FoundMedia & { path: string }) | undefined;
  }
}
