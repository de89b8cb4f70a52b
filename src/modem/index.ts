/**
 * The modem domain's public face: AT-driven lines that send SUBMIT PDUs and hand out
 * received DELIVER / STATUS-REPORT PDUs, plus the virtual modem network (a runtime mode).
 */
export { createModemPool, ModemPool, type LineStatus, type ModemLineConfig, type ModemPoolConfig, type ModemPoolDeps, type ModemPoolEvents, type PortListing } from './pool.ts';
export { ModemDriver, backoffMs, type DriverOptions, type DriverStatus, type LineAtPort, type LineState, type SendHooks, type SubmitPdu } from './driver.ts';
export type { InboundPdu } from './inbox.ts';
export type { ModemIdentity } from './driver-init.ts';
export { ModemError, isModemError, type ModemErrorKind } from './errors.ts';
export { CME_ERRORS, CMS_ERRORS, isRetryableCme, isRetryableCms } from './error-codes.ts';
export { loadProfiles, getProfile, profileForUsb, type HardwareProfile, type Dialect } from './profiles.ts';
export { AtChannel, type AtResponse, type CommandOptions } from './at/channel.ts';
export { SerialTransport, openSerialTransport, type ModemTransport, type OpenTransport } from './at/transport.ts';
export type { Urc } from './at/urc.ts';
export { registerModemMetrics } from './metrics.ts';
export {
  createVirtualNetwork,
  VirtualNetwork,
  type NetworkFaults,
  type VirtualLineOptions,
  type VirtualNetworkOptions,
} from './virtual/network.ts';
export { VirtualModem, type ModemFaults } from './virtual/modem.ts';
export {
  MemorySubscriberInbox,
  type SubscriberInbox,
  type SubscriberMediaPart,
  type SubscriberMessage,
  type SubscriberMms,
  type SubscriberMmsEntry,
} from './virtual/subscriber-inbox.ts';
export { SqliteSubscriberInbox, SUBSCRIBER_INBOX_LIMIT } from './virtual/sqlite-subscriber-inbox.ts';
export type { ModemMmsRequest, ModemMmsResult } from './virtual/mms-client.ts';
export { ptyAvailable } from './virtual/pty.ts';
export { createDefaultVirtualLines } from './virtual/defaults.ts';
