import { connect } from 'node:net';
import type { Logger } from '../logging/index.ts';

/**
 * Opens one TCP connection that bypasses the egress policy, as a stray library would (a
 * telemetry ping, an update check). Only for the privacy test's "the watcher catches it" case:
 * the target comes from config's testExtraConnect, which is empty outside NODE_ENV=test.
 */
export function openTestExtraConnection(target: { host: string; port: number } | undefined, logger: Logger): void {
  if (!target) return;
  logger.warn({ host: target.host, port: target.port }, 'test-only: opening an unconfigured connection (AGENTPHONE_TEST_EXTRA_CONNECT)');
  const socket = connect({ host: target.host, port: target.port });
  socket.on('connect', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.setTimeout(5000, () => socket.destroy());
}
