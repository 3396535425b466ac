/**
 * GET /metrics (Prometheus text format) and GET /admin/stats (the GetStats numbers as JSON).
 * Access control for both is decided by src/server/security (it covers every route).
 */
import type { FastifyInstance } from 'fastify';
import { collectStats, statsJson, type StatsDeps } from './stats.js';

export function metricsRoutes(deps: StatsDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/metrics', async (_request, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    });

    app.get('/admin/stats', async () => statsJson(await collectStats(deps)));
  };
}
