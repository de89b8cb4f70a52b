import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ApiPrincipal } from '../auth/index.ts';
import { NotFoundError, UnavailableError, ValidationError } from '../errors/index.ts';
import type { CallRecord } from '../store/index.ts';
import { toCallView, turnView } from '../voice/index.ts';
import type { McpDeps } from './deps.ts';
import { runTool } from './tool-result.ts';

const numberId = z.string().min(1).max(64).describe('The number to act for (an id from list_numbers)');
const callId = z.string().min(1).max(64).describe('A call id from place_call');
/** A received media id, as /media/<id> serves it. */
const MEDIA_ID = /^[0-9A-Za-z]{1,32}$/;

/** Voice tools: place, inspect and end calls; transcribe received audio. */
export function registerCallTools(server: McpServer, deps: McpDeps, principal: ApiPrincipal): void {
  const { logger } = deps;
  const callOf = async (numberId: string, id: string) => {
    const number = await deps.numbers.find(numberId, principal);
    const call = await deps.calls.get(id);
    if (!call || call.numberId !== number.id) throw new NotFoundError(`Call ${id} not found`);
    return { number, call };
  };

  server.registerTool(
    'place_call',
    {
      title: 'Place a call',
      description: "Calls a phone from one of your numbers; when answered, the voice agent speaks the greeting and follows the instructions. Returns the call id (see get_call).",
      inputSchema: {
        number_id: numberId,
        to: z.string().min(1).max(32).describe('E.164 number to call'),
        greeting: z.string().max(1000).optional().describe('Spoken when the call is answered'),
        instructions: z.string().max(8000).optional().describe("Instructions for this call's agent"),
      },
      annotations: { destructiveHint: false, openWorldHint: true },
    },
    (args) =>
      runTool(logger, async () => {
        const number = await deps.numbers.find(args.number_id, principal);
        const manager = deps.manager();
        if (!manager) throw new UnavailableError('Voice is not configured on this gateway (voice.drachtio in the config)');
        const input = { to: args.to, ...(args.greeting !== undefined && { greeting: args.greeting }), ...(args.instructions !== undefined && { instructions: args.instructions }) };
        const call = await manager.placeCall(number, { ...input, apiKeyId: principal.keyId });
        return { callId: call.id, status: 'queued' as const };
      }),
  );

  server.registerTool(
    'get_call',
    {
      title: 'Get a call',
      description: 'A call: its status (queued, ringing, in-progress, completed, failed, canceled, refused), timing, and transcript turn by turn.',
      inputSchema: { number_id: numberId, call_id: callId },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      runTool(logger, async () => {
        const { number, call } = await callOf(args.number_id, args.call_id);
        return { ...toCallView(call, number), transcript: (await deps.calls.turns(call.id)).map(turnView) };
      }),
  );

  server.registerTool(
    'hang_up',
    {
      title: 'Hang up',
      description: 'Ends a call (or cancels one still ringing).',
      inputSchema: { number_id: numberId, call_id: callId },
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    (args) =>
      runTool(logger, async () => {
        const { number, call } = await callOf(args.number_id, args.call_id);
        await deps.manager()?.hangup(call.id);
        return toCallView((await deps.calls.get(call.id)) as CallRecord, number);
      }),
  );

  server.registerTool(
    'transcribe',
    {
      title: 'Transcribe audio',
      description: "Transcribes received audio (a voice note in an MMS) with the gateway's Whisper model: give its media URL on this gateway (/media/<id>, as messages list it) or the media id.",
      inputSchema: { media: z.string().min(1).max(2048).describe('A /media/<id> URL on this gateway, or the id') },
      annotations: { readOnlyHint: true },
    },
    (args, extra) =>
      runTool(logger, async () => {
        if (!deps.transcribe || !deps.media) throw new UnavailableError('Transcription is not available on this gateway');
        const id = mediaIdOf(args.media, deps.ownOrigins());
        const stored = await deps.media.read(id);
        if (!stored) throw new NotFoundError(`Media ${id} not found`);
        const result = await deps.transcribe({ principal, audio: stored.data, signal: extra.signal });
        return { text: result.text, language: result.language, duration: result.durationS };
      }),
  );
}

/**
 * The media id a `transcribe` argument names. Only this gateway's own media: the tool never
 * fetches a URL elsewhere (that would let a key holder make the gateway fetch any address).
 */
export function mediaIdOf(ref: string, ownOrigins: readonly string[]): string {
  if (MEDIA_ID.test(ref)) return ref;
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    throw new ValidationError('media: give a /media/<id> URL on this gateway or a media id');
  }
  const match = /^\/media\/([0-9A-Za-z]{1,32})$/.exec(url.pathname);
  if (!ownOrigins.includes(url.origin) || !match?.[1]) throw new ValidationError('media: only media stored on this gateway (a /media/<id> URL on it) can be transcribed');
  return match[1];
}
