import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors/index.ts';

function problems(raw: unknown): readonly string[] {
  try {
    validateConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('modems[].profile', () => {
  it('may be left out: the line has no profile and the driver detects one', () => {
    const config = validateConfig({ modems: [{ id: 'sim-a', port: '/dev/ttyUSB2' }] });
    expect(config.modems[0]!.profile).toBeUndefined();
  });

  it('accepts every bundled profile id', () => {
    expect(problems({ modems: [{ id: 'a', port: '/dev/ttyUSB2', profile: 'generic-27005' }, { id: 'b', port: '/dev/ttyUSB5', profile: 'huawei-e3372' }] })).toEqual([]);
  });

  it('an unknown name is an error naming the known profiles, reported with the other problems', () => {
    expect(problems({ server: { port: 99999 }, modems: [{ id: 'a', port: '/dev/ttyUSB2', profile: 'generic' }] })).toEqual([
      'server.port: must be <= 65535',
      'modems[0].profile: unknown modem profile "generic"; known: generic-27005, huawei-e3372, huawei-me909s, quectel-ec25, sierra-em74xx, simcom-sim7600, telit-le910 (or leave it out to detect the modem)',
    ]);
  });
});
