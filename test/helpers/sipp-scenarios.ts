import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Custom sipp scenarios for the real-SIP suite, written to a temp dir and run with -sf.
 * sipp fills in [remote_ip], [last_Via:] and the like; a scenario fails (non-zero exit)
 * when a message other than the expected one arrives.
 */

const header = (name: string) => `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="${name}">\n`;

function answer(status: string, extra: string): string {
  return `  <send><![CDATA[
SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01
[last_Call-ID:]
[last_CSeq:]
${extra}Content-Length: 0

]]></send>\n`;
}

/**
 * A registrar (UAS): each REGISTER is challenged with 401 (a fresh nonce), then the
 * authenticated one gets 200 with the expiry from `grants` (one REGISTER cycle per entry).
 */
export function registrarScenario(dir: string, realm: string, grants: readonly number[]): string {
  let xml = header('registrar with digest auth');
  grants.forEach((expiresS, i) => {
    xml += '  <recv request="REGISTER" />\n';
    xml += answer('401 Unauthorized', `WWW-Authenticate: Digest realm="${realm}", nonce="nonce${i}", algorithm=MD5\n`);
    xml += '  <recv request="REGISTER" />\n';
    xml += answer('200 OK', `[last_Contact:];expires=${expiresS}\n`);
  });
  xml += '</scenario>\n';
  const file = join(dir, 'registrar.xml');
  writeFileSync(file, xml);
  return file;
}

/**
 * A caller (UAC) sending one INVITE with PCMU to `requestUser` at the server, with `toUser` in
 * its To header. Expects `expect`: 200 (then ACK, a short pause and BYE) or a final error
 * (then ACK).
 */
export function callerScenario(dir: string, opts: { requestUser: string; toUser: string; fromUser?: string; expect: number; name?: string }): string {
  const from = opts.fromUser ?? '15557770000';
  let xml = header(`INVITE ${opts.requestUser} expecting ${opts.expect}`);
  xml += `  <send retrans="500"><![CDATA[
INVITE sip:${opts.requestUser}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:${from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:${opts.toUser}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:${from}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="183" optional="true" />
`;
  if (opts.expect === 200) {
    xml += `  <recv response="200" />
  <send><![CDATA[
ACK sip:${opts.requestUser}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:${from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:${opts.toUser}@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:${from}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="300" />
  <send retrans="500"><![CDATA[
BYE sip:${opts.requestUser}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:${from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:${opts.toUser}@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:${from}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
`;
  } else {
    xml += `  <recv response="${opts.expect}" />
  <send><![CDATA[
ACK sip:${opts.requestUser}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:${from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:${opts.toUser}@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
`;
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
