/**
 * REST routes of capabilities that are not built yet. They answer 501 in OpenAI's error JSON naming
 * the capability, so clients and operators get a clear answer instead of a 404. Each capability
 * removes its lines here when it lands.
 */
import type { FastifyInstance } from 'fastify';
import { notImplemented } from './errors.js';

const PLANNED: Array<{ method: 'GET' | 'POST'; url: string; capability: string }> = [
  { method: 'POST', url: '/v1/embeddings', capability: 'Embeddings (caching and embeddings capability)' },
  { method: 'GET', url: '/admin/profiles', capability: 'Model profiles (discovery, profiling and benchmarks capability)' },
  { method: 'GET', url: '/admin/benchmarks', capability: 'Benchmark scores (discovery, profiling and benchmarks capability)' },
  { method: 'POST', url: '/admin/reprofile', capability: 'Re-profiling (discovery, profiling and benchmarks capability)' },
  { method: 'POST', url: '/admin/models/load', capability: 'Loading models (GPU memory management capability)' },
  { method: 'POST', url: '/admin/models/unload', capability: 'Unloading models (GPU memory management capability)' },
  { method: 'POST', url: '/admin/models/pin', capability: 'Pinning a model (GPU memory management capability)' },
  { method: 'POST', url: '/admin/cache/invalidate', capability: 'Cache invalidation (caching capability)' },
  { method: 'GET', url: '/admin/stats', capability: 'Statistics (metrics and hardening capability)' },
  { method: 'GET', url: '/metrics', capability: 'Prometheus metrics (metrics and hardening capability)' },
  { method: 'GET', url: '/dashboard', capability: 'The admin dashboard (ecosystem capability)' },
];

export function plannedRoutes() {
  return async (app: FastifyInstance): Promise<void> => {
    for (const route of PLANNED) {
      app.route({ method: route.method, url: route.url, handler: async (_request, reply) => notImplemented(reply, route.capability) });
    }
  };
}
