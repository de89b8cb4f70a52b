import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('agentphone models list', () => {
  const tempDir = useTempDir();

  it('names the models directory (data dir default) above a table with a header row', async () => {
    const dataDir = tempDir();
    const r = await cli(['models', 'list'], { AGENTPHONE_DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    const [dirLine, blank, header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(dirLine).toBe(`Models directory: ${join(dataDir, 'models')}`);
    expect(blank).toBe('');
    expect(header).toMatch(/^NAME +FAMILY +DTYPE +STATE +DIR$/);
    expect(rows.length).toBeGreaterThan(0);
    const stateAt = header!.indexOf('STATE');
    const dirAt = header!.indexOf('DIR');
    for (const row of rows) {
      expect(row.slice(stateAt, dirAt).trim()).toBe('not installed');
      expect(row.slice(dirAt)).toBe(join(dataDir, 'models', row.split(' ')[0]!));
    }
  });

  it('follows AGENTPHONE_MODELS_DIR as the gateway does, and marks the test models found there', { timeout: 60_000 }, async () => {
    const dataDir = tempDir();
    const modelsDir = join(tempDir(), 'models');
    expect((await cli(['models', 'make-test', '--dir', modelsDir], { AGENTPHONE_DATA_DIR: dataDir })).code).toBe(0);
    const env = { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_MODELS_DIR: modelsDir };
    const json = await cli(['models', 'list', '--json'], env);
    const body = JSON.parse(json.stdout) as { modelsDir: string; models: { name: string; installed: boolean; test: boolean }[] };
    expect(body.modelsDir).toBe(modelsDir);
    expect(body.models.find((m) => m.name === 'whisper-large-v3')).toMatchObject({ installed: true, test: true });
    const human = await cli(['models', 'list'], env);
    expect(human.stdout.split('\n')[0]).toBe(`Models directory: ${modelsDir}`);
    expect(human.stdout).toMatch(/^whisper-large-v3 +whisper +fp32 +installed \(test model\) +\S+whisper-large-v3$/m);
  });
});
