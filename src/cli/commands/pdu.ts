import { parseCommandArgs } from '../args.ts';
import { UsageError, printResult, type CliCommand, type CliIo } from '../command.ts';
import { PduError, decodePdu, encodeSubmit, type DecodedPdu, type Direction } from '../../sms/index.ts';

/** The decoded fields an operator needs, in a stable flat shape. */
export function describePdu(d: DecodedPdu): Record<string, unknown> {
  const base = { type: d.type, smsc: d.smsc?.number ?? null, tpduLength: d.tpduLength };
  if (d.type === 'status-report') {
    return {
      ...base,
      recipient: d.recipient.number,
      messageRef: d.messageRef,
      timestamp: d.timestamp.iso,
      discharge: d.discharge.iso,
      status: d.status,
    };
  }
  const party = d.type === 'deliver' ? { originator: d.originator.number, originatorKind: d.originator.kind } : { recipient: d.recipient.number, messageRef: d.messageRef };
  return {
    ...base,
    ...party,
    ...(d.type === 'deliver' ? { timestamp: d.timestamp.iso } : { statusReportRequested: d.statusReportRequested }),
    encoding: d.encoding,
    messageClass: d.dcs.messageClass,
    text: d.text,
    ...(d.data === null ? {} : { data: Buffer.from(d.data).toString('hex').toUpperCase() }),
    ...(d.unsupported ? { unsupported: d.unsupported } : {}),
    udh: d.udh.map((e) => ({ iei: e.iei, data: Buffer.from(e.data).toString('hex').toUpperCase() })),
    concat: d.concat,
    ports: d.ports,
  };
}

/** `name:  value` lines, values in one column however long the longest name; a multi-line text keeps that column. */
function human(fields: Record<string, unknown>): string {
  const shown = Object.entries(fields).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0));
  const width = Math.max(...shown.map(([k]) => k.length)) + 2;
  return shown
    .map(([k, v]) => {
      const value = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return `${`${k}:`.padEnd(width)}${value.split(/\r\n|\r|\n/).join(`\n${' '.repeat(width)}`)}`;
    })
    .join('\n');
}

function decode(args: readonly string[], io: CliIo, json: boolean, hex: string | undefined, smsc: boolean, direction: string | undefined): number {
  if (hex === undefined || args.length > 0) throw new UsageError('pdu decode takes exactly one hex PDU');
  if (direction !== undefined && direction !== 'incoming' && direction !== 'outgoing') {
    throw new UsageError('--direction must be incoming or outgoing');
  }
  try {
    const fields = describePdu(decodePdu(hex, { hasSmsc: smsc, ...(direction ? { direction: direction as Direction } : {}) }));
    printResult(io, json, fields, () => human(fields));
    return 0;
  } catch (err) {
    if (!(err instanceof PduError)) throw err;
    if (json) io.stdout(`${JSON.stringify({ error: 'Malformed PDU', message: err.message, code: err.code, offset: err.offset }, null, 2)}\n`);
    else io.stderr(`agentphone pdu: ${err.message}\n`);
    return 1;
  }
}

export const pduCommand: CliCommand = {
  name: 'pdu',
  summary: 'Decode or encode SMS PDUs by hand (offline)',
  usage: [
    'agentphone pdu decode <hex> [--smsc | --no-smsc] [--direction incoming|outgoing] [--json]',
    'agentphone pdu encode --to NUMBER --text TEXT [--ref16] [--smsc NUMBER] [--no-status-report] [--json]',
  ].join('\n       '),
  run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'decode') {
      const { values, positionals } = parseCommandArgs(rest, {
        smsc: { type: 'boolean', default: true },
        'no-smsc': { type: 'boolean', default: false },
        direction: { type: 'string' },
      });
      const [hex, ...extra] = positionals;
      return Promise.resolve(decode(extra, io, values.json, hex, values.smsc && !values['no-smsc'], values.direction));
    }
    if (sub === 'encode') {
      const { values, positionals } = parseCommandArgs(rest, {
        to: { type: 'string' },
        text: { type: 'string' },
        smsc: { type: 'string' },
        ref16: { type: 'boolean', default: false },
        'no-status-report': { type: 'boolean', default: false },
      });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      if (values.to === undefined || values.text === undefined) throw new UsageError('--to and --text are required');
      const pdus = encodeSubmit({
        to: values.to,
        text: values.text,
        ref16: values.ref16,
        requestStatusReport: !values['no-status-report'],
        ...(values.smsc ? { smsc: values.smsc } : {}),
      });
      printResult(io, values.json, { pdus }, () => pdus.map((p) => `AT+CMGS=${p.tpduLength}\n${p.hex}`).join('\n'));
      return Promise.resolve(0);
    }
    throw new UsageError(sub === undefined ? 'a subcommand is required: decode or encode' : `unknown subcommand "${sub}"`);
  },
};
