import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliProcess } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('agentphone start (real processes)', () => {
  const tempDir = useTempDir();

  it('serves /healthz; a CLI-made key authenticates; a revoked one gets the exact 401', async () => {
    const dataDir = join(tempDir(), 'data');
    const port = await freePort();
    const env = { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_PORT: String(port), AGENTPHONE_LOG_LEVEL: 'warn' };
    const server = spawn(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH, ...env } });
    let stderr = '';
    try {
      await new Promise<void>((resolve, reject) => {
        server.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('AgentPhone listening on')) resolve();
        });
        server.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${stderr}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      // Lines may still be initialising ("degraded") a moment after start; it answers either way.
      expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ status: expect.stringMatching(/^(ok|degraded)$/) });
      expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);

      const created = await cliProcess(['keys', 'create', '--json'], env);
      expect(created.code).toBe(0);
      const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
      const ok = await fetch(`${base}/api/numbers`, { headers: { authorization: `Bearer ${key}` } });
      expect(ok.status).toBe(200);

      expect((await cliProcess(['keys', 'revoke', id, '--json'], env)).code).toBe(0);
      const denied = await fetch(`${base}/api/numbers`, { headers: { authorization: `Bearer ${key}` } });
      expect(denied.status).toBe(401);
      expect(await denied.text()).toBe('{"error":"Unauthorized","message":"Invalid or missing API key"}');
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('close', resolve));
    }
  });

  it('refuses a bad config: exits non-zero, lists every problem, touches no data', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const res = await cliProcess(['start'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_PORT: '99999', AGENTPHONE_HOST: '' , AGENTPHONE_PUBLIC_URL: 'ftp://x' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('server.port: must be <= 65535');
    expect(res.stderr).toContain('server.publicUrl');
    expect(existsSync(dataDir)).toBe(false);
  });
});
