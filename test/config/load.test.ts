import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  const tempDir = useTempDir();

  it('runs on embedded defaults with no file', () => {
    const config = loadConfig({ env: {}, cwd: '/srv/app' });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 3000, publicUrl: null, bodyLimitBytes: 1_048_576, metricsRequireAdmin: false, docsRequireAdmin: false, tls: null, trustProxy: false });
    expect(config.dataDir).toBe('/srv/app/data');
    expect(config.sms.maxParts).toBe(10);
    expect(config.virtual.lines).toHaveLength(2);
    expect(config.metering.includedSegments).toBe(2000);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('documents exactly the embedded defaults in config/default.yaml', () => {
    const fromFile = loadConfig({ configPath: 'config/default.yaml', env: {}, cwd: repoRoot });
    expect(fromFile).toEqual(loadConfig({ env: {}, cwd: repoRoot }));
  });

  it.each(['single-modem.yaml', 'modem-pool.yaml', 'gpu-inference.yaml', 'chat-upstreams.yaml'])('accepts the example %s', (file) => {
    expect(() => loadConfig({ configPath: join('config/examples', file), env: {}, cwd: repoRoot })).not.toThrow();
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf(() =>
      validateConfig({
        server: { port: 'eighty', bogus: true },
        modems: [{ id: 'a', port: '/dev/ttyUSB0' }, { id: 'b' }, { port: '/dev/x' }],
        sms: { maxParts: 0 },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'server.port: must be integer',
        'server.bogus: unknown setting',
        'modems[2].id: required',
        expect.stringMatching(/^sms\.maxParts: must be >= 1/),
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
  });

  it('requires a port or usb ids for each modem', () => {
    expect(problemsOf(() => validateConfig({ modems: [{ id: 'a', port: '/dev/a' }, { id: 'b' }] }))).toEqual([
      'modems[1].port: required (or modems[1].usb)',
    ]);
  });

  it('rejects numbers bound to unknown or shared lines and duplicate line ids', () => {
    const problems = problemsOf(() =>
      validateConfig({
        modems: [
          { id: 'a', port: '/dev/a' },
          { id: 'a', port: '/dev/b' },
        ],
        numbers: [{ line: 'nope' }, { line: 'a' }, { line: 'a' }],
      }),
    );
    expect(problems).toEqual([
      'modems[1].id: duplicate line id "a"',
      'numbers[0].line: no modem or virtual line has id "nope"',
      'numbers[2].line: line "a" already has a number',
    ]);
  });

  it("refuses MMS over AT on a virtual modem whose dialect has no MMS client", () => {
    const lines = [{ id: 'q', number: '+15550000001', dialect: 'quectel', mmsTransport: 'at' }, { id: 'h', number: '+15550000002', dialect: 'huawei', mmsTransport: 'at' }];
    expect(problemsOf(() => validateConfig({ virtual: { lines } }))).toEqual([
      'virtual.lines[1].mmsTransport: "at" needs a modem with its own MMS client (dialect quectel or simcom), not huawei',
    ]);
  });

  it('refuses, while voice is on, a call transcription model that is not a whisper model in inference.models', () => {
    const drachtio = { host: '127.0.0.1', secret: 'drachtio-secret' };
    expect(validateConfig({ voice: { drachtio } }).voice.sttModel).toBe('whisper-large-v3-turbo');
    expect(validateConfig({ voice: { drachtio, sttModel: 'whisper-large-v3' } }).voice.sttModel).toBe('whisper-large-v3');
    expect(problemsOf(() => validateConfig({ voice: { drachtio, sttModel: 'whisper-nope' } }))).toEqual([
      'voice.sttModel: "whisper-nope" is not a whisper model in inference.models (whisper models: whisper-large-v3, whisper-large-v3-turbo)',
    ]);
    expect(problemsOf(() => validateConfig({ voice: { drachtio, sttModel: 'qwen3-0.6b' } }))).toEqual([expect.stringMatching(/^voice\.sttModel: "qwen3-0\.6b" is not a whisper model/)]);
    // Voice off: the setting is not used, so it is not checked.
    expect(validateConfig({ voice: { sttModel: 'whisper-nope' } }).voice.sttModel).toBe('whisper-nope');
  });

  it('lets zero be a setting, not a fallback to the default', () => {
    const config = validateConfig({ server: { port: 0 }, sms: { reassemblyTimeoutMs: 0 } });
    expect(config.server.port).toBe(0);
    expect(config.sms.reassemblyTimeoutMs).toBe(0);
  });

  it('takes AGENTPHONE_* overrides over the file, and AGENTPHONE_CONFIG as the file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'c.yaml'), 'server:\n  port: 4000\n  host: 0.0.0.0\nlog:\n  level: warn\n');
    const config = loadConfig({
      env: {
        AGENTPHONE_CONFIG: 'c.yaml',
        AGENTPHONE_PORT: '4100',
        AGENTPHONE_DATA_DIR: '/var/lib/agentphone',
        AGENTPHONE_ADMIN_TOKEN: 'a-long-enough-admin-token',
        AGENTPHONE_PUBLIC_URL: 'https://sms.example.com',
      },
      cwd: dir,
    });
    expect(config.server).toMatchObject({ port: 4100, host: '0.0.0.0', publicUrl: 'https://sms.example.com' });
    expect(config.log.level).toBe('warn');
    expect(config.dataDir).toBe('/var/lib/agentphone');
    expect(config.adminToken).toBe('a-long-enough-admin-token');
  });

  it('selects PostgreSQL with AGENTPHONE_DATABASE_URL and its TLS settings with AGENTPHONE_DATABASE_SSL_*', () => {
    const config = loadConfig({
      env: { AGENTPHONE_DATABASE_URL: 'postgres://ap:pw@db.internal:5433/agentphone', AGENTPHONE_DATABASE_SSL_MODE: 'verify-full', AGENTPHONE_DATABASE_SSL_CA: '/etc/ssl/db-ca.pem' },
      cwd: '/',
    });
    expect(config.store.postgres).toEqual({
      url: 'postgres://ap:pw@db.internal:5433/agentphone',
      ssl: { mode: 'verify-full', caFile: '/etc/ssl/db-ca.pem', certFile: null, keyFile: null },
      poolSize: 10,
      connectTimeoutMs: 10_000,
    });
    expect(loadConfig({ env: {}, cwd: '/' }).store.postgres.url).toBeNull();
  });

  it('refuses a PostgreSQL URL that is not postgres://, sets TLS in the URL, or TLS files that do not fit the mode, never quoting the URL', () => {
    const problems = (postgres: object): readonly string[] => problemsOf(() => validateConfig({ store: { postgres } }));
    expect(problems({ url: 'mysql://u:secret@h/db' })).toEqual(['store.postgres.url (AGENTPHONE_DATABASE_URL): must start with postgres:// or postgresql://']);
    expect(problems({ url: 'postgres://u:secret@h/db?sslmode=disable' })[0]).toMatch(/must not set sslmode; set TLS with store\.postgres\.ssl/);
    expect(problems({ url: 'postgres://u:secret@h/db', ssl: { mode: 'require', certFile: '/c.pem' } })).toEqual(['store.postgres.ssl: certFile and keyFile go together']);
    expect(problems({ url: 'postgres://u:secret@h/db', ssl: { caFile: '/ca.pem' } })[0]).toMatch(/mode is disable/);
    expect(problems({ url: 'postgres://u:secret@h/db', ssl: { mode: 'prefer' } })[0]).toMatch(/^store\.postgres\.ssl\.mode/);
    for (const url of ['mysql://u:secret@h/db', 'postgres://u:secret@h/db?sslmode=disable']) expect(problems({ url }).join(' ')).not.toContain('secret');
  });

  it('names the variable path when an override is not valid', () => {
    expect(problemsOf(() => loadConfig({ env: { AGENTPHONE_PORT: 'abc' }, cwd: '/' }))).toEqual(['server.port: must be integer']);
  });

  it('--config wins over AGENTPHONE_CONFIG', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'server: { port: 1111 }\n');
    writeFileSync(join(dir, 'b.yaml'), 'server: { port: 2222 }\n');
    expect(loadConfig({ configPath: 'b.yaml', env: { AGENTPHONE_CONFIG: 'a.yaml' }, cwd: dir }).server.port).toBe(2222);
  });

  it('reports a missing file and YAML syntax errors with the file and line', () => {
    const dir = tempDir();
    expect(problemsOf(() => loadConfig({ configPath: 'missing.yaml', env: {}, cwd: dir }))).toEqual([
      `${join(dir, 'missing.yaml')}: file not found`,
    ]);
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'bad.yaml'), 'server:\n  port: 3000\n   host: [\n');
    const [problem] = problemsOf(() => loadConfig({ configPath: 'x/bad.yaml', env: {}, cwd: dir }));
    expect(problem).toMatch(new RegExp(`^${join(dir, 'x', 'bad.yaml')}:\\d+: `));
    writeFileSync(join(dir, 'list.yaml'), '- 1\n- 2\n');
    expect(problemsOf(() => loadConfig({ configPath: 'list.yaml', env: {}, cwd: dir }))).toEqual([
      `${join(dir, 'list.yaml')}: must be a mapping of settings`,
    ]);
  });
});
