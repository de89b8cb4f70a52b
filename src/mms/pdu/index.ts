/** The MMS encapsulation codec: pure, bytes in and values out. */
export { MmsError, type MmsErrorCode } from './mms-error.ts';
export type { MmsMessageType, MmsPart, MmsPdu, MmsStatus } from './types.ts';
export { MMS_CONTENT_TYPE, MULTIPART_MIXED, MULTIPART_RELATED, decodeText, type ContentType } from './wsp.ts';
export {
  decodeDeliveryInd,
  decodeMms,
  decodeNotificationInd,
  decodeRetrieveConf,
  decodeSendConf,
  encodeAcknowledgeInd,
  encodeMms,
  encodeNotifyRespInd,
  responseStatusInfo,
  toDeliveryInd,
  toNotification,
  type DeliveryInd,
  type NotificationInd,
  type SendConf,
} from './pdu.ts';
export { WAP_PUSH_PORT, WAP_PUSH_SOURCE_PORT, decodeMmsPush, decodeWapPush, encodeWapPush, type WapPush } from './push.ts';
