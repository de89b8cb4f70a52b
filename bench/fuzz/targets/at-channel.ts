/**
 * Raw bytes from a modem's AT port into the channel that splits them into lines, answers
 * and URCs, with a command in flight. Nothing may throw out of the port's data handler (on a
 * serial port that would end the process), the command settles with an answer or a
 * ModemError, and a URC the driver acts on carries an integer storage index.
 */
import { AtChannel } from '../../../src/modem/at/channel.ts';
import type { Urc } from '../../../src/modem/at/urc.ts';
import { ModemError } from '../../../src/modem/errors.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { FakeTransport } from '../../../test/fakes/fake-transport.ts';
import { ManualClock } from '../../../test/fakes/manual-clock.ts';
import type { FuzzTarget } from '../target.ts';
import { createTarget as createLinesTarget } from './at-lines.ts';

/** Thrown out of the transport's data handler: a serial port would end the process. */
class DataHandlerError extends Error {}

const COMMANDS = ['AT+CMGL=4', 'AT+CMGS=24', 'AT+CSQ', 'ATI'] as const;

export function createTarget(): FuzzTarget {
  const lines = createLinesTarget();
  const logger = silentLogger();
  return {
    name: 'at-channel',
    corpus: { ...lines.corpus, seeds: [...lines.corpus.seeds, ...lines.corpus.seeds.map((s) => new Uint8Array(Buffer.concat([Buffer.from(s), Buffer.from('\r\n> ')])))] },
    async run(input) {
      const transport = new FakeTransport();
      const clock = new ManualClock();
      const channel = new AtChannel(transport, { clock, logger, defaultTimeoutMs: 1000 });
      const urcs: Urc[] = [];
      channel.on('urc', (u) => urcs.push(u));
      channel.on('garbage', () => undefined);
      channel.on('close', () => undefined);
      // The input's length picks the command and where the bytes are cut into chunks.
      const command = COMMANDS[input.length % COMMANDS.length]!;
      const answer = channel.command(command, command === 'AT+CMGS=24' ? { payload: '00' } : {}).then(
        (r) => r,
        (err: unknown) => err,
      );
      const cut = input.length === 0 ? 0 : (input[0] as number) % (input.length + 1);
      try {
        transport.emit('data', Buffer.from(input.subarray(0, cut)));
        transport.emit('data', Buffer.from(input.subarray(cut)));
        transport.emit('data', Buffer.from('\r\nOK\r\n'));
      } catch (err) {
        throw new DataHandlerError(`the AT channel's data handler threw: ${String(err)}`, { cause: err });
      }
      clock.advance(120_000);
      await channel.close();
      const settled = await answer;
      if (settled instanceof Error && !(settled instanceof ModemError)) throw settled;
      return { urcs };
    },
    expected: () => false,
    check: (result, input) => lines.check?.(result, input),
  };
}
