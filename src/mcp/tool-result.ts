import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toErrorResponse } from '../api/index.ts';
import type { Logger } from '../logging/index.ts';

/** A tool's answer: its JSON as text (what every MCP host shows the model). */
export function jsonResult(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

/**
 * A tool error as MCP has it (a result with isError, so the model reads it and can recover):
 * the REST API's {error, message} for the same failure, plus its code (CONTACT_OPTED_OUT,
 * QUOTA_EXCEEDED…). Anything unexpected is logged and answered without its internals.
 */
export function errorResult(err: unknown, logger: Logger): CallToolResult {
  const res = toErrorResponse(err);
  if (res.status >= 500 && res.status !== 503) logger.error({ err }, 'MCP tool failed');
  const body = { ...res.body, ...(res.code !== undefined && { code: res.code }) };
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }] };
}

/** Runs a tool body, turning any throw into an isError result. */
export async function runTool(logger: Logger, body: () => unknown): Promise<CallToolResult> {
  try {
    return jsonResult(await body());
  } catch (err) {
    return errorResult(err, logger);
  }
}
