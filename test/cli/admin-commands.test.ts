import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { cli } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('operator CLI against a running gateway', () => {
  const tempDir = useTempDir();
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
  });

  async function start() {
    const env = { AGENTPHONE_DATA_DIR: tempDir(), AGENTPHONE_PORT: String(await freePort()), AGENTPHONE_LOG_LEVEL: 'silent' };
    gateway = await startGateway(loadConfig({ env, cwd: process.cwd() }), silentLogger());
    return env;
  }

  it('creates, lists and revokes keys, printing exactly one JSON document each', async () => {
    const env = await start();
    const created = await cli(['keys', 'create', '--name', 'agent-1', '--json'], env);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ id: expect.stringMatching(/^key_/), key: expect.stringMatching(/^agp_/), name: 'agent-1', numbers: 'all' });

    const ok = await fetch(`${gateway!.url}/api/numbers`, { headers: { authorization: `Bearer ${key.key}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { numbers: { phoneNumber: string }[] }).numbers.map((n) => n.phoneNumber)).toEqual(['+15550000001', '+15550000002']);

    const list = JSON.parse((await cli(['keys', 'list', '--json'], env)).stdout);
    expect(list.keys).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(key.key);

    const revoked = await cli(['keys', 'revoke', key.id, '--json'], env);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout).revokedAt).toEqual(expect.any(String));
    const denied = await fetch(`${gateway!.url}/api/numbers`, { headers: { authorization: `Bearer ${key.key}` } });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: 'Unauthorized', message: 'Invalid or missing API key' });
  });

  it('scopes a key to --number ids', async () => {
    const env = await start();
    const numbers = JSON.parse((await cli(['numbers', 'list', '--json'], env)).stdout).numbers as { id: string }[];
    expect(numbers).toHaveLength(2);
    const key = JSON.parse((await cli(['keys', 'create', '--number', numbers[1]!.id, '--json'], env)).stdout);
    expect(key.numbers).toEqual([numbers[1]!.id]);
    const res = await fetch(`${gateway!.url}/api/numbers`, { headers: { authorization: `Bearer ${key.key}` } });
    expect(((await res.json()) as { numbers: { id: string }[] }).numbers.map((n) => n.id)).toEqual([numbers[1]!.id]);
  });

  it('sets, shows and rotates a webhook', async () => {
    const env = await start();
    const [number] = JSON.parse((await cli(['numbers', 'list', '--json'], env)).stdout).numbers as { id: string }[];
    const set = await cli(['webhook', 'set', '--number', number!.id, '--url', 'https://agent.example/hook', '--timeout-ms', '4000', '--json'], env);
    expect(set.code).toBe(0);
    const hook = JSON.parse(set.stdout);
    expect(hook).toEqual({ numberId: number!.id, url: 'https://agent.example/hook', timeoutMs: 4000, secret: expect.stringMatching(/^whsec_/) });
    expect(JSON.parse((await cli(['webhook', 'show', '--number', number!.id, '--json'], env)).stdout)).toEqual(hook);
    const rotated = JSON.parse((await cli(['webhook', 'rotate-secret', '--number', number!.id, '--json'], env)).stdout);
    expect(rotated.secret).not.toBe(hook.secret);

    const bad = await cli(['webhook', 'set', '--number', number!.id, '--url', 'ftp://x', '--json'], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ error: 'Bad Request', message: 'url: must use http or https' });
    const missing = await cli(['webhook', 'show', '--number', 'num_nope', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error).toBe('Not Found');
  });

  it('prints human output without --json', async () => {
    const env = await start();
    const res = await cli(['numbers', 'list'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ID\s+NUMBER\s+LINE/);
    expect(res.stdout).toContain('+15550000002');
  });
});

describe('operator CLI without a gateway', () => {
  const tempDir = useTempDir();

  it('runs offline-safe commands against the local store', async () => {
    const dataDir = tempDir();
    const env = { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_PORT: String(await freePort()) };
    const created = await cli(['keys', 'create', '--json'], env);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).key).toMatch(/^agp_/);
    expect(existsSync(join(dataDir, 'agentphone.db'))).toBe(true);
    expect(JSON.parse((await cli(['keys', 'list', '--json'], env)).stdout).keys).toHaveLength(1);
    // Keys are answered from the store alone (no gateway app built): revoke and the errors too.
    const id = JSON.parse(created.stdout).id as string;
    const revoked = await cli(['keys', 'revoke', id, '--json'], env);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id, revokedAt: expect.any(String) });
    const unknown = await cli(['keys', 'revoke', 'key_nope', '--json'], env);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual({ error: 'Not Found', message: 'No API key has id "key_nope"' });
    const badScope = await cli(['keys', 'create', '--number', 'num_nope', '--json'], env);
    expect(badScope.code).toBe(1);
    expect(JSON.parse(badScope.stdout)).toEqual({ error: 'Bad Request', message: 'numbers: no number has id "num_nope"' });
  });

  it('says the gateway is unreachable and exits 1 when --url names one that is down', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const res = await cli(['numbers', 'list', '--url', url, '--json'], { AGENTPHONE_DATA_DIR: tempDir() });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toEqual({
      error: 'GATEWAY_UNREACHABLE',
      message: `No AgentPhone gateway answers at ${url}. Is it running (agentphone start)?`,
    });
  });

  it.each([
    [['keys'], /missing subcommand/],
    [['keys', 'frobnicate'], /unknown subcommand "frobnicate"/],
    [['keys', 'revoke'], /exactly one KEY_ID/],
    [['keys', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['webhook', 'set', '--url', 'https://x'], /--number is required/],
    [['nonsense'], /unknown command "nonsense"/],
    [[], /Usage: agentphone <command>/],
  ])('prints usage and exits 2 for %j', async (args, message) => {
    const res = await cli(args, { AGENTPHONE_DATA_DIR: tempDir() });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).toMatch(/Usage: /);
    expect(res.stdout).toBe('');
  });

  it('reports a bad config as one JSON error and exits 1', async () => {
    const res = await cli(['keys', 'list', '--json'], { AGENTPHONE_PORT: 'x', AGENTPHONE_DATA_DIR: tempDir() });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toEqual({ error: 'CONFIG', message: 'Invalid configuration:\n  server.port: must be integer' });
  });
});
