/**
 * buildApp(): the fastify instance that serves everything on one port — the OpenAI REST facade,
 * admin routes, /health, and the Connect/gRPC/gRPC-Web services (through connect-fastify).
 * Handlers stay thin: they translate wire shapes and call the core.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import { schemaController } from './validators.js';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { createContextValues, type ConnectRouter } from '@connectrpc/connect';
import { logRejected, type Logger } from './logger.js';
import { createOnePortServer } from './one-port.js';
import { errorReplyOf, sendErrorReply } from './rest/openai/errors.js';
import { kRequestLogger, kRequestId } from './connect/context.js';
import { grpcStatusOf } from './connect/grpc-status.js';
import { connectJsonOptions, registerJsonBodyParser } from './json-guard.js';
import { fastifyTrustProxy } from './security/addresses.js';
import { registerSecurity, type SecurityOptions } from './security/index.js';
import { relabelDecodeFailures } from './security/decode-failure.js';
import { rejectUnknownRoute } from './security/rejection.js';
import type { RequestObserver } from './metrics/doors.js';

export interface AppOptions {
  logger: Logger;
  /** Registers the Connect services (RouterService, AdminService, ProfilerService, reflection). */
  connectRoutes: (router: ConnectRouter) => void;
  /** REST routes (health, OpenAI facade, admin), registered as fastify plugins. */
  restPlugins: Array<(app: FastifyInstance) => Promise<void> | void>;
  /** How long in-flight RPCs may run on close before they are aborted. */
  shutdownTimeoutMs: number;
  /** Auth, rate limits and load shedding for every route and RPC (src/server/security). */
  security: SecurityOptions;
  /** Counts every REST request and RPC (src/server/metrics). */
  observer?: RequestObserver;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const REQUEST_ID = /^[\w.:@/-]{1,128}$/;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Typed as an HTTP/1.1 server: HTTP/2 requests arrive through the compat API with the same surface.
    serverFactory: ((handler: Parameters<typeof createOnePortServer>[0]) => createOnePortServer(handler)) as unknown as FastifyServerFactory,
    bodyLimit: MAX_BODY_BYTES,
    // ROUTER_TRUST_PROXY: request.ip comes from X-Forwarded-For only when the peer is a trusted proxy.
    trustProxy: fastifyTrustProxy(options.security.trustProxy),
    // X-Request-ID is honoured when it is a sane token, generated otherwise; it tags every log line.
    genReqId: (req) => {
      const sent = req.headers['x-request-id'];
      const value = Array.isArray(sent) ? sent[0] : sent;
      return value && REQUEST_ID.test(value) ? value : randomUUID();
    },
    // One line per request is logged by our onResponse hook (with timing), not fastify's two.
    logController: new LogController({ requestIdLogLabel: 'reqId', disableRequestLogging: true }),
    // Closing waits for in-flight requests; idle keep-alive sockets are closed at once.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // JSON bodies are validated with their real types; query strings and headers are coerced.
    schemaController,
  });

  // Callback-style hooks on every request: an async hook costs promises per request for nothing.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // A client that hangs up before its answer is complete fires no onResponse (fastify waits for
    // 'finish'): counted (499, nginx's code) and logged here, or abandoned requests, a client timing
    // out on a slow model among them, would leave no trace at all.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      const ms = Math.round(reply.elapsedTime * 100) / 100;
      options.observer?.onAbort(request, ms / 1000);
      request.log.info({ method: request.method, url: request.url, status: 499, ms }, 'request abandoned by the client');
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    options.observer?.onResponse(request, reply);
    // request.log is a pino child; the line (and its timing) is built only when it will be written.
    if ((request.log as Logger).isLevelEnabled('info')) {
      const line: Record<string, unknown> = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 };
      // gRPC answers HTTP 200 even for errors: the RPC's own status goes on the line too.
      const grpcStatus = grpcStatusOf(reply.raw);
      if (grpcStatus !== undefined) line.grpcStatus = grpcStatus;
      request.log.info(line, 'request completed');
    }
    done();
  });

  // Routes without their own handler (admin listings, health...) answer in the same error JSON, with
  // the same wording for schema violations, as the OpenAI facade.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const e = errorReplyOf(error, request);
    if (e.status >= 500) request.log.error({ err: error }, 'request failed');
    else logRejected(request.log, error, e.status, request.body);
    return sendErrorReply(reply, e);
  });

  // REST: 404 OpenAI error JSON; gRPC and gRPC-Web: a trailers-only UNIMPLEMENTED (security/rejection.ts).
  app.setNotFoundHandler((request, reply) => rejectUnknownRoute(request, reply));

  // Before any route: the load-shedding, rate-limit and auth hooks must cover every route.
  const security = await registerSecurity(app, options.security, options.logger);

  // Each REST scope refuses absurdly nested JSON before parsing it (json-guard.ts); Connect parses its own bodies.
  // JSON bodies only: fastify's text/plain parser would hand routes a string (a confusing 400), and a
  // text/plain POST is the one a browser sends cross-site without a CORS preflight.
  for (const plugin of options.restPlugins) {
    await app.register(async (scope) => {
      scope.removeContentTypeParser('text/plain');
      registerJsonBodyParser(scope);
      return plugin(scope);
    });
  }

  // Never wrapped in fastify-plugin: connect-fastify replaces the JSON parser inside its own scope.
  await app.register(fastifyConnectPlugin, {
    // Undecodable protobuf binary answers INVALID_ARGUMENT, not connect-es's INTERNAL (security/decode-failure.ts).
    routes: (router) => {
      options.connectRoutes(router);
      relabelDecodeFailures(router);
    },
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    // The REST body limit for RPC messages too (connect-es's default is 4 GiB): RESOURCE_EXHAUSTED beyond it.
    readMaxBytes: MAX_BODY_BYTES,
    // Connect/gRPC-Web JSON bodies get the REST nesting guard before connect-es parses them (json-guard.ts).
    jsonOptions: connectJsonOptions(),
    // Metrics first (outermost), so RPCs refused by the security interceptors are counted too.
    interceptors: [...(options.observer ? [options.observer.interceptor] : []), ...security.interceptors],
    contextValues: (req) => security.contextValues(req, createContextValues().set(kRequestLogger, req.log).set(kRequestId, req.id)),
  });

  return app;
}

