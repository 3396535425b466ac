/**
 * Per-client rate limits for REST and RPC, counted by @fastify/rate-limit. A client is its key when
 * it sent a valid one, else its IP (IPv6 grouped by /64, the plugin's default). Two separate budgets:
 * admin surfaces (/admin, /dashboard, /metrics, AdminService, ProfilerService) and everything else
 * (/v1, RouterService, reflection, unknown routes). /health and CORS preflights are never counted.
 *
 * The plugin's own route hook would throw into each scope's error handler, which cannot frame gRPC
 * trailers; so we ask its limiter (`createRateLimit`) from one app-wide hook and answer in the
 * client's wire ourselves.
 */
import { Code } from '@connectrpc/connect';
import fastifyRateLimit, { normalizeIP, type RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessPolicy } from './policy.js';
import { reject } from './rejection.js';
import { surfaceOf } from './surface.js';

export interface RateLimitOptions {
  requestsPerMinute: number;
  adminRequestsPerMinute: number;
  /**
   * Where the counters live. Unset: an in-process LRU (one router). Several replicas can share counts
   * by passing `{ redis: ioredisClient }` or a custom `{ store }` class here; nothing else changes.
   * `skipOnError` lets requests through while a shared store is unreachable instead of failing them.
   */
  store?: Pick<RateLimitPluginOptions, 'store' | 'redis' | 'nameSpace' | 'skipOnError'>;
}

const WINDOW_MS = 60_000;

export async function registerRateLimit(
  app: FastifyInstance,
  options: RateLimitOptions,
  policy: AccessPolicy,
  restHeaders: (request: FastifyRequest) => Record<string, string>,
): Promise<void> {
  // global: false — we call the limiter from our hook instead of letting it hook every route.
  await app.register(fastifyRateLimit, { global: false, ...options.store });

  const clientOf = (request: FastifyRequest): string => {
    const key = policy.clientKeyOf(request.headers.authorization);
    return key ? `key:${key}` : `ip:${normalizeIP(request.ip)}`;
  };
  const limiters = {
    api: app.createRateLimit({ max: options.requestsPerMinute, timeWindow: WINDOW_MS, keyGenerator: (r) => `api|${clientOf(r)}` }),
    admin: app.createRateLimit({ max: options.adminRequestsPerMinute, timeWindow: WINDOW_MS, keyGenerator: (r) => `admin|${clientOf(r)}` }),
  };

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const surface = surfaceOf(request.method, request.routeOptions.url);
    if (surface === 'health') return;
    const result = await (surface === 'admin' || surface === 'metrics' ? limiters.admin : limiters.api)(request);
    if (result.isAllowed) return;
    reply.headers({ 'x-ratelimit-limit': result.max, 'x-ratelimit-remaining': result.remaining, 'x-ratelimit-reset': result.ttlInSeconds });
    if (!result.isExceeded) return;
    request.log.info({ surface, limit: result.max }, 'rate limit exceeded');
    return reject(
      request,
      reply,
      {
        status: 429,
        rpcCode: Code.ResourceExhausted,
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        message: `Rate limit of ${result.max} requests per minute exceeded: retry in ${result.ttlInSeconds} s.`,
        retryAfterSeconds: result.ttlInSeconds,
      },
      restHeaders(request),
    );
  });
}
