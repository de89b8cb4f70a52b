import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Agent, createServer as createHttpsServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reloadTls } from '../../src/api/index.ts';
import { ConfigError } from '../../src/errors/index.ts';
import { testApp } from '../helpers/gateway.ts';
import { BIN } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { hasCommand, describeWithTool } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

/** A self-signed certificate for 127.0.0.1 made by the real openssl; returns its PEM. */
function selfSigned(dir: string, name: string): { cert: string; key: string; pem: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const res = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'pipe' });
  if (res.status !== 0) throw new Error(`openssl failed: ${res.stderr.toString()}`);
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

interface Answer {
  status: number;
  body: string;
  socket: TLSSocket;
  fingerprint: string;
}

function get(url: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      // Read now: a keep-alive socket is detached from the response once it ends.
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

const fingerprintOf = (pem: string): string => new X509Certificate(pem).fingerprint256;

describeWithTool('HTTPS with server.tls (real gateway process, real openssl certificates)', hasCommand('openssl', ['version']), 'openssl', () => {
  const tempDir = useTempDir();
  let server: ChildProcess | undefined;
  afterEach(async () => {
    if (!server || server.exitCode !== null) return;
    server.kill('SIGTERM');
    await new Promise((resolve) => server?.once('close', resolve));
  });

  it('serves /healthz over HTTPS; after SIGHUP new connections get the new certificate while an open keep-alive connection keeps working', async () => {
    const dir = tempDir();
    const first = selfSigned(dir, 'first');
    const certFile = join(dir, 'live.crt');
    const keyFile = join(dir, 'live.key');
    writeFileSync(certFile, first.pem);
    writeFileSync(keyFile, readFileSync(first.key));
    const port = await freePort();
    const configFile = join(dir, 'agentphone.yaml');
    writeFileSync(configFile, `dataDir: ${join(dir, 'data')}\nlog: { level: warn }\nserver:\n  port: ${port}\n  tls: { certFile: ${certFile}, keyFile: ${keyFile} }\n`);
    const gateway = spawn(process.execPath, [BIN, 'start', '--config', configFile], { env: { PATH: process.env.PATH } });
    server = gateway;
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      gateway.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('AgentPhone listening on')) resolve();
      });
      gateway.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${stderr}`)));
    });
    expect(stderr).toContain(`https://127.0.0.1:${port}`);
    const url = `https://127.0.0.1:${port}/healthz`;

    // Trusts only the first certificate: a reconnect after the swap could not succeed.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: first.pem });
    const before = await get(url, keepAlive);
    expect(before.status).toBe(200);
    expect(JSON.parse(before.body)).toMatchObject({ status: expect.stringMatching(/^(ok|degraded)$/) });
    expect(before.fingerprint).toBe(fingerprintOf(first.pem));

    // Plain HTTP on the same port is not served.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

    const second = selfSigned(dir, 'second');
    // Replaced the way certbot and friends do: new files renamed over the old ones.
    writeFileSync(`${certFile}.new`, second.pem);
    writeFileSync(`${keyFile}.new`, readFileSync(second.key));
    renameSync(`${certFile}.new`, certFile);
    renameSync(`${keyFile}.new`, keyFile);
    gateway.kill('SIGHUP');

    // The reload is asynchronous to us: poll with fresh connections until one sees the new certificate.
    let fresh: Answer | undefined;
    for (let i = 0; i < 200 && fresh === undefined; i++) {
      const agent = new Agent({ keepAlive: false, ca: [first.pem, second.pem] });
      const answer = await get(url, agent);
      answer.socket.destroy();
      if (answer.fingerprint === fingerprintOf(second.pem)) fresh = answer;
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(fresh?.status).toBe(200);

    const after = await get(url, keepAlive);
    expect(after.status).toBe(200);
    // The same TLS connection, still on the first certificate (this agent trusts no other).
    expect(after.socket).toBe(before.socket);
    keepAlive.destroy();
    expect(gateway.exitCode).toBeNull();
  });
});

describeWithTool('reloadTls (real https server, real openssl certificates)', hasCommand('openssl', ['version']), 'openssl', () => {
  const tempDir = useTempDir();

  it('refuses a key that does not match the certificate and keeps serving the old pair', async () => {
    const dir = tempDir();
    const first = selfSigned(dir, 'first');
    const other = selfSigned(dir, 'other');
    const server = createHttpsServer({ cert: first.pem, key: readFileSync(first.key) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      expect(() => reloadTls(server, { certFile: first.cert, keyFile: other.key })).toThrow(ConfigError);
      expect(() => reloadTls(server, { certFile: join(dir, 'missing.crt'), keyFile: first.key })).toThrow(/server\.tls\.certFile: cannot read .*missing\.crt \(ENOENT\)/);
      const answer = await get(url, new Agent({ keepAlive: false, ca: first.pem }));
      expect(answer.fingerprint).toBe(fingerprintOf(first.pem));
      expect(answer.body).toBe('ok');
    } finally {
      server.close();
    }
  });
});

describe('server.trustProxy', () => {
  const tempDir = useTempDir();

  it('believes X-Forwarded-For only from a listed proxy', async () => {
    for (const [trustProxy, remoteAddress, expected] of [
      [['127.0.0.1'], '127.0.0.1', '203.0.113.9'],
      [['127.0.0.1'], '192.0.2.1', '192.0.2.1'],
      [false, '127.0.0.1', '127.0.0.1'],
    ] as const) {
      const { app, core } = await testApp(join(tempDir(), 'data'), { server: { trustProxy } });
      app.get('/ip-probe', (request) => ({ ip: request.ip, protocol: request.protocol }));
      try {
        const res = await app.inject({ url: '/ip-probe', remoteAddress, headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' } });
        expect(res.json()).toEqual({ ip: expected, protocol: expected === '203.0.113.9' ? 'https' : 'http' });
      } finally {
        await app.close();
        await core.close();
      }
    }
  });
});
