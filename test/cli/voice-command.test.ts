import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';

describe("agentphone voice (a number's call settings) against a running gateway", () => {
  const tempDir = useTempDir();
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  beforeAll(async () => {
    gw = await startTestGateway(tempDir());
  });
  afterAll(() => gw.stop());

  /** The CLI's environment and a number of its own for each test. */
  function env() {
    const e = { AGENTPHONE_ADMIN_TOKEN: 'test-admin-token-0123456789', AGENTPHONE_DATA_DIR: tempDir() };
    return { e, number: gw.numberA, run: (args: string[]) => cli([...args, '--url', gw.url], e) };
  }

  it('sets, keeps, clears and shows the system prompt, greeting and voice', async () => {
    const { number, run } = env();
    const shown = await run(['voice', 'show', '--number', number, '--json']);
    expect(JSON.parse(shown.stdout)).toEqual({ numberId: number, systemPrompt: null, greeting: null, voice: null });

    const set = await run(['voice', 'set', '--number', number, '--prompt', 'You book tables at Rosa.', '--greeting', 'Rosa, hello!', '--voice', 'leah', '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ numberId: number, systemPrompt: 'You book tables at Rosa.', greeting: 'Rosa, hello!', voice: 'leah' });

    // Only what is given changes; --no-greeting goes back to the gateway default.
    const cleared = await run(['voice', 'set', '--number', number, '--no-greeting', '--json']);
    expect(JSON.parse(cleared.stdout)).toEqual({ numberId: number, systemPrompt: 'You book tables at Rosa.', greeting: null, voice: 'leah' });

    const human = await run(['voice', 'show', '--number', number]);
    expect(human.stdout).toContain('greeting:      (gateway default)');
    expect(human.stdout).toContain('voice:         leah');
  });

  it('refuses an unknown voice with the spec error shape, and an unknown number with 404', async () => {
    const { number, run } = env();
    const bad = await run(['voice', 'set', '--number', number, '--voice', 'nobody', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: 'Bad Request', message: expect.stringContaining('voice: "nobody"') });
    const missing = await run(['voice', 'show', '--number', 'num_nope', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: 'Not Found' });
  });

  it.each([
    [['voice', 'set', '--number', 'num_1'], /nothing to set/],
    [['voice', 'set', '--number', 'num_1', '--greeting', 'x', '--no-greeting'], /--greeting and --no-greeting together/],
    [['voice', 'show'], /--number is required/],
    [['voice', 'frob', '--number', 'num_1'], /unknown subcommand "frob"/],
  ])('prints usage and exits 2 for %j', async (args, message) => {
    const res = await cli(args, { AGENTPHONE_DATA_DIR: tempDir() });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
  });
});
