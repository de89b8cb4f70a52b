import type { UsageReport } from '../../metering/index.ts';
import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report, table } from '../output.ts';

export const usageCommand: CliCommand = {
  name: 'usage',
  summary: 'Segments, minutes and cost of every number for a month',
  usage: 'agentphone usage [--month YYYY-MM] [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { month: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const client = new AdminClient(io, { configPath: values.config, url: values.url, offlineSafe: true });
    const res = await client.request('GET', `/usage${values.month === undefined ? '' : `?month=${encodeURIComponent(values.month)}`}`);
    return report(io, values.json, res, (b: { month: string; numbers: UsageReport[]; total: number }) =>
      [
        `Usage for ${b.month} (USD)`,
        table(
          ['NUMBER', 'SEGMENTS', 'INCLUDED', 'OVERAGE', 'MINUTES', 'TOTAL'],
          b.numbers.map((r) => [r.phoneNumber, String(r.sms.used), String(r.sms.included), String(r.sms.overage), String(r.voice.used), r.total.toFixed(2)]),
        ),
        `Total: ${b.total.toFixed(2)}`,
      ].join('\n'),
    );
  },
};
