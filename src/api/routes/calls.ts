import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { NotFoundError, UnavailableError, ValidationError } from '../../errors/index.ts';
import { findVoice } from '../../inference/index.ts';
import type { NumberService } from '../../numbers/index.ts';
import type { CallRecord, CallsRepository, VoiceSettingsRecord } from '../../store/index.ts';
import { toCallView, turnView, type CallControl } from '../../voice/index.ts';
import { principalOf } from '../auth.ts';
import { ErrorSchema, errorResponses, NumberIdParams } from '../schemas.ts';

const CallStatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('ringing'),
  Type.Literal('in-progress'),
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('canceled'),
  Type.Literal('refused'),
]);

const CallView = Type.Object({
  id: Type.String({ examples: ['call_4kQ9xV2m8tZr'] }),
  numberId: Type.String(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
  from: Type.String(),
  to: Type.String(),
  status: CallStatusSchema,
  endReason: Type.Union([Type.String(), Type.Null()]),
  sipStatus: Type.Union([Type.Integer(), Type.Null()]),
  turns: Type.Integer(),
  durationSeconds: Type.Union([Type.Integer(), Type.Null()]),
  billableMinutes: Type.Integer(),
  createdAt: Type.String(),
  answeredAt: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.Union([Type.String(), Type.Null()]),
});

const TurnView = Type.Object({
  seq: Type.Integer(),
  caller: Type.String({ description: "What the caller said ('' for a keypad-only turn)" }),
  dtmf: Type.Union([Type.String(), Type.Null()]),
  action: Type.String({ description: 'respond, transfer, hangup, ignore, timeout or error' }),
  agent: Type.Union([Type.String(), Type.Null()], { description: "The agent's reply" }),
  heardFraction: Type.Union([Type.Number(), Type.Null()], { description: 'Share of the reply heard before the caller talked over it; null when heard to the end' }),
  at: Type.String(),
});

const CallDetailView = Type.Intersect([CallView, Type.Object({ transcript: Type.Array(TurnView) })]);

export interface CallsRoutesOptions {
  numbers: NumberService;
  calls: CallsRepository;
  /** This node's call manager, or on a cluster the queue every voice node claims from; absent (no voice here, SQLite): placing calls answers 503. */
  control: CallControl | undefined;
}

const CallParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), callId: Type.String({ minLength: 1, maxLength: 64 }) });

export const callsRoutes: FastifyPluginAsyncTypebox<CallsRoutesOptions> = async (app, { numbers, calls, control }) => {
  const callOf = async (numberId: string, callId: string) => {
    const c = await calls.get(callId);
    if (!c || c.numberId !== numberId) throw new NotFoundError(`Call ${callId} not found`);
    return c;
  };

  app.post(
    '/numbers/:id/calls',
    {
      schema: {
        summary: 'Place a voice call from this number; the agent talks when it is answered',
        tags: ['calls'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        body: Type.Object({
          to: Type.String({ description: 'E.164 number to call' }),
          greeting: Type.Optional(Type.String({ maxLength: 1000, description: 'Spoken when the call is answered' })),
          instructions: Type.Optional(Type.String({ maxLength: 8000, description: "Instructions for this call's agent" })),
        }),
        response: { 200: Type.Object({ callId: Type.String(), status: Type.Literal('queued') }), ...errorResponses, 403: ErrorSchema, 503: errorResponses[500] },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const number = numbers.get(request.params.id, principal);
      if (!control) throw new UnavailableError('Voice is not configured on this gateway (voice.drachtio in the config)');
      const call = await control.placeCall(number, { ...request.body, apiKeyId: principal.keyId });
      return { callId: call.id, status: 'queued' as const };
    },
  );

  app.get(
    '/numbers/:id/calls',
    {
      schema: {
        summary: "This number's calls, newest first",
        tags: ['calls'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        querystring: Type.Object({
          status: Type.Optional(CallStatusSchema),
          before: Type.Optional(Type.String({ description: 'createdAt cursor (nextCursor of the previous page)' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        }),
        response: { 200: Type.Object({ calls: Type.Array(CallView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => {
      const number = numbers.get(request.params.id, principalOf(request));
      const limit = request.query.limit ?? 50;
      const list = await calls.list(number.id, { limit: limit + 1, ...(request.query.status && { status: request.query.status }), ...(request.query.before && { before: request.query.before }) });
      const page = list.slice(0, limit);
      return { calls: page.map((c) => toCallView(c, number)), nextCursor: list.length > limit ? (page[page.length - 1]?.createdAt ?? null) : null };
    },
  );

  app.get(
    '/numbers/:id/calls/:callId',
    {
      schema: { summary: 'One call, with its transcript turn by turn', tags: ['calls'], security: [{ bearer: [] }], params: CallParams, response: { 200: CallDetailView, ...errorResponses } },
    },
    async (request) => {
      const number = numbers.get(request.params.id, principalOf(request));
      const call = await callOf(number.id, request.params.callId);
      return { ...toCallView(call, number), transcript: (await calls.turns(call.id)).map(turnView) };
    },
  );

  app.post(
    '/numbers/:id/calls/:callId/hangup',
    {
      schema: { summary: 'End a call (or cancel one still ringing)', tags: ['calls'], security: [{ bearer: [] }], params: CallParams, response: { 200: CallView, ...errorResponses } },
    },
    async (request) => {
      const number = numbers.get(request.params.id, principalOf(request));
      const call = await callOf(number.id, request.params.callId);
      await control?.hangup(call.id);
      return toCallView((await calls.get(call.id)) as CallRecord, number);
    },
  );
};

const VoiceSettingsView = Type.Object({
  numberId: Type.String(),
  systemPrompt: Type.Union([Type.String(), Type.Null()]),
  greeting: Type.Union([Type.String(), Type.Null()]),
  voice: Type.Union([Type.String(), Type.Null()]),
});

const nullable = (s: ReturnType<typeof Type.String>) => Type.Optional(Type.Union([s, Type.Null()]));

function settingsView(numberId: string, s: VoiceSettingsRecord | undefined) {
  return { numberId, systemPrompt: s?.systemPrompt ?? null, greeting: s?.greeting ?? null, voice: s?.voice ?? null };
}

/** Admin: a number's own voice settings (null means the gateway's voice defaults apply). */
export const adminVoiceSettingsRoutes: FastifyPluginAsyncTypebox<{ numbers: NumberService; calls: CallsRepository; now: () => number }> = async (app, { numbers, calls, now }) => {
  app.get(
    '/numbers/:id/voice',
    { schema: { summary: "A number's voice settings", tags: ['admin'], params: NumberIdParams, response: { 200: VoiceSettingsView, ...errorResponses } } },
    async (request) => {
      const number = numbers.get(request.params.id);
      return settingsView(number.id, await calls.voiceSettings(number.id));
    },
  );

  app.put(
    '/numbers/:id/voice',
    {
      schema: {
        summary: "Set a number's call system prompt, greeting and TTS voice (fields left out are kept; null clears one)",
        tags: ['admin'],
        params: NumberIdParams,
        body: Type.Object(
          {
            systemPrompt: nullable(Type.String({ minLength: 1, maxLength: 8000 })),
            greeting: nullable(Type.String({ minLength: 1, maxLength: 1000 })),
            voice: nullable(Type.String({ minLength: 1, maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: VoiceSettingsView, ...errorResponses },
      },
    },
    async (request) => {
      const number = numbers.get(request.params.id);
      const body = request.body;
      if (body.voice && !findVoice(body.voice)) throw new ValidationError(`voice: "${body.voice}" is not a known voice (see /api/v1/voices)`);
      const current = settingsView(number.id, await calls.voiceSettings(number.id));
      const next = {
        numberId: number.id,
        systemPrompt: body.systemPrompt === undefined ? current.systemPrompt : body.systemPrompt,
        greeting: body.greeting === undefined ? current.greeting : body.greeting,
        voice: body.voice === undefined ? current.voice : body.voice,
      };
      await calls.setVoiceSettings(next, new Date(now()).toISOString());
      return settingsView(number.id, await calls.voiceSettings(number.id));
    },
  );
};
