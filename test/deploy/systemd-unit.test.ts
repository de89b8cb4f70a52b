import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { hasCommand, describeWithTool } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const UNIT = join(ROOT, 'deploy', 'systemd', 'agentphone.service');
const ENV_EXAMPLE = join(ROOT, 'deploy', 'systemd', 'agentphone.env.example');
/** Where the unit expects the checkout. */
const INSTALL_DIR = '/opt/agentphone';

/** The unit's `Key=value` lines (repeated keys kept in order). */
function directives(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

describe('deploy/systemd/agentphone.service', () => {
  const unit = directives(readFileSync(UNIT, 'utf8'));
  const value = (key: string): string[] => unit.filter(([k]) => k === key).map(([, v]) => v);

  it('runs node on the gateway script of this checkout directly (not npm), as agentphone in group dialout', () => {
    const [exec = ''] = value('ExecStart');
    const [node, script, command] = exec.split(' ');
    expect(node).toMatch(/\/node$/);
    expect(script?.startsWith(`${INSTALL_DIR}/`)).toBe(true);
    expect(existsSync(join(ROOT, (script ?? '').slice(INSTALL_DIR.length + 1)))).toBe(true);
    expect(command).toBe('start');
    expect(value('WorkingDirectory')).toEqual([INSTALL_DIR]);
    expect(value('User')).toEqual(['agentphone']);
    expect(value('SupplementaryGroups')).toEqual(['dialout']);
    expect(value('Restart')).toEqual(['on-failure']);
    expect(value('StateDirectory')).toEqual(['agentphone']);
    expect(value('Environment')).toContain('AGENTPHONE_DATA_DIR=/var/lib/agentphone');
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp']) expect(value(key)).toEqual(['yes']);
    expect(value('ProtectSystem')).toEqual(['strict']);
    expect(value('ReadWritePaths')).toEqual(['/var/lib/agentphone']);
    expect(value('DeviceAllow')).toEqual(expect.arrayContaining(['char-ttyUSB rw', 'char-ttyACM rw']));
  });

  it('its environment file example is a configuration the gateway accepts', () => {
    const env = Object.fromEntries(directives(readFileSync(ENV_EXAMPLE, 'utf8')));
    expect(Object.keys(env).length).toBeGreaterThan(0);
    const config = loadConfig({ env, cwd: ROOT });
    expect({ host: config.server.host, port: config.server.port, level: config.log.level }).toEqual({ host: env.AGENTPHONE_HOST, port: Number(env.AGENTPHONE_PORT), level: env.AGENTPHONE_LOG_LEVEL });
  });
});

describeWithTool('systemd-analyze verify of the unit', hasCommand('systemd-analyze', ['--version']), 'systemd-analyze (package systemd)', () => {
  const tempDir = useTempDir();

  it('finds no unknown key, bad value or missing program (paths pointed at this checkout and this node)', () => {
    const file = join(tempDir(), 'agentphone.service');
    writeFileSync(file, readFileSync(UNIT, 'utf8').replaceAll('/usr/bin/node', process.execPath).replaceAll(INSTALL_DIR, ROOT));
    const res = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 30_000 });
    // Unknown keys and invalid values are only warnings (exit 0): the output must be empty too.
    expect({ status: res.status, stderr: res.stderr, stdout: res.stdout }).toEqual({ status: 0, stderr: '', stdout: '' });
  });
});
