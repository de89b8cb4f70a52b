import { splitParams } from '../at/urc.ts';
import type { DialectSpec } from './dialects.ts';
import type { VirtualMmsClient } from './mms-client.ts';
import type { SmsStore } from './sms-store.ts';

/** What the AT interpreter may see and change of its virtual modem. */
export interface CommandContext {
  modem: {
    readonly number: string;
    readonly imei: string;
    readonly iccid: string;
    readonly imsi: string;
    readonly spec: DialectSpec;
    readonly store: SmsStore;
    readonly registered: boolean;
    readonly rssi: number;
  };
  reply(lines: string[], final?: string): void;
  cme(code: number): void;
  cms(code: number): void;
  state(): {
    pin: string | undefined;
    echo: boolean;
    cmee: number;
    cmgf: number;
    csms: number;
    cnmi: number[];
    creg: number;
    cgreg: number;
    cereg: number;
    pinLocked: boolean;
    radioOn: boolean;
    mem: [string, string, string];
  };
  set(patch: Partial<{ echo: boolean; cmee: number; cmgf: number; csms: number; cnmi: number[]; creg: number; cgreg: number; cereg: number; radioOn: boolean; mem: [string, string, string] }>): void;
  unlock(pin: string): boolean;
  simBusy(): boolean;
  startPrompt(length: number): void;
  /** AT+CNMA: positive (RP-ACK) or AT+CNMA=2 (RP-ERROR); false when nothing awaits one. */
  ack(positive: boolean): boolean;
  reboot(reenumerate: boolean): void;
  freed(): void;
  /** The modem's own MMS client (Quectel and SIMCom dialects). */
  mms(): VirtualMmsClient;
}

type Outcome = { lines: string[] } | { error: 'CME' | 'CMS'; code: number } | { plainError: string } | { deferred: true };

const ok = (lines: string[] = []): Outcome => ({ lines });
const cme = (code: number): Outcome => ({ error: 'CME', code });
const cms = (code: number): Outcome => ({ error: 'CMS', code });

/** Runs one command line (`ATE0`, `AT+CMGF=0;+CNMI=2,1,0,2,0`) and writes its one final result. */
export function runCommandLine(ctx: CommandContext, line: string): void {
  let rest = line.slice(2);
  const lines: string[] = [];
  while (rest.length > 0) {
    let command: string;
    if (/^[+^#!$*%]/.test(rest)) {
      const end = rest.indexOf(';');
      command = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? '' : rest.slice(end + 1);
    } else {
      const basic = /^(&?[A-Z])(\d*)/i.exec(rest);
      if (!basic) return ctx.reply([], 'ERROR');
      command = basic[0];
      rest = rest.slice(basic[0].length).replace(/^;/, '');
    }
    const outcome = runOne(ctx, command);
    if ('deferred' in outcome) return;
    if ('plainError' in outcome) return ctx.reply(lines, outcome.plainError);
    if ('error' in outcome) return outcome.error === 'CME' ? ctx.cme(outcome.code) : ctx.cms(outcome.code);
    lines.push(...outcome.lines);
  }
  ctx.reply(lines);
}

function runOne(ctx: CommandContext, command: string): Outcome {
  const upper = command.toUpperCase();
  const eq = command.indexOf('=');
  const basicName = /^[+^#!$*%]/.test(upper) ? undefined : upper.replace(/\d+$/, '');
  const name = basicName ?? (eq < 0 ? upper.replace(/\?$/, '') : upper.slice(0, eq)).trim();
  const query = upper.endsWith('?') && eq < 0;
  const args = eq < 0 ? [] : splitParams(command.slice(eq + 1)).map((a) => a.replace(/^"(.*)"$/, '$1'));
  const st = ctx.state();
  const { modem } = ctx;
  const spec = modem.spec;

  const needSim = ['+CIMI', '+CNUM', '+CMGS', '+CMGR', '+CMGL', '+CMGD', '+CPMS', '+CNMI', '+CSCA', spec.iccid.command.replace(/^AT/, '').replace(/\?$/, '')];
  if (st.pinLocked && needSim.includes(name)) return cme(11);

  switch (name) {
    case 'E':
      ctx.set({ echo: upper !== 'E0' && upper !== 'E' });
      return ok();
    case 'V': case 'Q': case 'Z': case '&F': case '&W': case '&C': case '&D': case 'X':
      return ok();
    case 'I':
      return ok([spec.manufacturer, spec.model, `Revision: ${spec.revision}`]);
    case '+CMEE':
      if (query) return ok([`+CMEE: ${st.cmee}`]);
      ctx.set({ cmee: Number(args[0] ?? 0) });
      return ok();
    case '+CPIN':
      if (query) {
        if (ctx.simBusy()) return cme(14);
        return ok([`+CPIN: ${st.pinLocked ? 'SIM PIN' : 'READY'}`]);
      }
      if (!st.pinLocked) return cme(3);
      return ctx.unlock(args[0] ?? '') ? ok() : cme(16);
    case '+CGMI': case '+GMI':
      return ok([spec.manufacturer]);
    case '+CGMM': case '+GMM':
      return ok([spec.model]);
    case '+CGMR': case '+GMR':
      return ok([spec.revision]);
    case '+CGSN': case '+GSN':
      return ok([modem.imei]);
    case '+CIMI':
      return ok([modem.imsi]);
    case '+CNUM':
      return ok([`+CNUM: "","${modem.number}",145`]);
    case '+CRSM':
      if (args[0] === '176' && args[1] === '12258') return ok([`+CRSM: 144,0,"${swap(modem.iccid.padEnd(20, 'F'))}"`]);
      return cme(4);
    case '+CMGF':
      if (query) return ok([`+CMGF: ${st.cmgf}`]);
      ctx.set({ cmgf: Number(args[0] ?? 0) });
      return ok();
    case '+CSMS':
      if (query) return ok([`+CSMS: ${st.csms},1,1,1`]);
      ctx.set({ csms: Number(args[0] ?? 0) });
      return ok(['+CSMS: 1,1,1']);
    case '+CSCS':
      return ok(query ? ['+CSCS: "GSM"'] : []);
    case '^CURC': case '+QURCCFG': case '+CSCB':
      return ok();
    case '+CPMS':
      return cpms(ctx, query, args);
    case '+CNMI':
      if (query) return ok([`+CNMI: ${st.cnmi.join(',')}`]);
      ctx.set({ cnmi: [0, 1, 2, 3, 4].map((i) => Number(args[i] ?? 0)) });
      return ok();
    case '+CNMA': {
      const n = Number(args[0] ?? 0);
      if (st.csms !== 1 || ![0, 1, 2].includes(n)) return cms(340);
      return ctx.ack(n !== 2) ? ok() : cms(340);
    }
    case '+CSQ':
      return ok([`+CSQ: ${modem.registered && st.radioOn ? modem.rssi : 99},99`]);
    case '+CREG': case '+CEREG': case '+CGREG': {
      const key = name === '+CREG' ? 'creg' : name === '+CGREG' ? 'cgreg' : 'cereg';
      if (!query) {
        const n = Number(args[0] ?? 0);
        if (![0, 1, 2].includes(n)) return cme(3);
        ctx.set({ [key]: n });
        return ok();
      }
      const registered = modem.registered && st.radioOn;
      const location = st[key] === 2 && registered ? ',"00C3","0000B1A2",7' : '';
      return ok([`${name}: ${st[key]},${registered ? 1 : 0}${location}`]);
    }
    case '+COPS':
      if (!query) return ok();
      return ok([modem.registered && st.radioOn ? '+COPS: 0,0,"AgentPhone Virtual",7' : '+COPS: 0']);
    case '+CSCA':
      return ok(['+CSCA: "+15550000000",145']);
    case '+CMGS': {
      if (st.cmgf !== 0) return cms(302);
      const length = Number(args[0]);
      if (!Number.isInteger(length) || length < 7 || length > 164) return cms(304);
      ctx.startPrompt(length);
      return { deferred: true };
    }
    case '+CMGR': {
      const index = Number(args[0]);
      const mem = st.mem[0];
      if (!modem.store.valid(mem, index)) return cms(321);
      const sms = modem.store.get(mem, index);
      if (!sms) return cms(321);
      const out = [`+CMGR: ${sms.stat},,${pduLength(sms.pdu)}`, sms.pdu];
      if (sms.stat === 0) sms.stat = 1;
      return ok(out);
    }
    case '+CMGL': {
      const which = Number(args[0] ?? 4);
      const mem = st.mem[0];
      const out: string[] = [];
      for (const { index, sms } of modem.store.list(mem)) {
        if (which !== 4 && sms.stat !== which) continue;
        out.push(`+CMGL: ${index},${sms.stat},,${pduLength(sms.pdu)}`, sms.pdu);
        if (sms.stat === 0) sms.stat = 1;
      }
      return ok(out);
    }
    case '+CMGD': {
      const index = Number(args[0]);
      const mem = st.mem[0];
      if (args[1] !== undefined && Number(args[1]) === 4) {
        for (const { index: i } of modem.store.list(mem)) modem.store.delete(mem, i);
      } else if (!modem.store.valid(mem, index)) return cms(321);
      else modem.store.delete(mem, index);
      ctx.freed();
      return ok();
    }
    case '+CFUN':
      if (query) return ok([`+CFUN: ${st.radioOn ? 1 : 0}`]);
      if (args[1] === '1') {
        ctx.reboot(true);
        return ok();
      }
      ctx.set({ radioOn: args[0] !== '0' });
      return ok();
    case '^RESET': case '!RESET': case '#REBOOT': case '+CRESET':
      ctx.reboot(true);
      return ok();
    default: {
      const mms = ctx.mms().run(name, args, query);
      if (mms) return 'cme' in mms ? cme(mms.cme) : mms;
      if (spec.iccid.command === `AT${upper}`) return ok([spec.iccid.reply(modem.iccid)]);
      if (name === '+CCID') return ok([`+CCID: ${modem.iccid}`]);
      return spec.unknownCommand === 'ERROR' ? { plainError: 'ERROR' } : { plainError: spec.unknownCommand };
    }
  }
}

function cpms(ctx: CommandContext, query: boolean, args: string[]): Outcome {
  const { store, spec } = ctx.modem;
  const st = ctx.state();
  const usage = (mems: string[]): string => mems.map((m) => `${store.used(m)},${store.capacity(m)}`).join(',');
  if (query) return ok([`+CPMS: ${st.mem.map((m) => `"${m}",${store.used(m)},${store.capacity(m)}`).join(',')}`]);
  if (args.length < spec.cpmsMinParams || args.length > spec.cpmsMaxParams) return { plainError: 'ERROR' };
  if (args.some((m) => !store.has(m))) return cms(302);
  const mem: [string, string, string] = [args[0]!, args[1] ?? st.mem[1], args[2] ?? st.mem[2]];
  ctx.set({ mem });
  return ok([`+CPMS: ${usage(mem)}`]);
}

function pduLength(pdu: string): number {
  return pdu.length / 2 - (parseInt(pdu.slice(0, 2), 16) + 1);
}

function swap(hex: string): string {
  let out = '';
  for (let i = 0; i + 1 < hex.length; i += 2) out += hex[i + 1]! + hex[i]!;
  return out;
}
