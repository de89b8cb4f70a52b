import type { ApiPrincipal } from '../auth/index.ts';
import type { Clock } from '../clock/index.ts';
import type { McpConfig } from '../config/index.ts';
import type { ConversationsService } from '../conversations/index.ts';
import type { Logger } from '../logging/index.ts';
import type { SendService } from '../messaging/index.ts';
import type { UsageLedger } from '../metering/index.ts';
import type { NumberService } from '../numbers/index.ts';
import type { CallsRepository, MessagesRepository } from '../store/index.ts';
import type { CallControl } from '../voice/index.ts';
import type { MessageEvents } from './message-events.ts';

/** What `transcribe` hands the Whisper service: the audio's bytes, and who pays for the minutes. */
export interface TranscribeRequest {
  principal: ApiPrincipal;
  audio: Uint8Array;
  signal: AbortSignal;
}

export interface TranscribeResult {
  text: string;
  language: string;
  durationS: number;
}

/** Stored media (received MMS parts) by id, as /media/:id serves it. */
export interface MediaLookup {
  read(id: string): Promise<{ contentType: string; data: Uint8Array } | undefined>;
}

/** The services the MCP tools call: the same ones the REST routes call. */
export interface McpDeps {
  config: McpConfig;
  logger: Logger;
  clock: Clock;
  numbers: NumberService;
  send: SendService;
  messages: MessagesRepository;
  events: MessageEvents;
  ledger: UsageLedger;
  calls: CallsRepository;
  /** This node's call manager, or on a cluster the shared call queue; absent when voice is not configured (place_call then answers 503). */
  manager: () => CallControl | undefined;
  conversations: ConversationsService;
  /** Absent when the gateway has no transcription service. */
  transcribe?: ((req: TranscribeRequest) => Promise<TranscribeResult>) | undefined;
  media?: MediaLookup | undefined;
  /** The gateway's own origins, so a /media/<id> URL on it is recognised (server.publicUrl, media.publicUrl, the listen address). */
  ownOrigins: () => readonly string[];
}
