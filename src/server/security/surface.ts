/**
 * Which protection a route gets, decided from the route PATTERN fastify matched (request.routeOptions.url),
 * never from the raw URL: percent-encoding, double slashes or a trailing slash cannot then slip an
 * /admin route past a prefix check. One table for the REST hooks, the Connect interceptor and the
 * rate limiter, so the three always agree.
 *
 *   health   /health: always open, never limited, never refused under pressure
 *   open     CORS preflights, gRPC reflection, unknown routes (404): no key needed
 *   client   /v1/* and RouterService: ROUTER_API_KEYS when set
 *   admin    /admin/*, /dashboard*, AdminService, ProfilerService (and any other RPC service, fail-closed):
 *            ROUTER_ADMIN_API_KEY, or loopback clients only when it is unset
 *   metrics  /metrics: open for scrapers, ROUTER_ADMIN_API_KEY once one is set
 */
export type Surface = 'health' | 'open' | 'client' | 'admin' | 'metrics';

const RPC_PATH = /^\/([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\/[A-Za-z_]\w*$/;
const CLIENT_SERVICES = new Set(['smarterrouter.v1.RouterService']);
const OPEN_SERVICES = new Set(['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);

/** The fully-qualified service of an RPC route (`/pkg.Service/Method`), else undefined. */
export function rpcServiceOf(routeUrl: string | undefined): string | undefined {
  return routeUrl ? RPC_PATH.exec(routeUrl)?.[1] : undefined;
}

export function rpcSurfaceOf(service: string): Surface {
  if (CLIENT_SERVICES.has(service)) return 'client';
  if (OPEN_SERVICES.has(service)) return 'open';
  return 'admin';
}

export function surfaceOf(method: string, routeUrl: string | undefined): Surface {
  if (routeUrl === undefined) return 'open';
  if (routeUrl === '/health') return 'health';
  const service = rpcServiceOf(routeUrl);
  if (service) return rpcSurfaceOf(service);
  // Browsers send preflights without credentials; the real request that follows carries the key.
  if (method === 'OPTIONS') return 'open';
  if (routeUrl === '/metrics') return 'metrics';
  if (underPrefix(routeUrl, '/admin') || underPrefix(routeUrl, '/dashboard')) return 'admin';
  if (underPrefix(routeUrl, '/v1')) return 'client';
  return 'open';
}

function underPrefix(url: string, prefix: string): boolean {
  return url === prefix || url.startsWith(`${prefix}/`);
}
