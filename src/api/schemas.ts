import Type from 'typebox';

export const ErrorSchema = Type.Object(
  { error: Type.String(), message: Type.String() },
  { $id: 'Error', description: 'Every error on every route' },
);

export const NumberViewSchema = Type.Object({
  id: Type.String({ examples: ['num_3bV9t0q2m1Xc'] }),
  phoneNumber: Type.String({ description: 'E.164' }),
  line: Type.Union([Type.String(), Type.Null()]),
  label: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
  webhookUrl: Type.Union([Type.String(), Type.Null()]),
  webhookTimeoutMs: Type.Integer(),
  overageEnabled: Type.Boolean(),
  createdAt: Type.String(),
});

export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  404: ErrorSchema,
  429: ErrorSchema,
  500: ErrorSchema,
} as const;

export const NumberIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
