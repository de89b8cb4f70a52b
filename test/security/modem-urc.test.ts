import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { getProfile } from '../../src/modem/index.ts';
import { AtChannel } from '../../src/modem/at/channel.ts';
import { parseUrc } from '../../src/modem/at/urc.ts';
import { Inbox } from '../../src/modem/inbox.ts';
import { parseStoredPdus } from '../../src/modem/responses.ts';
import { FakeTransport } from '../fakes/fake-transport.ts';
import { ManualClock } from '../fakes/manual-clock.ts';

const BAD_INDEXES = ['abc', '', '-1', '1e3', '0x10', '3.5', ' 7 8', '99999999999', 'NaN', '"3"'];

/** An inbox on an AT channel whose modem is the test. */
function inboxOnChannel() {
  const transport = new FakeTransport();
  const channel = new AtChannel(transport, { clock: new ManualClock(), logger: silentLogger() });
  const profile = getProfile('quectel-ec25');
  const inbox = new Inbox({
    lineId: 'line-1',
    channel,
    profile,
    logger: silentLogger(),
    commandTimeoutMs: 1000,
    emit: () => undefined,
  });
  channel.on('urc', (urc) => inbox.handleUrc(urc));
  const commands = () => transport.written.map((w) => w.trim()).filter((w) => w.startsWith('AT'));
  return { transport, commands, readStorage: profile.storage.read };
}

describe('+CMTI / +CDSI with an index that is no number', () => {
  it.each(BAD_INDEXES)('parses +CMTI / +CDSI index %j as malformed, not as an index', (index) => {
    expect(parseUrc(`+CMTI: "SM",${index}`)).toMatchObject({ type: 'malformed', head: '+CMTI' });
    expect(parseUrc(`+CDSI: "SR",${index}`)).toMatchObject({ type: 'malformed', head: '+CDSI' });
  });

  it('reads nothing for them on the AT port (never AT+CMGR=NaN), and still reads a good one', async () => {
    const { transport, commands, readStorage } = inboxOnChannel();
    for (const index of BAD_INDEXES) transport.push(`\r\n+CMTI: "SM",${index}\r\n\r\n+CDSI: "SR",${index}\r\n`);
    await Promise.resolve();
    expect(commands()).toEqual([]);
    // The URC names the storage the inbox reads from, so the read is one command.
    transport.push(`\r\n+CMTI: "${readStorage}",3\r\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(commands()).toEqual(['AT+CMGR=3']);
  });

  it('skips a +CMGL listing entry whose index is no number (it could only be deleted as AT+CMGD=NaN)', () => {
    const pdu = '0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B';
    const stored = parseStoredPdus(['+CMGL: x,0,,31', pdu, '+CMGL: 4,0,,31', pdu], '+CMGL:');
    expect(stored.map((s) => s.index)).toEqual([4]);
  });
});
