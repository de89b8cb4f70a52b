import { afterEach, describe, expect, it } from 'vitest';
import { ClusterWake, LocalNotifier, WAKE_CHANNEL } from '../../src/cluster/index.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { until } from '../helpers/wait.ts';

describe('ClusterWake', () => {
  const bus = new LocalNotifier({ logger: silentLogger() });
  afterEach(() => bus.close());

  it('sends the hints of one turn of the event loop once each, and routes them to their targets', async () => {
    const heard: string[] = [];
    await bus.listen(WAKE_CHANNEL, (payload) => heard.push(payload));
    const wake = new ClusterWake(bus, silentLogger());
    const lines: Array<string | undefined> = [];
    let mms = 0;
    const numbers: string[] = [];
    await wake.listen({
      outbound: (lineId) => lines.push(lineId),
      mms: () => mms++,
      number: async (id) => void numbers.push(id),
      call: () => undefined,
      hangup: () => undefined,
      everything: () => undefined,
    });
    // A burst of 32 sends for one line, two for another, an MMS and a number change, in one turn.
    for (let i = 0; i < 32; i++) wake.line('line-a');
    wake.line('line-b');
    wake.line('line-b');
    wake.mms();
    wake.number('num_1');
    await until(() => heard.length >= 4);
    await new Promise((r) => setTimeout(r, 20));
    expect(heard.sort()).toEqual(['line:line-a', 'line:line-b', 'mms', 'number:num_1']);
    expect(lines.sort()).toEqual(['line-a', 'line-b']);
    expect(mms).toBe(1);
    expect(numbers).toEqual(['num_1']);
    // The next turn's hints go out again.
    wake.line('line-a');
    await until(() => heard.length === 5);
    expect(heard.at(-1)).toBe('line:line-a');
  });
});
