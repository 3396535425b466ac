/**
 * The OpenAI-compatible REST door: /v1/chat/completions, /v1/models, /v1/feedback.
 *
 * Thin by design: translate the wire body (request.ts), call the core Router, translate the answer
 * back (response.ts for JSON, sse.ts for streams). Routing, caching and fallback live in the core.
 * Registered as an encapsulated plugin so its error handler and CORS hooks stay on /v1.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { credentialScope } from '../../security/keys.js';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../../config/index.js';
import { collectAnswer } from '../../../core/collect.js';
import type { Router } from '../../../core/router.js';
import type { ModelListing, RouteInfo } from '../../../core/types.js';
import { logRejected } from '../../logger.js';
import { sendError } from '../errors.js';
import { corsHeaders, registerCors } from './cors.js';
import { errorReplyOf, sendErrorReply } from './errors.js';
import { QUALITY_HEADER, translateChatRequest } from './request.js';
import { chatCompletionOf, modelOf } from './response.js';
import { chatCompletionSchema, feedbackSchema, modelListSchema, modelSchemaRoute, type ChatCompletionBody, type FeedbackBody } from './schemas.js';
import { ChunkEncoder, frame, pipeParts } from './sse.js';
import { parseCacheControl } from '../../../core/cache/cache-control.js';
import { embeddingsRoute } from './embeddings.js';
import type { InFlightCalls } from '../../in-flight.js';

export interface OpenAIRoutesDeps {
  router: Router;
  config: Config;
  /** Keeps the handlers' core calls for shutdown (start.ts); absent, they run untracked. */
  calls?: InFlightCalls;
}

export function openaiRoutes(deps: OpenAIRoutesDeps): (app: FastifyInstance) => Promise<void> {
  const { router, config, calls } = deps;
  // Model objects need a `created` time; the router's names exist since this process started.
  const startedAt = Math.floor(Date.now() / 1000);

  const visibleModels = (): ModelListing[] => router.listModels().filter((m) => m.routerAlias || config.exposeModels);

  return async (app: FastifyInstance): Promise<void> => {
    registerCors(app, config.corsOrigins);

    app.setErrorHandler((error, request, reply) => {
      const e = errorReplyOf(error, request);
      if (e.status >= 500) request.log.error({ err: error }, 'request failed');
      else logRejected(request.log, error, e.status, request.body);
      return sendErrorReply(reply, e);
    });

    app.post('/v1/chat/completions', { schema: chatCompletionSchema(config) }, async (request, reply) => {
      const chat = translateChatRequest(request.body as ChatCompletionBody, {
        defaultModel: config.externalModelName,
        maxMessages: config.maxMessages,
        maxPromptChars: config.maxPromptChars,
        qualityHeader: request.headers[QUALITY_HEADER],
        requestId: request.id,
      });
      const cacheControl = parseCacheControl(request.headers['cache-control'], request.headers.pragma);
      if (cacheControl) chat.route.cacheControl = cacheControl;
      const cacheScope = credentialScope(request.headers.authorization);
      if (cacheScope) chat.route.cacheScope = cacheScope;

      // One signal from the client's socket to the backend call: a client that goes away stops the
      // generation upstream instead of letting it run to the end for nobody.
      const clientGone = new AbortController();
      let settled = false;
      const onClose = (): void => {
        if (!settled) clientGone.abort();
      };
      reply.raw.once('close', onClose);
      try {
        // Failures before the first token reject here, while a normal HTTP error status is still possible.
        const routing = calls ? calls.track(clientGone, () => router.chat(chat.route, clientGone.signal)) : router.chat(chat.route, clientGone.signal);
        if (!chat.stream) {
          const routed = await routing;
          const answer = await collectAnswer(routed.parts);
          settled = true;
          return reply
            .headers(routerHeaders(routed.info))
            .type('application/json; charset=utf-8')
            .send(chatCompletionOf(routed.info, answer, chat.legacyFunctions));
        }

        const out = reply.raw;
        const commit = (info?: RouteInfo): void => {
          reply.hijack();
          out.writeHead(200, {
            ...(reply.getHeaders() as OutgoingHttpHeaders),
            ...corsHeaders(config.corsOrigins, request),
            ...(info ? routerHeaders(info) : {}),
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
            // Reverse proxies (nginx) buffer responses unless told not to; a buffered stream is no stream.
            'x-accel-buffering': 'no',
          });
        };
        // No first token within ROUTER_STREAM_KEEPALIVE (a model loading, a slow cascade): the timer
        // starts the stream and keeps it warm with SSE comments, which clients ignore, so a proxy's
        // read timeout does not cut the wait short. The X-Router-* headers are then lost (the model is
        // not chosen yet); each chunk still names it. A timer, not a race of promises: the usual
        // request, whose first token comes in milliseconds, pays one setTimeout and nothing else.
        const keepAliveMs = config.streamKeepalive * 1000;
        let keepAlive: NodeJS.Timeout | undefined;
        let started = false;
        const early = keepAliveMs > 0
          ? setTimeout(() => {
              // A client already gone gets nothing: the routing's abort ends the request as usual.
              if (out.destroyed || clientGone.signal.aborted) return;
              started = true;
              commit();
              writeKeepAlive(out);
              keepAlive = setInterval(() => writeKeepAlive(out), keepAliveMs);
            }, keepAliveMs)
          : undefined;
        let routed;
        try {
          routed = await routing;
        } catch (error) {
          if (!started) throw error;
          // Headers are out: the failure becomes the stream's error event (no [DONE]), as after tokens.
          settled = true;
          const e = errorReplyOf(error, request);
          if (e.status >= 500) request.log.error({ err: error }, 'request failed after the stream started');
          else request.log.info({ err: error }, 'request ended before its first token');
          if (!out.destroyed) out.write(frame({ error: { message: e.message, type: e.type, param: e.param, code: e.code } }));
          endStream(out);
          return reply;
        } finally {
          clearTimeout(early);
          clearInterval(keepAlive);
        }
        if (!started) commit(routed.info);
        try {
          const outcome = await pipeParts(out, routed.parts, new ChunkEncoder(routed.info, chat), clientGone.signal);
          settled = true;
          if (outcome.kind === 'error') request.log.warn({ err: outcome.error, model: routed.info.selectedModel }, 'stream failed after it started');
          else if (outcome.kind === 'client-gone') request.log.info({ model: routed.info.selectedModel }, 'client disconnected mid-stream; upstream aborted');
          endStream(out);
        } catch (error) {
          // Headers are out: no error status is possible any more. Cutting the socket (no [DONE]) is
          // the only honest signal left; the upstream is stopped by the same abort.
          request.log.error({ err: error }, 'stream writer failed');
          clientGone.abort();
          out.destroy();
        }
        return reply;
      } finally {
        settled = true;
        reply.raw.off('close', onClose);
      }
    });

    app.get('/v1/models', { schema: modelListSchema }, async (_request, reply) => {
      return reply.send({ object: 'list', data: visibleModels().map((m) => modelOf(m, startedAt)) });
    });

    // A wildcard, not ':id': model ids contain '/' (smarterrouter/main) and ':' (qwen2.5-coder:7b).
    app.get('/v1/models/*', { schema: modelSchemaRoute }, async (request, reply) => {
      const id = (request.params as { '*': string })['*'];
      // Every model a chat request may name, listed or not: with ROUTER_EXPOSE_MODELS=false the list
      // stays short, but a client that names a backend model can chat with it, so it can look it up.
      const model = router.findModel(id);
      if (!model) return sendError(reply, 404, `The model '${id}' does not exist.`, 'invalid_request_error', 'model_not_found', 'model');
      return reply.send(modelOf(model, startedAt));
    });

    app.post('/v1/feedback', { schema: feedbackSchema }, async (request, reply) => {
      const body = request.body as FeedbackBody;
      const { model } = await router.submitFeedback({
        responseId: body.response_id,
        score: body.score,
        ...(body.comment != null ? { comment: body.comment } : {}),
      });
      return reply.send({ accepted: true, response_id: body.response_id, model });
    });

    embeddingsRoute(app, { router, config, ...(calls ? { calls } : {}) });
  };
}

function routerHeaders(info: RouteInfo): Record<string, string> {
  return { 'x-router-model': headerSafe(info.selectedModel), 'x-router-category': headerSafe(info.category), 'x-router-cache': info.cache };
}

/** Node throws on non-ASCII header values; a model id from a plugin could contain any character. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/** An SSE comment line: no event for the client, bytes on the wire for every proxy in between. */
function writeKeepAlive(out: ServerResponse): void {
  if (!out.destroyed && !out.writableEnded) out.write(': keep-alive\n\n');
}

/** Ends a hijacked stream; after a disconnect the socket is already gone and there is nothing to end. */
function endStream(out: ServerResponse): void {
  if (!out.destroyed && !out.writableEnded) out.end();
}
