/**
 * CORS for the OpenAI routes only (browser chat UIs call /v1 directly); never for /admin, which is
 * why this lives inside the encapsulated /v1 plugin rather than as an app-wide hook. No package:
 * the rules we need fit in a few lines.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Headers a browser page may read from our answers (fetch hides the rest). */
export const EXPOSED_HEADERS = 'X-Router-Model, X-Router-Category, X-Router-Cache, X-Request-ID';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Used when a preflight does not list the headers it wants. */
const DEFAULT_ALLOWED_HEADERS = 'authorization, content-type, cache-control, x-request-id, x-router-quality-preference, openai-organization, openai-project';
const MAX_AGE_SECONDS = '86400';

/** The Access-Control-Allow-Origin value for a request, or undefined when the origin is not allowed. */
export function allowedOrigin(origins: readonly string[], origin: string | undefined): string | undefined {
  if (origins.includes('*')) return '*';
  if (origin !== undefined && origins.includes(origin)) return origin;
  return undefined;
}

/** Headers a real (non-preflight) response carries; also written by hand on hijacked SSE replies. */
export function corsHeaders(origins: readonly string[], request: FastifyRequest): Record<string, string> {
  const allow = allowedOrigin(origins, request.headers.origin);
  if (allow === undefined) return {};
  const headers: Record<string, string> = { 'access-control-allow-origin': allow, 'access-control-expose-headers': EXPOSED_HEADERS };
  // An echoed origin makes the answer depend on the Origin header: caches must key on it.
  if (allow !== '*') headers.vary = 'Origin';
  return headers;
}

/**
 * Registers CORS in the given (encapsulated) scope: response headers on every route of the scope and
 * an OPTIONS /v1/* route that answers preflights.
 */
export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  // Callback style: an async hook would cost a promise on every /v1 request.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (origins.length) reply.headers(corsHeaders(origins, request));
    done();
  });

  app.options('/v1/*', async (request, reply) => {
    if (reply.getHeader('access-control-allow-origin') !== undefined) {
      const requested = request.headers['access-control-request-headers'];
      reply.headers({
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': typeof requested === 'string' && requested.trim() ? requested : DEFAULT_ALLOWED_HEADERS,
        'access-control-max-age': MAX_AGE_SECONDS,
        // The echoed Allow-Headers depend on the request too.
        vary: reply.getHeader('vary') ? 'Origin, Access-Control-Request-Headers' : 'Access-Control-Request-Headers',
      });
    }
    // A refused origin gets the same empty 204 without Allow-* headers: the browser then blocks the call.
    return reply.code(204).send();
  });
}
