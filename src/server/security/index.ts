/**
 * Everything that decides whether a request is served at all: load shedding, rate limits, auth.
 * buildApp() calls registerSecurity() before any route exists and gives the Connect plugin the
 * interceptors and context values from here.
 *
 * Order of the hooks, cheapest refusal first: overload (503), then rate limit (429, so key guessing is
 * limited too), then auth (401/403).
 *
 * Also here, wired by buildApp(): the trailers-only answer for unknown gRPC methods (rejection.ts) and
 * the INVALID_ARGUMENT relabelling of undecodable protobuf (decode-failure.ts).
 */
import type { ContextValues, Interceptor } from '@connectrpc/connect';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TrustProxy } from '../../config/trust-proxy.js';
import type { Logger } from '../logger.js';
import { corsHeaders } from '../rest/openai/cors.js';
import { registerRestAuth } from './auth.js';
import { registerBackpressure, type BackpressureOptions } from './backpressure.js';
import { addressChain } from './addresses.js';
import { kClientAddress, kClientChain } from './context.js';
import { accessInterceptor } from './interceptor.js';
import { AccessPolicy, type AccessOptions } from './policy.js';
import { registerRateLimit, type RateLimitOptions } from './rate-limit.js';
import { surfaceOf } from './surface.js';

export interface SecurityOptions extends AccessOptions {
  /** Undefined = no rate limiting (ROUTER_RATE_LIMIT_ENABLED=false). */
  rateLimit?: RateLimitOptions;
  /** Undefined = no load shedding (ROUTER_BACKPRESSURE_ENABLED=false). */
  backpressure?: BackpressureOptions;
  /** ROUTER_CORS_ORIGINS: refusals on /v1 carry CORS headers, so a browser page can read them. */
  corsOrigins: readonly string[];
  /** ROUTER_TRUST_PROXY, fastify's `trustProxy`: whose X-Forwarded-For sets request.ip (false = nobody). */
  trustProxy?: TrustProxy;
}

/** The subset of Config this module reads. */
export interface SecurityConfig {
  adminApiKey?: string;
  apiKeys: readonly string[];
  corsOrigins: readonly string[];
  rateLimitEnabled: boolean;
  rateLimitRequestsPerMinute: number;
  rateLimitAdminRequestsPerMinute: number;
  trustProxy: TrustProxy;
  backpressureEnabled: boolean;
  backpressureMaxEventLoopDelay: number;
  backpressureMaxHeapMb: number;
  backpressureStartupGrace: number;
}

export function securityOptionsFrom(config: SecurityConfig): SecurityOptions {
  return {
    adminApiKey: config.adminApiKey,
    apiKeys: config.apiKeys,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    rateLimit: config.rateLimitEnabled
      ? { requestsPerMinute: config.rateLimitRequestsPerMinute, adminRequestsPerMinute: config.rateLimitAdminRequestsPerMinute }
      : undefined,
    backpressure: config.backpressureEnabled
      ? {
          maxEventLoopDelayMs: config.backpressureMaxEventLoopDelay,
          maxHeapMb: config.backpressureMaxHeapMb,
          startupGraceMs: config.backpressureStartupGrace * 1000,
        }
      : undefined,
  };
}

export interface RegisteredSecurity {
  /** For fastifyConnectPlugin's `interceptors`. */
  interceptors: Interceptor[];
  /** Adds what the interceptors read to a request's Connect context values. */
  contextValues(request: FastifyRequest, values: ContextValues): ContextValues;
}

export async function registerSecurity(app: FastifyInstance, options: SecurityOptions, logger: Logger): Promise<RegisteredSecurity> {
  const policy = new AccessPolicy(options);
  if (!policy.adminKeySet) {
    logger.warn(
      'ROUTER_ADMIN_API_KEY is not set: /admin, /dashboard, AdminService and ProfilerService answer only clients on this machine (loopback); set it to administer the router remotely',
    );
  }
  const restHeaders = (request: FastifyRequest): Record<string, string> =>
    surfaceOf(request.method, request.routeOptions.url) === 'client' ? corsHeaders(options.corsOrigins, request) : {};

  if (options.backpressure) await registerBackpressure(app, options.backpressure, restHeaders);
  if (options.rateLimit) await registerRateLimit(app, options.rateLimit, policy, restHeaders);
  registerRestAuth(app, policy, restHeaders);

  return {
    interceptors: [accessInterceptor(policy)],
    contextValues: (request, values) => values.set(kClientAddress, request.ip).set(kClientChain, addressChain(request)),
  };
}
