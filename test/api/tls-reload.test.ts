import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
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
