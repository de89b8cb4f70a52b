export type { McpDeps, MediaLookup, TranscribeRequest, TranscribeResult } from './deps.ts';
export { mediaLookup, whisperTranscriber } from './gateway-adapters.ts';
export { mcpRoutes, type McpRoutesOptions } from './http.ts';
export { MessageEvents } from './message-events.ts';
export { conversationUri, numberUri, parseResourceUri } from './resources.ts';
export { createMcpSession, type McpSession } from './server.ts';
