/**
 * POST /admin/cache/invalidate (REST twin of AdminService.InvalidateCache) and GET /admin/cache
 * (hit and miss counters per cache). Both sit on the core's ChatCache; the RPC twin is
 * connect/admin-cache.ts.
 *
 * Body of invalidate (all optional; an empty body empties every cache):
 *   {"scope": "all" | "response" | "routing" | "semantic", "model": "qwen2.5-coder:7b"}
 */
import type { FastifyInstance } from 'fastify';
import type { ChatCache, InvalidateScope } from '../../core/cache/index.js';
import { sendError } from './errors.js';
import { whitelistedQuery } from './query.js';
import { describeValue } from './openai/request.js';

export interface AdminCacheDeps {
  /** Undefined when ROUTER_CACHE_ENABLED=false. */
  cache: Pick<ChatCache<unknown>, 'invalidate' | 'stats'> | undefined;
  /** A client-given model name -> the router-wide key cache entries carry (unknown names pass through). */
  resolveModel: (name: string) => string;
}

const SCOPES: readonly InvalidateScope[] = ['all', 'response', 'routing', 'semantic'];
const DISABLED = 'Caching is disabled on this router (ROUTER_CACHE_ENABLED=false).';

export function adminCacheRoutes(deps: AdminCacheDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/admin/cache/invalidate', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) {
        return sendError(reply, 400, `Invalid body: expected a JSON object, but got ${describeValue(body)} instead.`, 'invalid_request_error', 'invalid_type');
      }
      const scope = body.scope ?? 'all';
      if (typeof scope !== 'string' || !SCOPES.includes(scope as InvalidateScope)) {
        return sendError(reply, 400, `Invalid value for 'scope': expected one of ${SCOPES.map((s) => `'${s}'`).join(', ')}.`, 'invalid_request_error', 'invalid_value', 'scope');
      }
      const model = body.model ?? undefined;
      if (model !== undefined && (typeof model !== 'string' || model.trim() === '')) {
        return sendError(reply, 400, "Invalid value for 'model': expected a non-empty model id.", 'invalid_request_error', 'invalid_value', 'model');
      }
      if (!deps.cache) return sendError(reply, 409, DISABLED, 'invalid_request_error', 'cache_disabled');
      const removed = deps.cache.invalidate(scope as InvalidateScope, model === undefined ? undefined : deps.resolveModel(model.trim()));
      return reply.send({ response_removed: removed.response, routing_removed: removed.routing, semantic_removed: removed.semantic });
    });

    app.get('/admin/cache', whitelistedQuery({}), async (_request, reply) => {
      if (!deps.cache) return reply.send({ enabled: false, caches: [], coalesced: 0, in_flight: 0 });
      const stats = deps.cache.stats();
      return reply.send({ enabled: true, caches: stats.caches, coalesced: stats.coalesced, in_flight: stats.inFlight });
    });
  };
}
