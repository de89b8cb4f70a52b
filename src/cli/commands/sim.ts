import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report, table } from '../output.ts';

interface InboxView {
  phone: string;
  messages: { from: string; body: string; parts: number; receivedAt: string }[];
}

export const simCommand: CliCommand = {
  name: 'sim',
  summary: 'Act as a virtual subscriber phone on the virtual modem network',
  usage:
    'agentphone sim text --from +15551234567 --to <line number> --body "..." [--media FILE]... [--json]\n' +
    '       agentphone sim inbox --phone +15551234567 [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      from: { type: 'string' },
      to: { type: 'string' },
      body: { type: 'string' },
      phone: { type: 'string' },
      media: { type: 'string', multiple: true },
    });
    const client = new AdminClient(io, { configPath: values.config, url: values.url, offlineSafe: false });
    if (positionals[0] === 'text' && positionals.length === 1) {
      const files = values.media ?? [];
      if (files.length > 0) {
        // With files it is an MMS, through the virtual MMSC; the body is optional.
        if (!values.from || !values.to) throw new UsageError('sim text needs --from and --to');
        const media = files.map((file) => ({ name: basename(file), data: readFileSync(file).toString('base64') }));
        const res = await client.request('POST', '/sim/mms', { from: values.from, to: values.to, body: values.body ?? '', media });
        return report(io, values.json, res, () => `Sent an MMS with ${files.length} file(s) to ${values.to} from ${values.from}.`);
      }
      if (!values.from || !values.to || values.body === undefined) throw new UsageError('sim text needs --from, --to and --body');
      const res = await client.request('POST', '/sim/text', { from: values.from, to: values.to, body: values.body });
      return report(io, values.json, res, () => `Texted ${values.to} from ${values.from}.`);
    }
    if (positionals[0] === 'inbox' && positionals.length === 1) {
      if (!values.phone) throw new UsageError('sim inbox needs --phone');
      const res = await client.request('GET', `/sim/inbox?phone=${encodeURIComponent(values.phone)}`);
      return report(io, values.json, res, (body: InboxView) =>
        body.messages.length === 0
          ? `Nothing received by ${body.phone} yet.`
          : table(['FROM', 'RECEIVED', 'PARTS', 'BODY'], body.messages.map((m) => [m.from, m.receivedAt, String(m.parts), m.body])),
      );
    }
    throw new UsageError('expected: sim text ... | sim inbox ...');
  },
};
