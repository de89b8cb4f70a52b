/**
 * The MMS domain's public face: the encapsulation codec, MMSC transports (HTTP, modem AT),
 * media fetch/fit/store, the inbound/outbound MMS service and the virtual MMSC.
 */
export * from './pdu/index.ts';
export { composeSendReq, readMessage, fromMmsAddress, toMmsAddress, type OutgoingMms, type ReceivedMms } from './compose.ts';
export type { MmsTransport } from './mms-transport.ts';
export { HttpMmscClient, type MmscClientOptions } from './mmsc-client.ts';
export { AtMmsTransport, type AtMmsOptions } from './at-mms-transport.ts';
export { MmscError, type MmscErrorCode } from './mmsc-error.ts';
export { MmsRepository, type OutboundMms, type InboundNotification, type MediaRow, type RawPush, type UnfetchableNotification } from './mms-repository.ts';
export { MmsService, type MmsInboundMeter, type MmsNumbers, type MmsServiceDeps, type MmsStatusRecorder } from './mms-service.ts';
export { SqlMediaStore, safeContentType, safeMediaName, type FoundMedia, type MediaStore, type MediaStoreKind, type MediaStoreOptions, type StagedMedia, type StoredMedia } from './media/media-store.ts';
export { FileMediaStore } from './media/file-media-store.ts';
export { DatabaseMediaStore } from './media/database-media-store.ts';
export { createMediaStore, mediaStoreKind } from './media/create-media-store.ts';
export { AddressPolicy } from './media/address-policy.ts';
export { ByteBudget, fetchMedia, type FetchLimits, type FetchedMedia, type FetchOptions } from './media/fetch-media.ts';
export { MediaFetcher, type MediaFetcherOptions } from './media/media-fetcher.ts';
export { fitMedia, type MediaItem, type StagedItem } from './media/fit-media.ts';
export { MediaError, type MediaErrorCode } from './media/media-error.ts';
export { ALLOWED_MEDIA_TYPES, normalizeType, sniffType } from './media/content-types.ts';
export { VirtualMmsc, type VirtualMmscOptions } from './virtual/virtual-mmsc.ts';
export { createMmsRuntime, type MmsRuntime, type MmsRuntimeDeps } from './runtime.ts';
