/**
 * The one Connect interceptor that guards every RPC: AdminService and ProfilerService (and any other
 * service not known to be public) need the admin key, or a loopback client while none is set;
 * RouterService needs a client key when ROUTER_API_KEYS is set; reflection stays open.
 * Running as an interceptor (not a fastify hook) means connect-es frames the error itself for gRPC,
 * gRPC-Web and Connect alike.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { kRequestLogger } from '../connect/context.js';
import { kClientChain } from './context.js';
import type { AccessPolicy } from './policy.js';
import { rpcSurfaceOf } from './surface.js';

export function accessInterceptor(policy: AccessPolicy): Interceptor {
  return (next) => async (req) => {
    const verdict = policy.check(rpcSurfaceOf(req.service.typeName), req.header.get('authorization'), req.contextValues.get(kClientChain));
    if (verdict.ok) return next(req);
    req.contextValues.get(kRequestLogger)?.info({ rpc: `${req.service.typeName}/${req.method.name}`, reason: verdict.code }, 'rpc refused');
    throw new ConnectError(verdict.message, verdict.status === 401 ? Code.Unauthenticated : Code.PermissionDenied);
  };
}
