/**
 * The SMS domain's public face: GSM 03.38 alphabets, the PDU codec (SUBMIT, DELIVER,
 * STATUS-REPORT), segmentation and reassembly. The codec is pure: bytes in, values out.
 */
export { PduError, type PduErrorCode } from './pdu-error.ts';
export { decodePdu, directionFromStat, tpduHexOf, tpduLengthOf, type DecodeOptions, type Direction } from './pdu.ts';
export { encodeSubmit, type SubmitOptions, type SubmitPdu } from './submit.ts';
export { encodeDeliver, type DeliverOptions } from './deliver.ts';
export { encodeStatusReport, deliveryStatus, type StatusReportOptions } from './status-report.ts';
export { segmentInfo, DEFAULT_MAX_PARTS, type SegmentInfo, type SegmentOptions } from './segmenter.ts';
export { replaceLookAlikes } from './smart-encoding.ts';
export { NATIONAL_LANGUAGES, type NationalLanguage } from './gsm7-tables.ts';
export { gsm7Length, type Gsm7Shift } from './gsm7.ts';
export type { Address, AddressKind, AddressType } from './address.ts';
export type { Alphabet, Dcs, MessageClass, MessageWaiting } from './dcs.ts';
export type { Timestamp } from './scts.ts';
export type { Concat, Ports, UdhElement } from './udh.ts';
export type { ValidityOption } from './validity.ts';
export type { BodyOptions } from './message-parts.ts';
export type {
  DecodedPdu,
  DecodedDeliver,
  DecodedSubmit,
  DecodedStatusReport,
  DecodedUserData,
  DeliveryOutcome,
  DeliveryStatus,
  Validity,
} from './types.ts';
export {
  Reassembler,
  inboundPart,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  type AcceptOutcome,
  type DeliverMessage,
  type InboundPart,
  type MessagePorts,
  type PartStore,
  type PartStoreTx,
  type ReassembledMessage,
  type ReassemblerOptions,
} from './reassembly.ts';
export { SqlPartStore } from './sql-part-store.ts';
