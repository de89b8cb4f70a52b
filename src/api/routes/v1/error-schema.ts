import Type from 'typebox';

/** /api/v1's error answer: OpenAI's error object (what the SDKs parse) and the spec's message. */
export const OpenAiErrorSchema = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String({ examples: ['invalid_request_error', 'server_error'] }),
      param: Type.Union([Type.String(), Type.Null()]),
      code: Type.Union([Type.String(), Type.Null()], { examples: ['model_not_found', 'invalid_api_key', 'model_not_installed'] }),
    }),
    message: Type.String(),
  },
  { description: 'Every error under /api/v1 (OpenAI-compatible)' },
);

export const openAiErrorResponses = {
  400: OpenAiErrorSchema,
  401: OpenAiErrorSchema,
  404: OpenAiErrorSchema,
  429: OpenAiErrorSchema,
  500: OpenAiErrorSchema,
  503: OpenAiErrorSchema,
} as const;
