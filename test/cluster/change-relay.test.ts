/**
 * ChangeRelay on the in-process bus (LocalNotifier, the same contract as PgNotifier), two relays
 * standing for two nodes, each with its own MessageChanges feed (the one MessagesRepository
 * uses). The real-PostgreSQL path is test/cluster/live-across-nodes.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CHANGES_CHANNEL, ChangeRelay, LocalNotifier, MAX_PAYLOAD_BYTES, type Unlisten } from '../../src/cluster/index.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { MessageChanges } from '../../src/store/messages-repository.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { until } from '../helpers/wait.ts';

/** The bus, counting what is notified on the changes channel. */
class CountingNotifier extends LocalNotifier {
  readonly payloads: string[] = [];
  override async notify(channel: string, payload: string): Promise<void> {
    if (channel === CHANGES_CHANNEL) this.payloads.push(payload);
    return super.notify(channel, payload);
  }
}

/** A bus that takes nothing until the test opens the gate (a PostgreSQL that has gone slow). */
class GatedNotifier extends CountingNotifier {
  #open: () => void = () => undefined;
  #gate: Promise<void> = new Promise((resolve) => (this.#open = resolve));
  inFlight = 0;
  override async notify(channel: string, payload: string): Promise<void> {
    if (channel !== CHANGES_CHANNEL) return super.notify(channel, payload);
    this.inFlight++;
    await this.#gate;
    this.inFlight--;
    return super.notify(channel, payload);
  }
  open(): void {
    this.#open();
  }
}

interface Node {
  feed: MessageChanges;
  heard: string[];
  stop: Unlisten;
}

describe('ChangeRelay', () => {
  const clock = new ManualClock();
  let bus: CountingNotifier;
  const stops: Unlisten[] = [];

  async function node(): Promise<Node> {
    const feed = new MessageChanges();
    const heard: string[] = [];
    feed.listen((id) => heard.push(id));
    const stop = await new ChangeRelay(bus, feed, silentLogger(), { batchMs: 25, clock }).start();
    stops.push(stop);
    return { feed, heard, stop };
  }

  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await bus?.close();
  });

  it("hears each of its own changes once, at once, and the other node's after the batch window", async () => {
    bus = new CountingNotifier({ logger: silentLogger() });
    const [a, b] = [await node(), await node()];
    a.feed.emit('msg_1');
    expect(a.heard).toEqual(['msg_1']);
    expect(b.heard).toEqual([]);
    clock.advance(25);
    await until(() => b.heard.length === 1);
    expect(b.heard).toEqual(['msg_1']);
    // A's own notification came back to it over the bus and was skipped.
    await new Promise((r) => setTimeout(r, 20));
    expect(a.heard).toEqual(['msg_1']);
  });

  it('sends a burst of 1000 changes in a few notifications, each under the payload limit, none lost', async () => {
    bus = new CountingNotifier({ logger: silentLogger() });
    const [a, b] = [await node(), await node()];
    const ids = Array.from({ length: 1000 }, (_, i) => `msg_0190f3a1-7c2e-7000-8000-${String(i).padStart(12, '0')}`);
    for (const id of ids) a.feed.emit(id);
    // A status change to a message already pending in this batch adds nothing.
    a.feed.emit(ids[999]!);
    clock.advance(25);
    await until(() => b.heard.length >= 1000);
    expect(b.heard).toEqual(ids);
    // As many ids per payload as fit (the 12-character tag, then a space before each id), not one notification each.
    const perPayload = Math.floor((MAX_PAYLOAD_BYTES - 12) / (ids[0]!.length + 1));
    expect(bus.payloads.length).toBe(Math.ceil(1000 / perPayload));
    for (const p of bus.payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it('publishes nothing when nothing changed, and nothing for a rolled-back or foreign id form', async () => {
    bus = new CountingNotifier({ logger: silentLogger() });
    const [a, b] = [await node(), await node()];
    clock.advance(1000);
    expect(bus.payloads).toEqual([]);
    // Another process on the bus (or a hostile one) sends junk: only well-formed ids reach listeners.
    await bus.notify(CHANGES_CHANNEL, `cafe00000000 msg_ok ${'x'.repeat(200)} bad\u00e9id  `);
    await until(() => b.heard.length > 0);
    expect(b.heard).toEqual(['msg_ok']);
    expect(a.heard).toEqual(['msg_ok']);
  });

  it('keeps one notification under way on a slow bus, with the changes meanwhile in one bigger batch', async () => {
    const gated = new GatedNotifier({ logger: silentLogger() });
    bus = gated;
    const [a, b] = [await node(), await node()];
    a.feed.emit('msg_first');
    clock.advance(25);
    for (let i = 0; i < 100; i++) a.feed.emit(`msg_${i}`);
    clock.advance(25);
    clock.advance(25);
    await new Promise((r) => setTimeout(r, 10));
    expect(gated.inFlight).toBe(1);
    gated.open();
    await until(() => b.heard.length === 101);
    expect(gated.payloads).toHaveLength(2);
    expect(gated.payloads[1]!.split(' ')).toHaveLength(101);
  });

  it('drops the oldest batches, not memory, when the bus stays behind', async () => {
    const gated = new GatedNotifier({ logger: silentLogger() });
    bus = gated;
    const [a, b] = [await node(), await node()];
    const ids = Array.from({ length: 20_000 }, (_, i) => `msg_0190f3a1-7c2e-7000-8000-${String(i).padStart(12, '0')}`);
    for (const id of ids) a.feed.emit(id);
    clock.advance(25);
    gated.open();
    await until(() => b.heard.at(-1) === ids.at(-1));
    // The first batch went out; of the rest, the newest 64 full batches (and the last, partial one).
    const perPayload = Math.floor((MAX_PAYLOAD_BYTES - 12) / (ids[0]!.length + 1));
    expect(b.heard.length).toBeLessThan(ids.length);
    expect(b.heard.length).toBe(perPayload * 65 + (ids.length % perPayload));
    expect(b.heard.slice(0, perPayload)).toEqual(ids.slice(0, perPayload));
  });

  it('sends what is pending when stopped, and publishes nothing afterwards', async () => {
    bus = new CountingNotifier({ logger: silentLogger() });
    const [a, b] = [await node(), await node()];
    a.feed.emit('msg_last');
    await a.stop();
    await until(() => b.heard.length === 1);
    expect(b.heard).toEqual(['msg_last']);
    a.feed.emit('msg_after');
    clock.advance(100);
    await new Promise((r) => setTimeout(r, 20));
    expect(bus.payloads).toHaveLength(1);
    expect(a.heard).toEqual(['msg_last', 'msg_after']);
  });
});
