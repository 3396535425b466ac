/**
 * GET /metrics (Prometheus text format) and GET /admin/stats (the GetStats numbers as JSON).
 * Access control for both is decided by src/server/security (it covers every route).
 */
import type { FastifyInstance } from 'fastify';
import { whitelistedQuery } from '../rest/query.js';
import { collectStats, statsJson, type StatsDeps } from './stats.js';

export function metricsRoutes(deps: StatsDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/metrics', async (_request, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    });

    // Like every admin route: an unknown query parameter is a 400, not silently ignored.
    app.get('/admin/stats', whitelistedQuery({}), async () => statsJson(await collectStats(deps)));
  };
}
