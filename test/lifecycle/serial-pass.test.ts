import { expect, it } from 'vitest';
import { SerialPass } from '../../src/lifecycle/index.ts';

it('runs one pass at a time, and once more after it however often it was asked meanwhile', async () => {
  let running = 0;
  let most = 0;
  let passes = 0;
  let release: () => void = () => undefined;
  const pass = new SerialPass(
    async () => {
      passes++;
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => (release = resolve));
      running--;
    },
    () => undefined,
  );
  pass.run();
  pass.run();
  pass.run();
  release();
  await new Promise((r) => setImmediate(r));
  release();
  await pass.settled();
  expect(passes).toBe(2);
  expect(most).toBe(1);
});

it('hands a failed pass to its handler and runs again when asked', async () => {
  const failures: unknown[] = [];
  let passes = 0;
  const pass = new SerialPass(async () => {
    if (++passes === 1) throw new Error('store down');
  }, (err) => failures.push(err));
  pass.run();
  await pass.settled();
  pass.run();
  await pass.settled();
  expect(passes).toBe(2);
  expect(failures).toHaveLength(1);
});
