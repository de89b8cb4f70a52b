export { openDatabase, migrate, currentSchemaVersion, DATABASE_FILE, type Db, type OpenDatabaseOptions } from './db.ts';
export { MIGRATIONS, type Migration } from './migrations/index.ts';
export { NumbersRepository, type NumberRecord, type NumberSettingsPatch } from './numbers-repository.ts';
export { ApiKeysRepository, type ApiKeyRecord } from './api-keys-repository.ts';
