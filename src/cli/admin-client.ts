import type { App } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import { AgentPhoneError } from '../errors/index.ts';
import type { CliIo } from './command.ts';

export interface AdminResponse {
  status: number;
  body: unknown;
}

/** The gateway is not reachable at the resolved URL. */
export class GatewayUnreachableError extends AgentPhoneError {
  constructor(url: string) {
    super('GATEWAY_UNREACHABLE', `No AgentPhone gateway answers at ${url}. Is it running (agentphone start)?`, {
      status: 503,
    });
  }
}

export interface AdminClientOptions {
  configPath?: string | undefined;
  url?: string | undefined;
  /** May the command run against the local store when no gateway answers? */
  offlineSafe: boolean;
}

/**
 * Talks to the admin API of the gateway the config resolves to, exactly as the server resolves
 * it. Offline-safe commands fall back to the same routes served in-process over the local store.
 */
export class AdminClient {
  private target: Promise<{ config: Readonly<Config>; baseUrl: string; token: string | undefined }> | undefined;
  /** Whether anything listens at the gateway's address: asked once per command, not per request. */
  private up: Promise<boolean> | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly options: AdminClientOptions,
  ) {}

  /** The config is read on the first request: its code (schema validation, YAML) is most of a short command's start-up. */
  private resolveTarget() {
    this.target ??= (async () => {
      const [{ loadConfig }, { readAdminTokenFile }] = await Promise.all([import('../config/index.ts'), import('../auth/index.ts')]);
      const config = loadConfig({ configPath: this.options.configPath, env: this.io.env, cwd: process.cwd() });
      const baseUrl = gatewayUrl(config, this.options.url);
      return { config, baseUrl, token: config.adminToken ?? readAdminTokenFile(config.dataDir) };
    })();
    return this.target;
  }

  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AdminResponse> {
    const target = await this.resolveTarget();
    try {
      return await this.overHttp(target, method, path, body);
    } catch (err) {
      if (!(err instanceof GatewayUnreachableError) || !this.options.offlineSafe || this.options.url !== undefined) throw err;
      return this.inProcess(target.config, method, path, body);
    }
  }

  private async overHttp(target: { baseUrl: string; token: string | undefined }, method: string, path: string, body: unknown): Promise<AdminResponse> {
    // Nothing listening is the common offline case: a refused TCP connect says so at once,
    // without loading fetch (a noticeable part of a short command's start-up).
    this.up ??= listening(target.baseUrl);
    if (!(await this.up)) throw new GatewayUnreachableError(target.baseUrl);
    let res: Response;
    try {
      res = await fetch(`${target.baseUrl}/admin${path}`, {
        method,
        headers: {
          ...(target.token !== undefined && { authorization: `Bearer ${target.token}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch {
      throw new GatewayUnreachableError(target.baseUrl);
    }
    const text = await res.text();
    return { status: res.status, body: parseJson(text) };
  }

  private async inProcess(config: Readonly<Config>, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body: unknown): Promise<AdminResponse> {
    // API keys (the first thing an operator makes) are answered from the store alone.
    const keys = await (await import('./offline-keys.ts')).offlineKeys(config, method, path, body);
    if (keys) return keys;
    // Loaded here, not at the top: the whole gateway (fastify, the store, every domain) is
    // most of a command's start-up time, and only the offline path needs it.
    const [{ buildCoreApp, createCore }, { silentLogger }] = await Promise.all([import('../core.ts'), import('../logging/index.ts')]);
    const core = await createCore(config, silentLogger());
    let app: App | undefined;
    try {
      app = await buildCoreApp(core);
      const res = await app.inject({
        method,
        url: `/admin${path}`,
        headers: { authorization: `Bearer ${core.adminToken}` },
        ...(body !== undefined && { payload: body as Record<string, unknown> }),
      });
      return { status: res.statusCode, body: parseJson(res.body) };
    } finally {
      await app?.close();
      await core.close();
    }
  }
}

/** The local gateway's base URL as the config resolves it (a wildcard host reached on loopback), or `override`. */
export function gatewayUrl(config: Readonly<Config>, override?: string): string {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return (override ?? `http://${hostPart}:${config.server.port}`).replace(/\/+$/, '');
}

/** Whether something accepts TCP connections at the URL's host and port (false when refused or unresolvable). */
async function listening(baseUrl: string): Promise<boolean> {
  const { tcpProbe } = await import('./tcp-probe.ts');
  const url = new URL(baseUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  // No answer either way: let the request itself time out.
  const failure = await tcpProbe(url.hostname.replace(/^\[|\]$/g, ''), port, 15_000);
  return failure === null || failure.timedOut;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: 'Bad Gateway', message: 'The gateway answered with something that is not JSON' };
  }
}
