import type { ApiKeyView } from '../../auth/index.ts';
import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report, table } from '../output.ts';

export const keysCommand: CliCommand = {
  name: 'keys',
  summary: 'Create, list and revoke API keys',
  usage: [
    'agentphone keys create [--name NAME] [--number NUMBER_ID]... [--json]',
    'agentphone keys list [--json]',
    'agentphone keys revoke KEY_ID [--json]',
  ].join('\n       '),
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      name: { type: 'string' },
      number: { type: 'string', multiple: true },
    });
    const [sub, ...rest] = positionals;
    const client = () => new AdminClient(io, { configPath: values.config, url: values.url, offlineSafe: true });
    switch (sub) {
      case 'create': {
        if (rest.length > 0) throw new UsageError('keys create takes no positional arguments');
        const res = await client().request('POST', '/keys', {
          ...(values.name !== undefined && { name: values.name }),
          ...(values.number !== undefined && { numbers: values.number }),
        });
        return report(io, values.json, res, (k: ApiKeyView & { key: string }) =>
          [`Created ${k.id} (${k.name}), scope: ${scopeText(k)}`, '', `  ${k.key}`, '', 'Store it now: it is not shown again.'].join('\n'),
        );
      }
      case 'list': {
        if (rest.length > 0) throw new UsageError('keys list takes no positional arguments');
        const res = await client().request('GET', '/keys');
        return report(io, values.json, res, (b: { keys: ApiKeyView[] }) =>
          table(
            ['ID', 'NAME', 'PREFIX', 'SCOPE', 'CREATED', 'LAST USED', 'REVOKED'],
            b.keys.map((k) => [k.id, k.name, `${k.prefix}…`, scopeText(k), k.createdAt, k.lastUsedAt ?? '-', k.revokedAt ?? '-']),
          ),
        );
      }
      case 'revoke': {
        if (rest.length !== 1) throw new UsageError('keys revoke needs exactly one KEY_ID');
        const res = await client().request('POST', `/keys/${encodeURIComponent(rest[0] as string)}/revoke`);
        return report(io, values.json, res, (k: ApiKeyView) => `Revoked ${k.id} at ${k.revokedAt ?? '?'}`);
      }
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
  },
};

function scopeText(k: ApiKeyView): string {
  return k.numbers === 'all' ? 'all numbers' : k.numbers.join(',');
}
