import type { OptOutRecord } from '../../compliance/shapes.ts';
import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report, table } from '../output.ts';


const how = (o: OptOutRecord) => (o.source === 'keyword' ? `texted ${o.keyword ?? '?'}` : `admin (${o.actor})`);
const describe = (o: OptOutRecord) => `${o.contact} is ${o.state === 'opted_out' ? 'opted out of' : 'opted in to'} ${o.numberId} since ${o.updatedAt} (${how(o)})`;

export const optoutCommand: CliCommand = {
  name: 'optout',
  summary: 'List, add and remove opt-outs (STOP) per number; export the audit log as CSV',
  usage: [
    'agentphone optout list [--number NUMBER_ID] [--state opted_out|opted_in] [--limit N] [--json]',
    'agentphone optout add --number NUMBER_ID --contact +15557654321 [--note TEXT] [--by NAME] [--json]',
    'agentphone optout remove --number NUMBER_ID --contact +15557654321 [--note TEXT] [--by NAME] [--json]',
    'agentphone optout export [--number NUMBER_ID] [--contact +15557654321] [--out FILE] [--json]',
  ].join('\n       '),
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      number: { type: 'string' },
      contact: { type: 'string' },
      state: { type: 'string' },
      limit: { type: 'string' },
      note: { type: 'string' },
      by: { type: 'string' },
      out: { type: 'string' },
    });
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const client = new AdminClient(io, { configPath: values.config, url: values.url, offlineSafe: true });
    const query = new URLSearchParams();
    if (values.number !== undefined) query.set('numberId', values.number);
    const qs = () => (query.size > 0 ? `?${query}` : '');
    switch (sub) {
      case 'list': {
        const state = values.state ?? 'opted_out';
        if (state !== 'opted_out' && state !== 'opted_in') throw new UsageError('--state must be opted_out or opted_in');
        query.set('state', state);
        if (values.limit !== undefined) {
          if (!/^\d+$/.test(values.limit)) throw new UsageError('--limit must be a whole number');
          query.set('limit', values.limit);
        }
        const res = await client.request('GET', `/opt-outs${qs()}`);
        return report(io, values.json, res, (b: { optOuts: OptOutRecord[] }) =>
          b.optOuts.length === 0
            ? `No contacts ${state === 'opted_out' ? 'opted out' : 'opted back in'}.`
            : table(['NUMBER', 'CONTACT', 'STATE', 'SINCE', 'HOW'], b.optOuts.map((o) => [o.numberId, o.contact, o.state, o.updatedAt, how(o)])),
        );
      }
      case 'add':
      case 'remove': {
        if (values.number === undefined) throw new UsageError('--number is required');
        if (values.contact === undefined) throw new UsageError('--contact is required');
        // Recorded in the audit log as who made the change.
        const change = { by: values.by ?? `cli:${io.env.USER ?? io.env.LOGNAME ?? 'unknown'}`, ...(values.note !== undefined && { note: values.note }) };
        const number = encodeURIComponent(values.number);
        const res =
          sub === 'add'
            ? await client.request('POST', `/numbers/${number}/opt-outs`, { contact: values.contact, ...change })
            : await client.request('DELETE', `/numbers/${number}/opt-outs/${encodeURIComponent(values.contact)}`, change);
        return report(io, values.json, res, describe);
      }
      case 'export': {
        if (values.contact !== undefined) query.set('contact', values.contact);
        query.set('limit', '100000');
        const res = await client.request('GET', `/opt-outs/audit${qs()}`);
        if (values.json || res.status >= 400) return report(io, values.json, res, () => '');
        const { auditCsv } = await import('../../compliance/audit-csv.ts');
        const csv = auditCsv((res.body as { entries: Parameters<typeof auditCsv>[0] }).entries);
        if (values.out === undefined) {
          io.stdout(csv);
          return 0;
        }
        const { writeFileSync } = await import('node:fs');
        writeFileSync(values.out, csv, { mode: 0o600 });
        io.stdout(`Wrote ${csv.split('\r\n').length - 2} audit entries to ${values.out}\n`);
        return 0;
      }
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
  },
};
