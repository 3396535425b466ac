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
    const verdict = policy.check(surfaceOf(request.method, route), request.headers.authorization, addressChain(request));
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
        type: verdict.status === 401 ? 'authentication_error' : 'permission_error',
        code: verdict.code,
        message: verdict.message,
      },
      restHeaders(request),
    );
  });
}

function isDashboard(route: string | undefined): boolean {
  return route === '/dashboard' || (route?.startsWith('/dashboard/') ?? false);
}
