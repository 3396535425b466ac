/**
 * AdminService.InvalidateCache over the core's ChatCache (REST twin: rest/admin-cache.ts). Merged
 * into the AdminService implementation in start.ts.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { type AdminService, CacheScope, InvalidateCacheResponseSchema } from '../../../gen/smarterrouter/v1/admin_pb.js';
import type { ChatCache, InvalidateScope } from '../../core/cache/index.js';

export interface AdminCacheServiceDeps {
  /** Undefined when ROUTER_CACHE_ENABLED=false. */
  cache: Pick<ChatCache<unknown>, 'invalidate'> | undefined;
  resolveModel: (name: string) => string;
}

const SCOPES: Record<CacheScope, InvalidateScope> = {
  [CacheScope.UNSPECIFIED]: 'all',
  [CacheScope.ALL]: 'all',
  [CacheScope.RESPONSE]: 'response',
  [CacheScope.ROUTING]: 'routing',
  [CacheScope.SEMANTIC]: 'semantic',
};

export function createAdminCacheService(deps: AdminCacheServiceDeps): Partial<ServiceImpl<typeof AdminService>> {
  return {
    invalidateCache(request) {
      const scope = SCOPES[request.scope];
      if (scope === undefined) throw new ConnectError(`scope: unknown cache scope ${request.scope}`, Code.InvalidArgument);
      if (request.model !== undefined && request.model.trim() === '') throw new ConnectError('model: must not be empty when set', Code.InvalidArgument);
      if (!deps.cache) throw new ConnectError('caching is disabled on this router (ROUTER_CACHE_ENABLED=false)', Code.FailedPrecondition);
      const removed = deps.cache.invalidate(scope, request.model === undefined ? undefined : deps.resolveModel(request.model.trim()));
      return create(InvalidateCacheResponseSchema, {
        responseRemoved: BigInt(removed.response),
        routingRemoved: BigInt(removed.routing),
        semanticRemoved: BigInt(removed.semantic),
      });
    },
  };
}
