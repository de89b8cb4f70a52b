import type { App } from '../api/index.ts';
import { readAdminTokenFile } from '../auth/index.ts';
import { loadConfig, type Config } from '../config/index.ts';
import { buildCoreApp, createCore } from '../core.ts';
import { AgentPhoneError } from '../errors/index.ts';
import { silentLogger } from '../logging/index.ts';
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
  private readonly config: Readonly<Config>;
  private readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(
    io: CliIo,
    private readonly options: AdminClientOptions,
  ) {
    this.config = loadConfig({ configPath: options.configPath, env: io.env, cwd: process.cwd() });
    const host = ['0.0.0.0', '::', ''].includes(this.config.server.host) ? '127.0.0.1' : this.config.server.host;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    this.baseUrl = (options.url ?? `http://${hostPart}:${this.config.server.port}`).replace(/\/+$/, '');
    this.token = this.config.adminToken ?? readAdminTokenFile(this.config.dataDir);
  }

  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AdminResponse> {
    try {
      return await this.overHttp(method, path, body);
    } catch (err) {
      if (!(err instanceof GatewayUnreachableError) || !this.options.offlineSafe || this.options.url !== undefined) throw err;
      return this.inProcess(method, path, body);
    }
  }

  private async overHttp(method: string, path: string, body: unknown): Promise<AdminResponse> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/admin${path}`, {
        method,
        headers: {
          ...(this.token !== undefined && { authorization: `Bearer ${this.token}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch {
      throw new GatewayUnreachableError(this.baseUrl);
    }
    const text = await res.text();
    return { status: res.status, body: parseJson(text) };
  }

  private async inProcess(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body: unknown): Promise<AdminResponse> {
    const core = createCore(this.config, silentLogger());
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
      core.close();
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: 'Bad Gateway', message: 'The gateway answered with something that is not JSON' };
  }
}
