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

interface MmsInboxView {
  phone: string;
  messages: { from: string; subject: string | null; body: string; receivedAt: string; media: MediaPartView[] }[];
}

interface MediaPartView {
  contentType: string;
  name: string | null;
  size: number;
  url: string;
}

/** 1234 → "1234 B", 52_000 → "50.8 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Both inboxes of a phone, texts and MMS, oldest first; MMS parts by name, type and size. */
function inboxTable(sms: InboxView, mms: MmsInboxView | null): string {
  const rows = [
    ...sms.messages.map((m) => ({ at: m.receivedAt, cells: [m.from, m.receivedAt, 'sms', String(m.parts), m.body, ''] })),
    ...(mms?.messages ?? []).map((m) => ({
      at: m.receivedAt,
      cells: [
        m.from,
        m.receivedAt,
        'mms',
        String(m.media.length),
        m.subject ? `[${m.subject}] ${m.body}` : m.body,
        m.media.map((p) => `${p.name ?? '(unnamed)'} (${p.contentType}, ${formatBytes(p.size)})`).join('; '),
      ],
    })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  if (rows.length === 0) return `Nothing received by ${sms.phone} yet.`;
  const unavailable = mms === null ? '\n(MMS not shown: no virtual MMSC is running)' : '';
  return table(['FROM', 'RECEIVED', 'CHANNEL', 'PARTS', 'BODY', 'FILES'], rows.map((r) => r.cells)) + unavailable;
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
      const phone = encodeURIComponent(values.phone);
      const res = await client.request('GET', `/sim/inbox?phone=${phone}`);
      if (res.status >= 400) return report(io, values.json, res, () => '');
      // MMS come from the virtual MMSC, which answers 503 when virtual.mms.enabled is false.
      const mmsRes = await client.request('GET', `/sim/mms-inbox?phone=${phone}`);
      if (mmsRes.status >= 400 && mmsRes.status !== 503) return report(io, values.json, mmsRes, () => '');
      const mms = mmsRes.status < 400 ? (mmsRes.body as MmsInboxView) : null;
      const both = { status: res.status, body: { ...(res.body as InboxView), mms: mms?.messages ?? null } };
      return report(io, values.json, both, (body: InboxView) => inboxTable(body, mms));
    }
    throw new UsageError('expected: sim text ... | sim inbox ...');
  },
};
