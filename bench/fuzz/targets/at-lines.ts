/** What a modem says on its AT port: URCs, final result codes, and the answers the driver parses. */
import { ModemError } from '../../../src/modem/errors.ts';
import { looksUnsolicited, parseUrc, type Urc } from '../../../src/modem/at/urc.ts';
import { derivePrefix } from '../../../src/modem/at/channel.ts';
import {
  parseCnum,
  parseCops,
  parseCpmsQuery,
  parseCsq,
  parseIccid,
  parseMr,
  parseReg,
  parseStoredPdus,
  pduKind,
  valueOf,
} from '../../../src/modem/responses.ts';
import { AgentPhoneError } from '../../../src/errors/index.ts';
import { tokens } from '../mutate.ts';
import type { FuzzTarget } from '../target.ts';

/** Transcripts of real exchanges and URCs (Quectel, SIMCom, Huawei dialects). */
const TRANSCRIPTS = [
  '+CMTI: "SM",3',
  '+CMTI: "ME",12\r\n+CDSI: "SR",0',
  '+CMT: "",24\r\n07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07',
  '+CDS: 25\r\n07911326040000F006A40B911346610089F6121030316041801210303160418000',
  'RING\r\n+CLIP: "+15551234567",145,"",0,"",0',
  '^RSSI: 17\r\n^HCSQ: "LTE",45,38,170,25',
  '+CREG: 1\r\n+CEREG: 2,5,"1A2B","01A2B3C4",7',
  '+CPIN: READY\r\n^SIMST: 1\r\n+QUSIM: 1',
  '^SMMEMFULL: "SM"\r\n+QIND: "smsfull","SM"\r\n+CIEV: "MESSAGE",1',
  '^BOOT: 1,0,0,4,0\r\nRDY\r\n+CFUN: 1\r\nSMS DONE\r\nPB DONE',
  '+QMMSEND: 0,200\r\n+CMMSSEND: 0',
  '+CSQ: 21,99\r\nOK',
  '+CREG: 0,1\r\nOK',
  '+COPS: 0,0,"Operator",7\r\nOK',
  '+QCCID: 89860318760234521234\r\nOK',
  '+CRSM: 144,0,"98101430121181157002"\r\nOK',
  '+CNUM: "","15551234567",145\r\nOK',
  '+CMGS: 17\r\nOK',
  '+CPMS: "SM",30,30,"SM",30,30,"SM",30,30\r\nOK',
  '+CMGL: 1,0,,24\r\n07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07\r\n+CMGL: 2,1,,24\r\n0011000B915155214365F70000AA0AE8329BFD4697D9EC37\r\nOK',
  '+CMGR: 0,,24\r\n07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07\r\nOK',
  '+CMS ERROR: 500\r\n+CME ERROR: 10\r\n+CME ERROR: SIM not inserted\r\nERROR\r\nNO CARRIER',
];

function checkUrc(urc: Urc): string | undefined {
  if ((urc.type === 'new-message' || urc.type === 'new-status-report') && !(Number.isSafeInteger(urc.index) && urc.index >= 0)) {
    return `${urc.type} URC with storage index ${urc.index} (the driver would send AT+CMGR=${urc.index})`;
  }
  return undefined;
}

const FINAL_ERROR = /^(ERROR|\+CM[ES] ERROR:.*|COMMAND NOT SUPPORT|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|ABORTED)$/i;

export function createTarget(): FuzzTarget {
  return {
    name: 'at-lines',
    corpus: {
      seeds: TRANSCRIPTS.map((t) => new Uint8Array(Buffer.from(t, 'latin1'))),
      dictionary: tokens('\r\n', ',', '"', '""', ':', ' ', '-1', '99999999999999999999', '1e309', 'NaN', '0x10', '+CMTI:', '+CDSI:', '+CMT:', '+CDS:', '+CMS ERROR:', '+CME ERROR:', '^', '\x1b', '\x00', '> '),
      maxBytes: 1024,
    },
    run(input) {
      const lines = Buffer.from(input).toString('latin1').split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l !== '');
      const urcs: Urc[] = [];
      lines.forEach((line, i) => {
        looksUnsolicited(line);
        urcs.push(parseUrc(line, lines[i + 1]));
        derivePrefix(line);
        if (FINAL_ERROR.test(line)) ModemError.fromFinal(line, 'AT');
      });
      return {
        urcs,
        answers: [
          valueOf(lines),
          parseCsq(lines),
          parseReg(lines, '+CREG:'),
          parseReg(lines, '+CEREG:'),
          parseCops(lines),
          parseIccid('AT+CRSM=176,12258,0,0,10', lines),
          parseIccid('AT+QCCID', lines),
          parseCnum(lines),
          parseMr(lines),
          parseCpmsQuery(lines),
          parseStoredPdus(lines, '+CMGL:'),
          parseStoredPdus(lines, '+CMGR:'),
          pduKind(lines[0] ?? ''),
        ],
      };
    },
    // The URC parser may reject a line; the driver treats any coded error as a bad line.
    expected: (err) => err instanceof AgentPhoneError,
    check(result) {
      for (const urc of (result as { urcs: Urc[] }).urcs) {
        const problem = checkUrc(urc);
        if (problem) return problem;
      }
      return undefined;
    },
  };
}
