import { join } from 'node:path';
// Module files, not the barrels: the CLI's offline path loads only what it uses.
import { ADMIN_TOKEN_FILE, ensureAdminToken } from './auth/admin-token.ts';
import { secretsKeyBytes, type Config } from './config/index.ts';
import { ensurePrivateDir, looseModes, MEDIA_DIR, mediaDir } from './store/data-dir.ts';
import { DATABASE_FILE, DATABASE_FILES, openDatabase, type Db } from './store/db.ts';
import { NumbersRepository } from './store/numbers-repository.ts';
import { SecretBox } from './store/secret-box.ts';

/** What opening the store reports (a pino Logger is one; the CLI's offline path passes a silent one without loading pino). */
export interface StoreLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

/** The data dir entries made private (0600/0700): what opening the store and `agentphone doctor` check the modes of. */
export const PRIVATE_ENTRIES: readonly string[] = [...DATABASE_FILES, ADMIN_TOKEN_FILE, MEDIA_DIR];

export interface CoreStore {
  db: Db;
  adminToken: string;
  numbersRepo: NumbersRepository;
}

/**
 * The data dir opened as every use of it starts: private dirs, the database migrated, the admin
 * token (made on first use), webhook secrets sealed. The gateway's core is built on it; the CLI's
 * offline admin commands use it alone, without loading the rest of the gateway.
 */
export function openCoreStore(config: Readonly<Config>, logger: StoreLog): CoreStore {
  const box = new SecretBox(secretsKeyBytes(config.store));
  ensurePrivateDir(config.dataDir);
  ensurePrivateDir(mediaDir(config.dataDir));
  const db = openDatabase(join(config.dataDir, DATABASE_FILE));
  const { token, generated } = ensureAdminToken(config.dataDir, config.adminToken);
  if (generated) logger.info({ file: join(config.dataDir, ADMIN_TOKEN_FILE) }, 'generated admin token');
  // Made 0700/0600 when created; what the operator made looser before is reported, not changed.
  for (const e of looseModes(config.dataDir, PRIVATE_ENTRIES)) {
    logger.warn({ path: e.path, mode: e.mode, wanted: e.wanted }, 'data dir entry is open to other users: chmod it to the wanted mode');
  }
  const numbersRepo = new NumbersRepository(db, box);
  try {
    const sealed = numbersRepo.sealSecrets();
    if (sealed > 0) logger.info({ count: sealed }, 'sealed plaintext webhook secrets with the secrets key');
  } catch (err) {
    db.close();
    throw err;
  }
  return { db, adminToken: token, numbersRepo };
}
