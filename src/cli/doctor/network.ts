import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../store/index.ts';
import { tcpProbe } from '../tcp-probe.ts';
import { fail, ok, type CheckResult, type DoctorCheck } from './check.ts';

/** drachtio-server's admin port accepts a TCP connection (voice calls need it). */
export const drachtioCheck: DoctorCheck = async ({ config, timeoutMs }) => {
  const d = config.voice.drachtio;
  if (d === null) return [ok('drachtio', 'voice calls off (voice.drachtio not set)')];
  const failure = await tcpProbe(d.host, d.port, timeoutMs);
  return [failure === null ? ok('drachtio', `${d.host}:${d.port} accepts connections`) : fail('drachtio', `${d.host}:${d.port}: ${failure.message}: is drachtio-server running, and voice.drachtio right?`)];
};

/** Every webhook URL (config and the numbers stored in the data dir) answers HTTP. */
export const webhooksCheck: DoctorCheck = async ({ config, timeoutMs }) => {
  const urls = new Set<string>();
  for (const n of config.numbers) if (n.webhookUrl !== undefined) urls.add(n.webhookUrl);
  for (const url of storedWebhookUrls(config.dataDir)) urls.add(url);
  if (urls.size === 0) return [ok('webhooks', 'no webhook URLs set')];
  return Promise.all([...urls].map((url) => webhookLine(url, timeoutMs)));
};

function storedWebhookUrls(dataDir: string): string[] {
  let db: Database.Database;
  try {
    db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  } catch {
    return [];
  }
  try {
    db.pragma('busy_timeout = 2000');
    return db.prepare<[], { url: string }>('SELECT DISTINCT webhook_url AS url FROM numbers WHERE webhook_url IS NOT NULL').all().map((r) => r.url);
  } catch {
    return [];
  } finally {
    db.close();
  }
}

/** Any HTTP answer counts (a receiver may well refuse HEAD): what matters is that it is there. */
async function webhookLine(url: string, timeoutMs: number): Promise<CheckResult> {
  const name = `webhook ${redact(url)}`;
  try {
    const res = await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return ok(name, `answers HTTP ${res.status}`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message);
    return fail(name, `unreachable (${why}): deliveries will be retried and then fail; check the URL and that the receiver runs`);
  }
}

/** The URL without credentials or query (which may carry a token). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
