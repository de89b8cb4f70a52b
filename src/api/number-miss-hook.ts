import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../errors/index.ts';
import type { NumberService } from '../numbers/index.ts';

/** Routes that name a number by id: /api/numbers/:id…, /admin/numbers/:id…. */
const NUMBER_ROUTE = /^\/(?:api|admin)\/numbers\/:id(?:\/|$)/;

/**
 * preHandler for a cluster node (PostgreSQL): before a route under /numbers/:id runs (its
 * handler looks the number up synchronously, in this node's cache), a number the cache lacks is
 * read from the database (NumberService.find, bounded). A number another node made is then found
 * here even when the bus lost its hint. Not registered on SQLite, where the cache is exact.
 */
export function numberMissHook(numbers: NumberService) {
  return async (request: FastifyRequest): Promise<void> => {
    const url = request.routeOptions.url;
    const id = (request.params as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || url === undefined || !NUMBER_ROUTE.test(url)) return;
    try {
      await numbers.find(id, request.principal ?? undefined);
    } catch (err) {
      // The handler answers for a missing number, as it would have without this hook.
      if (!(err instanceof NotFoundError)) throw err;
    }
  };
}
