import type { NumberView } from '../../numbers/index.ts';
import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report, table } from '../output.ts';

export const numbersCommand: CliCommand = {
  name: 'numbers',
  summary: 'List the phone numbers and the lines they are bound to',
  usage: 'agentphone numbers list [--json] [--config FILE] [--url URL]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals[0] !== 'list' || positionals.length > 1) throw new UsageError('expected: numbers list');
    const client = new AdminClient(io, { configPath: values.config, url: values.url, offlineSafe: true });
    const res = await client.request('GET', '/numbers');
    return report(io, values.json, res, (body: { numbers: NumberView[] }) =>
      body.numbers.length === 0
        ? 'No numbers yet: they appear when a modem or virtual line comes up.'
        : table(
            ['ID', 'NUMBER', 'LINE', 'STATUS', 'WEBHOOK'],
            body.numbers.map((n) => [n.id, n.phoneNumber, n.line ?? '-', n.status, n.webhookUrl ?? '-']),
          ),
    );
  },
};
