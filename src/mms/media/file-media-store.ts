/** Media bytes as content-addressed files under <dataDir>/media: served only by the node that wrote them. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SqlMediaStore, type StagedMedia } from './media-store.ts';

export class FileMediaStore extends SqlMediaStore {
  readonly kind = 'files';

  /** Written once per content, before the row: a rollback leaves at most a file no row points at. */
  protected async stage(staged: StagedMedia): Promise<void> {
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

  protected async storedBytes(): Promise<undefined> {
    // Only files: lookup reads the row's file.
    return undefined;
  }
}
