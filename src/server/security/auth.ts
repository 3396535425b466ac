/**
 * Auth for the REST routes: one app-wide onRequest hook asking the AccessPolicy. RPC routes are left to
 * the Connect interceptor (interceptor.ts), which frames errors in the RPC's own wire.
 */
import { Code } from '@connectrpc/connect';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { addressChain } from './addresses.js';
import type { AccessPolicy } from './policy.js';
import { reject } from './rejection.js';
import { rpcServiceOf, surfaceOf } from './surface.js';

export function registerRestAuth(app: FastifyInstance, policy: AccessPolicy, restHeaders: (request: FastifyRequest) => Record<string, string>): void {
  // Callback style: the allowed path (nearly every request) then costs no promise. A refusal sends
  // the reply and does not call done(), which ends the hook chain.
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (rpcServiceOf(route)) return done();
    const surface = surfaceOf(request.method, route);
    if (surface === 'admin' && crossSiteWrite(request)) {
      request.log.info({ reason: 'cross_site_request', origin: request.headers.origin }, 'request refused');
      return reject(request, reply, { status: 403, rpcCode: Code.PermissionDenied, type: 'permission_error', code: 'cross_site_request', message: 'Admin changes are refused from another site\'s page (Origin or Sec-Fetch-Site says cross-site).' }, restHeaders(request));
    }
    const verdict = policy.check(surface, request.headers.authorization, addressChain(request));
    if (verdict.ok) return done();
    request.log.info({ reason: verdict.code }, 'request refused');
    // A browser opening the dashboard asks its user for the admin key (as the Basic password).
    if (verdict.status === 401 && isDashboard(route)) reply.header('www-authenticate', 'Basic realm="SmarterRouter admin", charset="UTF-8"');
    reject(
      request,
      reply,
      {
        status: verdict.status,
        rpcCode: verdict.status === 401 ? Code.Unauthenticated : Code.PermissionDenied,
        type: verdict.status === 401 ? 'invalid_request_error' : 'permission_error',
        code: verdict.code,
        message: verdict.message,
      },
      restHeaders(request),
    );
  });
}

/**
 * A state-changing admin request sent by a page of another site. Browsers send a body-less POST
 * cross-site without a preflight, and with the admin key unset the loopback rule lets a page open
 * in a browser on the router's machine through: it could empty the caches or start a full
 * re-profile. Browsers mark such requests (Sec-Fetch-Site, Origin); curl, SDKs and the CLI send
 * neither, and the dashboard's own calls are same-origin.
 */
function crossSiteWrite(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return false;
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin === '') return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    // "null" (sandboxed frames, file: pages) or garbage: not this site.
    return true;
  }
}

function isDashboard(route: string | undefined): boolean {
  return route === '/dashboard' || (route?.startsWith('/dashboard/') ?? false);
}
