import type { Page } from 'playwright-core';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import type { Core } from '../../src/core.ts';
import { newMessageId } from '../../src/ids/index.ts';
import { CallsRepository } from '../../src/store/index.ts';
import { CHROMIUM, useChromium } from '../dashboard/chromium.ts';
import { testApp } from '../helpers/gateway.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const ALICE = '+15551110001';
const BOB = '+15551110002';
const at = (m: number) => new Date(Date.UTC(2026, 0, 10, 12, m)).toISOString();

describeWithTool("dashboard's conversations on the conversation API (headless Chromium, real gateway app on loopback)", hasCommand(CHROMIUM), 'the Debian package chromium', () => {
  const tempDir = useTempDir();
  const browser = useChromium();
  let page: Page;
  let app: App | undefined;
  let core: Core | undefined;
  beforeAll(() => {
    page = browser.page();
  });
  afterEach(async () => {
    await app?.close();
    await core?.close();
  });

  it('opens the liveliest number, shows unread badges and call entries, and marks a conversation read when opened', async () => {
    ({ app, core } = await testApp(tempDir(), { server: { port: 0, publicUrl: null } }));
    const numberA = (await core.numbers.lineFound('la', '+15550000001')).id;
    await core.numbers.lineFound('lb', '+15550000002');
    const inbound = async (contact: string, body: string, createdAt: string) => {
      const id = newMessageId(Date.parse(createdAt));
      await core?.messages.insertInbound({ id, numberId: numberA, channel: 'sms', contact, body, media: [], encoding: 'gsm7', segments: 1, partial: false, missingParts: [], createdAt, dedupeKey: id });
    };
    await inbound(ALICE, 'alice one', at(1));
    await inbound(ALICE, 'alice two', at(2));
    const calls = new CallsRepository(core.store.db);
    await calls.insert({ id: 'call_ui', numberId: numberA, direction: 'inbound', contact: BOB, status: 'ringing', sipCallId: null, greeting: null, instructions: null, apiKeyId: null, createdAt: at(3) });
    await calls.markAnswered('call_ui', at(3));
    await calls.addTurn('call_ui', { callerText: 'Is the shop open on Sunday?', dtmf: null, action: 'respond', agentReply: 'Yes, from ten to four.', createdAt: at(3) });
    await calls.end({ id: 'call_ui', status: 'completed', endReason: 'hangup', sipStatus: null, errorMessage: null, durationMs: 61_000, billableMinutes: 2, endedAt: at(4) });
    await inbound(BOB, 'bob after the call', at(5));
    const unread = async (contact: string) => (await core?.conversations.list(numberA))?.conversations.find((c) => c.contact === contact)?.unread_count;

    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    await page.goto(url);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Messages' }).click();

    // Bob's conversation is the newest, so it opens: the call is in it, with its summary, and it is marked read.
    const bob = page.getByRole('region', { name: `Conversation with ${BOB}` });
    await bob.getByText('bob after the call').waitFor();
    await bob.getByText('Incoming call, completed, 1:01').waitFor();
    await bob.getByText('Caller: Is the shop open on Sunday? … Agent: Yes, from ten to four.').waitFor();
    expect(await page.getByLabel('Number').inputValue()).toBe(numberA);
    await expect.poll(() => unread(BOB)).toBe(0);

    // Alice's two messages are unread until her conversation is opened.
    const list = page.getByRole('navigation', { name: 'Conversations' });
    await list.getByLabel('2 unread').waitFor();
    expect(await unread(ALICE)).toBe(2);
    await list.getByText(ALICE).click();
    const alice = page.getByRole('region', { name: `Conversation with ${ALICE}` });
    await alice.getByText('alice two').waitFor();
    await expect.poll(() => unread(ALICE)).toBe(0);
    await expect.poll(() => list.getByLabel('2 unread').count()).toBe(0);
    // Oldest at the top.
    expect(await alice.locator('li.bubble p').allTextContents()).toEqual(['alice one', 'alice two']);
    await browser.shot('conversations');
  });
});
