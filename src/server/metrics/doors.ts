/**
 * Request counting at the two doors: a fastify onResponse observer for REST routes and a Connect
 * interceptor for RPCs (Connect, gRPC, gRPC-Web). Each request is counted once: RPC routes are left
 * to the interceptor, which sees the RPC's real status (gRPC answers HTTP 200 even for errors).
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestObservation, RouterMetrics } from './registry.js';

/** What buildApp() needs to count requests (AppOptions.observer). */
export interface RequestObserver {
  onResponse(request: FastifyRequest, reply: FastifyReply): void;
  /** The client closed the connection before the answer was complete (counted as 499, nginx's code). */
  onAbort(request: FastifyRequest, seconds: number): void;
  interceptor: Interceptor;
}

export function requestObserver(metrics: RouterMetrics): RequestObserver {
  return {
    onResponse: (request, reply) => observeRest(metrics, request, reply.statusCode, reply.elapsedTime / 1000),
    onAbort: (request, seconds) => observeRest(metrics, request, CLIENT_CLOSED, seconds),
    interceptor: metricsInterceptor(metrics),
  };
}

const CLIENT_CLOSED = 499;

/** RPC paths are "/package.Service/Method": a dotted first segment no REST route has. */
const RPC_PATH = /^\/[A-Za-z_][\w]*(?:\.[\w]+)+\/[\w]+$/;

function observeRest(metrics: RouterMetrics, request: FastifyRequest, status: number, seconds: number): void {
  const route = request.routeOptions.url;
  if (route && RPC_PATH.test(route)) return;
  metrics.observeRequest({
    // The route pattern, never the raw URL: label values must stay a small, fixed set.
    endpoint: route ?? 'unmatched',
    method: request.method,
    status: String(status),
    protocol: 'rest',
    seconds,
    ...(status >= 400 ? { errorType: httpErrorType(status) } : {}),
  });
}

const HTTP_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  413: 'too_large',
  422: 'invalid_request',
  429: 'rate_limited',
  499: 'client_closed',
  500: 'internal',
  501: 'not_implemented',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'timeout',
};

function httpErrorType(status: number): string {
  return HTTP_ERROR_TYPES[status] ?? `http_${status}`;
}

export function metricsInterceptor(metrics: RouterMetrics): Interceptor {
  return (next) => async (req) => {
    const startedAt = performance.now();
    const base = { endpoint: `/${req.service.typeName}/${req.method.name}`, method: req.requestMethod, protocol: protocolOf(req.header.get('content-type')) };
    let counted = false;
    // undefined = the RPC succeeded (Connect's Code set has no OK member).
    const done = (code: Code | undefined) => {
      if (counted) return;
      counted = true;
      const status = code === undefined ? 'ok' : codeName(code);
      const o: RequestObservation = { ...base, status, seconds: (performance.now() - startedAt) / 1000 };
      if (code !== undefined) o.errorType = status;
      metrics.observeRequest(o);
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        done(undefined);
        return res;
      }
      const source = res.message;
      // A streaming RPC ends when its last message is sent, it fails, or the client cancels.
      async function* counting() {
        try {
          yield* source;
          done(undefined);
        } catch (error) {
          done(ConnectError.from(error).code);
          throw error;
        } finally {
          done(Code.Canceled);
        }
      }
      return { ...res, message: counting() };
    } catch (error) {
      done(ConnectError.from(error).code);
      throw error;
    }
  };
}

function protocolOf(contentType: string | null): 'connect' | 'grpc' | 'grpc-web' {
  const ct = contentType ?? '';
  if (ct.startsWith('application/grpc-web')) return 'grpc-web';
  if (ct.startsWith('application/grpc')) return 'grpc';
  return 'connect';
}

/** "unavailable", "invalid_argument": Prometheus-style label values of the closed Code set. */
function codeName(code: Code): string {
  return (Code[code] ?? 'unknown').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}
