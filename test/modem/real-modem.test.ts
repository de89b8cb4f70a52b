import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { systemClock } from '../../src/clock/index.ts';
import { loadProfiles, ModemDriver, openSerialTransport } from '../../src/modem/index.ts';
import { waitForEvent } from '../fakes/wait.ts';

const PORT = process.env.AGENTPHONE_TEST_MODEM;

// The hardware half of the driver suite: the same init, identity and health checks the
// virtual dialects pass, against a modem on a real serial port.
describe.skipIf(!PORT)(`driver against a real modem ${PORT ? `at ${PORT}` : '(skipped: set AGENTPHONE_TEST_MODEM=/dev/ttyUSB2 to run)'}`, () => {
  it('initialises, reads identity and health, and stops cleanly', async () => {
    const driver = new ModemDriver({
      lineId: 'hw',
      path: PORT!,
      profiles: loadProfiles(),
      pin: process.env.AGENTPHONE_TEST_MODEM_PIN,
      openTransport: openSerialTransport,
      clock: systemClock,
      logger: silentLogger(),
    });
    const settled = waitForEvent(driver, 'state', (s: string) => s === 'ready' || s === 'degraded');
    driver.start();
    await settled;
    const status = driver.status();
    expect(status.identity.imei).toMatch(/^\d{14,16}$/);
    expect(status.profile).toBeTruthy();
    await driver.stop();
  }, 120_000);
});
