import type { FastifyPluginAsync } from 'fastify';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { apiKeyHook, principalOf } from '../api/index.ts';
import type { ApiKeyService } from '../auth/index.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import type { RateLimit } from '../metering/index.ts';
import type { McpDeps } from './deps.ts';
import { McpHttpSessions } from './http-sessions.ts';

export interface McpRoutesOptions {
  deps: McpDeps;
  keys: ApiKeyService;
  rateLimiter?: RateLimit | undefined;
}

const SESSION_HEADER = 'mcp-session-id';

/**
 * /mcp: the MCP Streamable HTTP transport (POST, GET for the notification stream, DELETE to
 * end a session) on fastify's raw request and response. Every request carries an API key,
 * exactly as /api (401 without one; rate limited per key), and a session answers only the key
 * that opened it.
 */
export const mcpRoutes: FastifyPluginAsync<McpRoutesOptions> = async (app, { deps, keys, rateLimiter }) => {
  const sessions = new McpHttpSessions(deps);
  app.addHook('onClose', () => sessions.closeAll());
  app.addHook('onRequest', apiKeyHook(keys, rateLimiter));

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    bodyLimit: deps.config.bodyLimitBytes,
    schema: { summary: 'Model Context Protocol server (Streamable HTTP); see docs/mcp.md', tags: ['mcp'], security: [{ bearer: [] }], hide: true },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const sessionId = request.headers[SESSION_HEADER];
      let entry;
      let created = false;
      if (typeof sessionId === 'string') {
        entry = sessions.find(sessionId, principal);
        if (!entry) throw new NotFoundError('MCP session not found (it may have expired or been closed); initialize a new one');
      } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
        entry = sessions.create(principal);
        created = true;
        await entry.session.server.connect(entry.transport);
      } else {
        throw new ValidationError(`${SESSION_HEADER}: required (send initialize first to open a session)`);
      }
      // The transport writes the answer itself; it keeps the headers every answer here carries.
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
      reply.hijack();
      sessions.track(entry, new Promise((resolve) => reply.raw.once('close', resolve)));
      try {
        await entry.transport.handleRequest(request.raw, reply.raw, request.body);
      } catch (err) {
        request.log.error({ err }, 'MCP request failed');
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ error: 'Internal Server Error', message: 'An unexpected error occurred' }));
      } finally {
        if (created) sessions.settle(entry);
      }
    },
  });
};
