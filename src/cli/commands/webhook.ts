import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report } from '../output.ts';

interface WebhookView {
  numberId: string;
  url: string | null;
  timeoutMs: number;
  secret: string;
}

const show = (w: WebhookView) =>
  [`number:  ${w.numberId}`, `url:     ${w.url ?? '(none)'}`, `timeout: ${w.timeoutMs} ms`, `secret:  ${w.secret}`].join('\n');

export const webhookCommand: CliCommand = {
  name: 'webhook',
  summary: "Set, show and rotate a number's webhook",
  usage: [
    'agentphone webhook set --number NUMBER_ID --url URL [--timeout-ms N] [--json]',
    'agentphone webhook show --number NUMBER_ID [--json]',
    'agentphone webhook rotate-secret --number NUMBER_ID [--json]',
  ].join('\n       '),
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      number: { type: 'string' },
      url: { type: 'string' },
      'gateway-url': { type: 'string' },
      'timeout-ms': { type: 'string' },
    });
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (values.number === undefined) throw new UsageError('--number is required');
    const path = `/numbers/${encodeURIComponent(values.number)}/webhook`;
    // --url is the webhook's URL here, so the gateway's own URL is --gateway-url.
    const client = new AdminClient(io, { configPath: values.config, url: values['gateway-url'], offlineSafe: true });
    switch (sub) {
      case 'set': {
        if (values.url === undefined) throw new UsageError('--url is required');
        const timeout = values['timeout-ms'];
        if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new UsageError('--timeout-ms must be a whole number');
        const res = await client.request('PUT', path, {
          url: values.url,
          ...(timeout !== undefined && { timeoutMs: Number(timeout) }),
        });
        return report(io, values.json, res, show);
      }
      case 'show':
        return report(io, values.json, await client.request('GET', path), show);
      case 'rotate-secret':
        return report(io, values.json, await client.request('POST', `${path}/rotate-secret`), show);
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
  },
};
