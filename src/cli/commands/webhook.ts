import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report, table } from '../output.ts';

interface WebhookView {
  numberId: string;
  url: string | null;
  timeoutMs: number;
  secret: string;
}

interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAnswer?: string | null;
  createdAt: string;
}

interface TestResult {
  url: string;
  status: number | null;
  durationMs: number;
  body: string;
  error: string | null;
}

/** What the endpoint last said: `HTTP 200: <body excerpt>` / `HTTP 503: …` (stored by the dispatcher), a network error, or `-` before any attempt. */
const lastAnswer = (d: Delivery): string => d.lastError ?? d.lastAnswer ?? (d.lastStatus === null ? '-' : `HTTP ${d.lastStatus}`);

const show = (w: WebhookView) =>
  [`number:  ${w.numberId}`, `url:     ${w.url ?? '(none)'}`, `timeout: ${w.timeoutMs} ms`, `secret:  ${w.secret}`].join('\n');

export const webhookCommand: CliCommand = {
  name: 'webhook',
  summary: "Set, show, test and rotate a number's webhook; list and redeliver its events",
  usage: [
    'agentphone webhook set --number NUMBER_ID --url URL [--timeout-ms N] [--json]',
    'agentphone webhook show --number NUMBER_ID [--json]',
    'agentphone webhook rotate-secret --number NUMBER_ID [--json]',
    'agentphone webhook test --number NUMBER_ID [--json]',
    'agentphone webhook deliveries --number NUMBER_ID [--status pending|held|delivered|dead] [--limit N] [--json]',
    'agentphone webhook redeliver DELIVERY_ID [--json]',
  ].join('\n       '),
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      number: { type: 'string' },
      url: { type: 'string' },
      'gateway-url': { type: 'string' },
      'timeout-ms': { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
    });
    const [sub, ...rest] = positionals;
    // --url is the webhook's URL here, so the gateway's own URL is --gateway-url.
    const client = (offlineSafe = true) =>
      new AdminClient(io, { configPath: values.config, url: values['gateway-url'], offlineSafe });
    if (sub === 'redeliver') {
      if (rest.length !== 1) throw new UsageError('webhook redeliver needs exactly one DELIVERY_ID');
      const res = await client(false).request('POST', `/deliveries/${encodeURIComponent(rest[0] as string)}/redeliver`);
      return report(io, values.json, res, (d: Delivery) => `Delivery ${d.id} is back in line (${d.status})`);
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (values.number === undefined) throw new UsageError('--number is required');
    const number = encodeURIComponent(values.number);
    const path = `/numbers/${number}/webhook`;
    switch (sub) {
      case 'test': {
        const res = await client(false).request('POST', `${path}/test`);
        return report(io, values.json, res, (t: TestResult) =>
          t.error !== null ? `No answer from ${t.url || '(no URL)'}: ${t.error}` : `${t.url} answered HTTP ${t.status} in ${t.durationMs} ms\n${t.body}`,
        );
      }
      case 'deliveries': {
        const query = new URLSearchParams();
        if (values.status !== undefined) {
          if (!['pending', 'held', 'delivered', 'dead'].includes(values.status)) throw new UsageError('--status must be pending, held, delivered or dead');
          query.set('status', values.status);
        }
        if (values.limit !== undefined) {
          if (!/^\d+$/.test(values.limit)) throw new UsageError('--limit must be a whole number');
          query.set('limit', values.limit);
        }
        const res = await client().request('GET', `/numbers/${number}/deliveries${query.size > 0 ? `?${query}` : ''}`);
        return report(io, values.json, res, (b: { deliveries: Delivery[] }) =>
          table(
            ['ID', 'EVENT', 'STATUS', 'ATTEMPTS', 'CREATED', 'LAST ANSWER'],
            b.deliveries.map((d) => [d.id, d.event, d.status, String(d.attempts), d.createdAt, lastAnswer(d)]),
          ),
        );
      }
      case 'set': {
        if (values.url === undefined) throw new UsageError('--url is required');
        const timeout = values['timeout-ms'];
        if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new UsageError('--timeout-ms must be a whole number');
        const res = await client().request('PUT', path, {
          url: values.url,
          ...(timeout !== undefined && { timeoutMs: Number(timeout) }),
        });
        return report(io, values.json, res, show);
      }
      case 'show':
        return report(io, values.json, await client().request('GET', path), show);
      case 'rotate-secret':
        return report(io, values.json, await client().request('POST', `${path}/rotate-secret`), show);
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
  },
};
