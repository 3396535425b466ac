/**
 * The CLI's connection to a running router: Connect over HTTP/1.1 (works through any proxy), the
 * keys as Bearer headers, and one place that turns RPC failures into a clear sentence.
 */
import { Code, ConnectError, createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AdminService } from '../../gen/smarterrouter/v1/admin_pb.js';
import { ProfilerService } from '../../gen/smarterrouter/v1/profiler_pb.js';
import { RouterService } from '../../gen/smarterrouter/v1/router_pb.js';

export interface ClientOptions {
  url: string;
  adminKey?: string;
  apiKey?: string;
  timeoutMs?: number;
}

export interface Clients {
  router: Client<typeof RouterService>;
  admin: Client<typeof AdminService>;
  profiler: Client<typeof ProfilerService>;
}

function bearer(key: string | undefined): Interceptor {
  return (next) => async (req) => {
    if (key) req.header.set('authorization', `Bearer ${key}`);
    return next(req);
  };
}

export function connect(options: ClientOptions): Clients {
  const transport = (key: string | undefined) =>
    createConnectTransport({ baseUrl: options.url, httpVersion: '1.1', interceptors: [bearer(key)], defaultTimeoutMs: options.timeoutMs });
  const admin = transport(options.adminKey);
  return {
    // The router takes its admin key on client routes too: with only --admin-key, explain still works.
    router: createClient(RouterService, transport(options.apiKey ?? options.adminKey)),
    admin: createClient(AdminService, admin),
    profiler: createClient(ProfilerService, admin),
  };
}

/** One line a person can act on, for every way a call can fail. */
export function describeFailure(error: unknown, options: ClientOptions): string {
  const e = ConnectError.from(error);
  const cause = e.cause as NodeJS.ErrnoException | undefined;
  const network = cause?.code ?? (cause?.cause as NodeJS.ErrnoException | undefined)?.code;
  if (network === 'ECONNREFUSED' || network === 'ENOTFOUND' || network === 'EHOSTUNREACH' || network === 'ECONNRESET') {
    return `cannot reach the router at ${options.url} (${network}): is it running? Set --url or SMARTERROUTER_URL.`;
  }
  switch (e.code) {
    case Code.Unauthenticated:
      return `the router refused the key (${e.rawMessage}): pass --admin-key or set ROUTER_ADMIN_API_KEY (--api-key, ROUTER_API_KEY or ROUTER_API_KEYS for explain and models).`;
    case Code.PermissionDenied:
      return `not allowed: ${e.rawMessage}`;
    case Code.Unimplemented:
      return `this router does not support that yet: ${e.rawMessage}`;
    case Code.DeadlineExceeded:
      return `the router did not answer in time (${e.rawMessage}).`;
    case Code.Unavailable:
      return `the router at ${options.url} is unavailable: ${e.rawMessage}`;
    default:
      return `${Code[e.code] ?? e.code}: ${e.rawMessage}`;
  }
}
