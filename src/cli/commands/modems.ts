import type { LineStatus } from '../../modem/index.ts';
import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report, table } from '../output.ts';

export const modemsCommand: CliCommand = {
  name: 'modems',
  summary: 'List modem lines: model, identity, number, signal, registration, state, queue',
  usage: 'agentphone modems list [--json] [--config FILE] [--url URL]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals[0] !== 'list' || positionals.length > 1) throw new UsageError('expected: modems list');
    const client = new AdminClient(io, { configPath: values.config, url: values.url, offlineSafe: false });
    const res = await client.request('GET', '/modems');
    return report(io, values.json, res, (body: { lines: LineStatus[] }) =>
      body.lines.length === 0
        ? 'No modem lines.'
        : table(
            ['LINE', 'STATE', 'MODEL', 'PROFILE', 'IMEI', 'ICCID', 'NUMBER', 'SIGNAL', 'REG', 'QUEUE', 'LAST ERROR'],
            body.lines.map((l) => [
              l.id,
              l.state,
              l.model ?? '-',
              l.profile ?? '-',
              l.imei ?? '-',
              l.iccid ?? '-',
              l.number ?? '-',
              l.signal ? `${l.signal.dbm} dBm` : '-',
              l.registration,
              String(l.queueDepth),
              l.lastError ?? '-',
            ]),
          ),
    );
  },
};
