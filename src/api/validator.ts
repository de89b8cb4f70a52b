import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const base: Options = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false };

/**
 * JSON bodies are validated strictly (5 is not a string); query strings, params and headers
 * are text on the wire, so they are coerced to the declared types.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = new Ajv({ ...base, coerceTypes: false });
  const coercing = new Ajv({ ...base, coerceTypes: 'array' });
  for (const ajv of [strict, coercing]) addFormats.default(ajv);
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}

/** The parts of an ajv error the messages are made from. */
export interface ValidationIssue {
  instancePath?: string;
  schemaPath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

const MAX_LINES = 5;

/**
 * One line per field a person can act on: `body.to: required`,
 * `body.messages.0.role: must be one of: system, user, assistant`. The errors ajv reports for
 * each branch of an anyOf/oneOf (one "must be equal to constant" per allowed value) are
 * folded into the anyOf's own line naming what is allowed.
 */
export function describeValidation(issues: readonly ValidationIssue[], context = 'body'): string {
  const alternatives = issues.filter((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf');
  const inBranch = (i: ValidationIssue) => alternatives.some((a) => a !== i && i.schemaPath?.startsWith(`${branchRoot(a)}/`) === true);
  const lines = issues
    .filter((i) => !inBranch(i))
    .map((issue) => {
      const at = (...more: string[]) => [context, ...(issue.instancePath ?? '').split('/').filter(Boolean), ...more].join('.');
      if (issue.keyword === 'anyOf' || issue.keyword === 'oneOf') {
        return `${at()}: ${allowedOf(issues.filter((i) => i.instancePath === issue.instancePath && i.schemaPath?.startsWith(`${branchRoot(issue)}/`) === true))}`;
      }
      return `${at(...namedField(issue))}: ${plainMessage(issue)}`;
    });
  return [...new Set(lines)].slice(0, MAX_LINES).join('; ');
}

/** `#/properties/role/anyOf` for an anyOf error whose schemaPath is exactly that. */
function branchRoot(issue: ValidationIssue): string {
  return issue.schemaPath ?? '#';
}

function namedField(issue: ValidationIssue): string[] {
  const p = issue.params ?? {};
  if (issue.keyword === 'required' && typeof p.missingProperty === 'string') return [p.missingProperty];
  if (issue.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') return [p.additionalProperty];
  return [];
}

function plainMessage(issue: ValidationIssue): string {
  const p = issue.params ?? {};
  switch (issue.keyword) {
    case 'required':
      return 'required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      return Array.isArray(p.allowedValues) ? `must be one of: ${p.allowedValues.map(show).join(', ')}` : 'is not an allowed value';
    case 'const':
      return `must be ${show(p.allowedValue)}`;
    case 'type':
      return `must be ${article(String(p.type))}`;
    default:
      return issue.message ?? 'is invalid';
  }
}

/** What the branches of an anyOf accept: its constants, else its types. */
function allowedOf(branches: readonly ValidationIssue[]): string {
  const values = branches.flatMap((b) => (b.keyword === 'const' ? [b.params?.allowedValue] : b.keyword === 'enum' && Array.isArray(b.params?.allowedValues) ? b.params.allowedValues : []));
  const types = branches.flatMap((b) => (b.keyword === 'type' ? String(b.params?.type).split(',') : []));
  if (values.length > 0 && values.length + types.length === branches.length) return `must be one of: ${[...values.map(show), ...types.map(article)].join(', ')}`;
  if (types.length > 0 && types.length === branches.length) return `must be ${[...new Set(types)].map(article).join(' or ')}`;
  return 'does not match any of the accepted forms';
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const article = (type: string): string => (type === 'null' ? 'null' : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`);
