import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

// The verification snippets of docs/webhooks.md, taken from the file as written, run in their
// own language against deliveries a real gateway (virtual modems on PTYs) POSTed.
const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'webhooks.md'), 'utf8');
const SUBSCRIBER = '+15557654321';

function snippet(language: string): string {
  const match = new RegExp('```' + language + ' verify\\n([\\s\\S]*?)```').exec(DOC);
  if (!match?.[1]) throw new Error(`docs/webhooks.md has no \`\`\`${language} verify block`);
  return match[1];
}

interface Case {
  name: string;
  body: Buffer;
  header: string;
  secret: string;
  /** The event the snippet must return, or null when it must refuse. */
  expected: Record<string, unknown> | null;
}

const hmac = (secret: string, data: Buffer) => createHmac('sha256', secret).update(data).digest('hex');

/** Real deliveries, and forgeries of them that each snippet must refuse. */
function casesFrom(deliveries: Array<{ raw: Buffer; header: string }>, secret: string): Case[] {
  const cases: Case[] = [];
  for (const [i, d] of deliveries.entries()) {
    const { signature: _signature, ...payload } = JSON.parse(d.raw.toString('utf8')) as Record<string, unknown>;
    cases.push({ name: `delivery ${i}`, body: d.raw, header: d.header, secret, expected: payload });
    cases.push({ name: `delivery ${i}, other secret`, body: d.raw, header: d.header, secret: `${secret}x`, expected: null });
    cases.push({ name: `delivery ${i}, header for other bytes`, body: d.raw, header: hmac(secret, Buffer.from('{}')), expected: null, secret });
    cases.push({ name: `delivery ${i}, no header`, body: d.raw, header: '', secret, expected: null });
    // The header re-made for altered bytes (as someone holding an old secret... or a proxy that
    // rewrote the body could): the body's own signature no longer matches.
    const altered = Buffer.from(d.raw.toString('utf8').replace(`"to":"`, `"to":"+1`));
    cases.push({ name: `delivery ${i}, altered payload`, body: altered, header: hmac(secret, altered), secret, expected: null });
  }
  return cases;
}

function run(command: string, args: string[], cases: Case[], cwd?: string): unknown[] {
  const input = JSON.stringify(cases.map((c) => ({ body: c.body.toString('base64'), header: c.header, secret: c.secret })));
  const res = spawnSync(command, args, { input, cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' } });
  if (res.status !== 0) throw new Error(`${command} failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as unknown[];
}

describe('docs/webhooks.md verification snippets', () => {
  let cases: Case[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-snippets-'));

  beforeAll(async () => {
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    const gw = await startTestGateway(join(dir, 'gateway'));
    try {
      await gw.core.numbers.setWebhook(gw.numberA, { url });
      // Text that JSON could escape in more than one way: quotes, backslash, emoji, accents, </script>.
      gw.network!.text(SUBSCRIBER, '+15550000001', 'Hi "agent" \\ 👋 café </script>');
      await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
      const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body: 'Ünïcödé ✓' }) });
      expect(res.status).toBe(200);
      await receiver.waitFor(() => receiver.events('message.status').length >= 1);
      const secret = gw.core.numbers.get(gw.numberA).webhookSecret;
      cases = casesFrom(
        receiver.received.map((h) => ({ raw: h.raw, header: String(h.headers['x-agentphone-signature']) })),
        secret,
      );
    } finally {
      await gw.stop();
      await receiver.stop();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the Node.js snippet accepts every delivery and refuses every forgery', () => {
    writeFileSync(join(dir, 'verify.mjs'), snippet('js'));
    const driver = `
      import { readFileSync } from 'node:fs';
      import { verifyAgentPhoneWebhook } from './verify.mjs';
      const cases = JSON.parse(readFileSync(0, 'utf8'));
      console.log(JSON.stringify(cases.map((c) => verifyAgentPhoneWebhook(Buffer.from(c.body, 'base64'), c.header, c.secret))));`;
    writeFileSync(join(dir, 'driver.mjs'), driver);
    const results = run(process.execPath, [join(dir, 'driver.mjs')], cases);
    expect(cases.filter((c) => c.expected !== null).length).toBeGreaterThanOrEqual(2);
    expect(results).toEqual(cases.map((c) => c.expected));
  });

  it('the Python snippet accepts every delivery and refuses every forgery', () => {
    const driver = `${snippet('python')}
import base64, sys
cases = json.load(sys.stdin)
print(json.dumps([verify_agentphone_webhook(base64.b64decode(c["body"]), c["header"], c["secret"]) for c in cases]))
`;
    writeFileSync(join(dir, 'verify.py'), driver);
    const results = run('python3', [join(dir, 'verify.py')], cases);
    expect(results).toEqual(cases.map((c) => c.expected));
  });

  describeWithTool('the Go snippet', hasCommand('go', ['version']), 'go (Debian package golang-go)', () => {
    it('accepts every delivery and refuses every forgery', () => {
      const mod = join(dir, 'go');
      mkdirSync(mod, { recursive: true });
      writeFileSync(join(mod, 'go.mod'), 'module example.com/agentphone\n\ngo 1.19\n');
      writeFileSync(join(mod, 'verify.go'), snippet('go').replace('package agentphone', 'package main'));
      writeFileSync(
        join(mod, 'main.go'),
        `package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
)

func main() {
	var cases []struct{ Body, Header, Secret string }
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := []any{}
	for _, c := range cases {
		body, _ := base64.StdEncoding.DecodeString(c.Body)
		if event, ok := VerifyWebhook(body, c.Header, c.Secret); ok {
			out = append(out, event)
		} else {
			out = append(out, nil)
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`,
      );
      const results = run('go', ['run', '.'], cases, mod);
      expect(results).toEqual(cases.map((c) => c.expected));
    });
  });
});
