import Value from 'typebox/value';
import { KeyCreateBody } from '../api/admin/keys.ts';
import { ApiKeyService } from '../auth/api-keys.ts';
import { systemClock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import { openCoreStore } from '../core-store.ts';
import { AgentPhoneError, reasonPhrase } from '../errors/index.ts';
import { ApiKeysRepository } from '../store/api-keys-repository.ts';
import type { AdminResponse } from './admin-client.ts';

const REVOKE = /^\/keys\/([^/]+)\/revoke$/;

/**
 * The /admin/keys routes answered straight from the store when no gateway runs: the same
 * ApiKeyService and body schema as the routes, without building the gateway (its HTTP app and
 * every domain are most of an offline command's start-up). Undefined for any other route.
 */
export async function offlineKeys(config: Readonly<Config>, method: string, path: string, body: unknown): Promise<AdminResponse | undefined> {
  const revoke = method === 'POST' ? REVOKE.exec(path) : null;
  const create = method === 'POST' && path === '/keys';
  const list = method === 'GET' && path === '/keys';
  if (!create && !list && !revoke) return undefined;
  if (create && body !== undefined && !Value.Check(KeyCreateBody, body)) {
    return { status: 400, body: { error: reasonPhrase(400), message: 'body: name must be a string of at most 100 characters, numbers an array of number ids' } };
  }
  const store = await openCoreStore(config, { info: () => undefined, warn: () => undefined });
  try {
    const keys = new ApiKeyService(new ApiKeysRepository(store.store.db), store.numbersRepo, systemClock);
    if (create) {
      const b = (body ?? {}) as { name?: string; numbers?: string[] };
      return { status: 201, body: await keys.create({ name: b.name, numberIds: b.numbers }) };
    }
    if (list) return { status: 200, body: { keys: await keys.list() } };
    return { status: 200, body: await keys.revoke(decodeURIComponent((revoke as RegExpExecArray)[1] as string)) };
  } catch (err) {
    if (!(err instanceof AgentPhoneError)) throw err;
    return { status: err.status, body: { error: reasonPhrase(err.status, err.code), message: err.message } };
  } finally {
    await store.close();
  }
}
