import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * sipp scenarios for the real-SIP suites and the SIP bench, written to a temp dir and run with
 * -sf. sipp fills in [remote_ip], [last_Via:] and the like; a scenario fails (non-zero exit)
 * when a message other than the expected one arrives. The builders below are the one place the
 * messages are spelled out, so every scenario sends the same wire text for the same step.
 */

const header = (name: string) => `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="${name}">\n`;

/** Writes `<dir>/<name>.xml`, a scenario of that name made of `xml` (the builders' blocks). */
export function writeScenario(dir: string, name: string, xml: string): string {
  const path = join(dir, `${name}.xml`);
  writeFileSync(path, `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">\n${xml}\n</scenario>\n`);
  return path;
}

/** The To tag sipp gives the dialogs it answers (one per call). */
export const CALLEE_TAG = '[pid]SIPpTag01[call_number]';
/** The Contact a sipp callee puts in its answers. */
const CALLEE_CONTACT = 'Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>';

export interface AudioSdpOptions {
  /** The o= user name. */
  owner: 'caller' | 'callee';
  /** The m=audio port; sipp's own [media_port] when absent. */
  port?: number;
  /** o= session id and version; "1 1" when absent. */
  session?: string;
  /** o= and c= from sipp's [local_ip]/[media_ip] keywords instead of a literal 127.0.0.1. */
  sippAddresses?: boolean;
  /** Offers telephone-event/8000 as payload type 101 next to PCMU. */
  dtmf?: boolean;
  /** An a=fmtp line for payload type 101 (e.g. "0-16"). */
  dtmfEvents?: string;
}

/** An SDP body with one PCMU audio stream (each line ends in a newline). */
export function audioSdp(o: AudioSdpOptions): string {
  const origin = o.sippAddresses ? 'IP[local_ip_type] [local_ip]' : 'IP4 127.0.0.1';
  const connection = o.sippAddresses ? 'IP[media_ip_type] [media_ip]' : 'IP4 127.0.0.1';
  let sdp = `v=0\no=${o.owner} ${o.session ?? '1 1'} IN ${origin}\ns=-\nc=IN ${connection}\nt=0 0\n`;
  sdp += `m=audio ${o.port ?? '[media_port]'} RTP/AVP 0${o.dtmf ? ' 101' : ''}\na=rtpmap:0 PCMU/8000\n`;
  if (o.dtmf) sdp += 'a=rtpmap:101 telephone-event/8000\n';
  if (o.dtmfEvents) sdp += `a=fmtp:101 ${o.dtmfEvents}\n`;
  return sdp;
}

/** Content-Type and Content-Length headers, the blank line and the body (Content-Length: 0 without one). */
const withBody = (sdp: string | undefined) => (sdp === undefined ? 'Content-Length: 0\n' : `Content-Type: application/sdp\nContent-Length: [len]\n\n${sdp}`);

export interface SippResponseOptions {
  /** A To tag added to the request's To (a new dialog); none when the request was in one already. */
  toTag?: string;
  /** The CSeq line; the request's own ([last_CSeq:]) when absent. */
  cseq?: string;
  /** Adds the callee's Contact. */
  contact?: boolean;
  /** Extra header lines (each ending in a newline), after Contact. */
  headers?: string;
  sdp?: string;
}

/** A response sipp sends to the last request it received. */
export function sippResponse(status: string, o: SippResponseOptions = {}): string {
  return `  <send><![CDATA[
SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:]${o.toTag ? `;tag=${o.toTag}` : ''}
[last_Call-ID:]
${o.cseq ?? '[last_CSeq:]'}
${o.contact ? `${CALLEE_CONTACT}\n` : ''}${o.headers ?? ''}${withBody(o.sdp)}
]]></send>\n`;
}

export interface SippRequestOptions {
  /** The user of the request URI (and of To unless `toUser`). */
  user: string;
  toUser?: string;
  /** The From user; its tag is sipp's caller tag. */
  from: string;
  cseq: number;
  /** A Contact with this user; none when absent. */
  contact?: string;
  /** The Via branch; sipp's fresh [branch] when absent. */
  branch?: string;
  /** Copies the Via of the last message received (the ACK of a non-2xx final answer). */
  lastVia?: boolean;
  /** Adds the callee's To tag ([peer_tag_param]): a request within the dialog. */
  inDialog?: boolean;
  /** Retransmits every 500 ms until answered (UDP). */
  retrans?: boolean;
  sdp?: string;
}

/** A request sipp sends as the caller (UAC). */
export function sippRequest(method: 'INVITE' | 'ACK' | 'BYE' | 'CANCEL', o: SippRequestOptions): string {
  const via = o.lastVia ? '[last_Via:]' : `Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${o.branch ?? '[branch]'}`;
  return `  <send${o.retrans ? ' retrans="500"' : ''}><![CDATA[
${method} sip:${o.user}@[remote_ip]:[remote_port] SIP/2.0
${via}
From: <sip:${o.from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:${o.toUser ?? o.user}@[remote_ip]:[remote_port]>${o.inDialog ? '[peer_tag_param]' : ''}
Call-ID: [call_id]
CSeq: ${o.cseq} ${method}
${o.contact ? `Contact: <sip:${o.contact}@[local_ip]:[local_port]>\n` : ''}Max-Forwards: 70
${withBody(o.sdp)}
]]></send>\n`;
}

/** Waits for the other side's BYE (within `timeoutMs`, or sipp's -timeout) and confirms it with 200. */
export function awaitByeAndConfirm(timeoutMs?: number): string {
  return `  <recv request="BYE"${timeoutMs === undefined ? '' : ` timeout="${timeoutMs}"`}/>\n${sippResponse('200 OK')}`;
}

/**
 * A callee that takes the INVITE and rings (180 with its To tag and Contact), then touches
 * ringing.flag in its working dir so the test knows. `saveCSeq` keeps the INVITE's CSeq number
 * in $cseq, for a final answer to the INVITE after other requests (CSeq: [$cseq] INVITE).
 */
export function ringingCallee(o: { saveCSeq?: boolean } = {}): string {
  const recv = o.saveCSeq ? '<recv request="INVITE"><action><ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cseq"/></action></recv>' : '<recv request="INVITE"/>';
  return `  ${recv}\n${sippResponse('180 Ringing', { toTag: CALLEE_TAG, contact: true })}  <nop><action><exec command="touch ringing.flag"/></action></nop>\n`;
}


/** A callee that rings, answers the CANCEL with 200 and the INVITE with 487. */
export function ringThenCanceledCallee(): string {
  return `${ringingCallee({ saveCSeq: true })}  <recv request="CANCEL" timeout="15000"/>
${sippResponse('200 OK', { toTag: CALLEE_TAG })}${sippResponse('487 Request Terminated', { toTag: CALLEE_TAG, cseq: 'CSeq: [$cseq] INVITE' })}  <recv request="ACK"/>`;
}

/** A callee that answers at once with media at `mediaPort` (the test's RTP peer), then waits for the gateway's BYE. */
export function answeringCallee(mediaPort: number): string {
  return `  <recv request="INVITE"/>
${sippResponse('200 OK', { toTag: CALLEE_TAG, contact: true, sdp: audioSdp({ owner: 'callee', port: mediaPort, dtmf: true, dtmfEvents: '0-16' }) })}  <recv request="ACK"/>
${awaitByeAndConfirm(15_000)}`;
}

/**
 * A registrar (UAS): each REGISTER is challenged with 401 (a fresh nonce), then the
 * authenticated one gets 200 with the expiry from `grants` (one REGISTER cycle per entry).
 */
export function registrarScenario(dir: string, realm: string, grants: readonly number[]): string {
  let xml = header('registrar with digest auth');
  grants.forEach((expiresS, i) => {
    xml += '  <recv request="REGISTER" />\n';
    xml += sippResponse('401 Unauthorized', { toTag: '[pid]SIPpTag01', headers: `WWW-Authenticate: Digest realm="${realm}", nonce="nonce${i}", algorithm=MD5\n` });
    xml += '  <recv request="REGISTER" />\n';
    xml += sippResponse('200 OK', { toTag: '[pid]SIPpTag01', headers: `[last_Contact:];expires=${expiresS}\n` });
  });
  xml += '</scenario>\n';
  const file = join(dir, 'registrar.xml');
  writeFileSync(file, xml);
  return file;
}

/**
 * A caller (UAC) sending one INVITE to `requestUser` at the server, with `toUser` in its To
 * header and a PCMU offer (or `sdp`). Expects `expect`: 200 (then ACK, a pause of `pauseMs`,
 * 300 by default, and BYE) or a final error (then ACK).
 */
export function callerScenario(dir: string, opts: { requestUser: string; toUser: string; fromUser?: string; expect: number; name?: string; sdp?: string; pauseMs?: number }): string {
  const call = { user: opts.requestUser, toUser: opts.toUser, from: opts.fromUser ?? '15557770000' };
  const sdp = opts.sdp ?? audioSdp({ owner: 'caller', session: '53655765 2353687637', sippAddresses: true });
  let xml = header(`INVITE ${opts.requestUser} expecting ${opts.expect}`);
  xml += sippRequest('INVITE', { ...call, cseq: 1, contact: call.from, retrans: true, sdp });
  xml += '  <recv response="100" optional="true" />\n  <recv response="180" optional="true" />\n  <recv response="183" optional="true" />\n';
  if (opts.expect === 200) {
    xml += '  <recv response="200" />\n';
    xml += sippRequest('ACK', { ...call, cseq: 1, contact: call.from, inDialog: true });
    xml += `  <pause milliseconds="${opts.pauseMs ?? 300}" />\n`;
    xml += sippRequest('BYE', { ...call, cseq: 2, contact: call.from, inDialog: true, retrans: true });
    xml += '  <recv response="200" />\n';
  } else {
    xml += `  <recv response="${opts.expect}" />\n`;
    xml += sippRequest('ACK', { ...call, cseq: 1, lastVia: true, inDialog: true });
  }
  xml += '</scenario>\n';
  const file = join(dir, `${opts.name ?? 'caller'}.xml`);
  writeFileSync(file, xml);
  return file;
}


/** The SIP messages sipp received (from its -trace_msg -message_file), in order. */
export function receivedMessages(messageFile: string): string[] {
  const text = readFileSync(messageFile, 'utf8');
  return text
    .split(/^-{10,}.*$/m)
    .filter((block) => /message received/.test(block))
    .map((block) => block.replace(/^[\s\S]*?message received[^\n]*\n\s*\n?/, '').replace(/\r/g, '').trim());
}

/** A header's value in one message (first occurrence, case-insensitive name). */
export function headerOf(message: string, name: string): string | undefined {
  const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im').exec(message);
  return m?.[1]?.trim();
}
