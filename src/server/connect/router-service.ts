/**
 * RouterService over Connect, gRPC and gRPC-Web: the RPC door to the routing core. Each handler
 * translates the proto request (proto-mapping.ts), calls the core, and translates the answer back;
 * every routing behaviour lives in the core, every error code is decided in errors.ts.
 *
 * A client's `cache-control` request header (no-cache / no-store) reaches the core's caches the
 * same way as on REST; the `x-router-cache` response header says hit, semantic or miss.
 */
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { credentialScope } from '../security/keys.js';
import { create } from '@bufbuild/protobuf';
import {
  EmbedResponseSchema,
  ListModelsResponseSchema,
  type RouterService,
  SubmitFeedbackResponseSchema,
} from '../../../gen/smarterrouter/v1/router_pb.js';
import type { Config } from '../../config/index.js';
import { collectAnswer } from '../../core/collect.js';
import type { Router } from '../../core/router.js';
import { RouterError, type Protocol, type RouteInfo, type RouteRequest } from '../../core/types.js';
import { parseCacheControl } from '../../core/cache/cache-control.js';
import { kRequestId } from './context.js';
import { toConnectError } from './errors.js';
import {
  explainRouteRequest,
  routeStreamResponse,
  scoringWeights,
  streamRouteRequest,
  toChatResponse,
  toExplainResponse,
  toFeedbackInput,
  toProtoModel,
  toProtoUsage,
  toRouteRequest,
  toStreamResponse,
  type MappingLimits,
  type RequestMeta,
} from './proto-mapping.js';

/** The part of the core the RPCs use (a Pick, so a test can hand in a fake core). */
export type RoutingCore = Pick<Router, 'chat' | 'explain' | 'listModels' | 'submitFeedback' | 'embed'>;

export function createRouterService(router: RoutingCore, config: Config): Partial<ServiceImpl<typeof RouterService>> {
  const limits: MappingLimits = {
    maxMessages: config.maxMessages,
    maxPromptChars: config.maxPromptChars,
    externalModelName: config.externalModelName,
  };
  const weights = scoringWeights(config);

  return {
    async chat(request, ctx) {
      try {
        const routeRequest = withCacheOptions(toRouteRequest(request, limits, requestMeta(ctx)), ctx);
        // ctx.signal carries the deadline, the client going away and server shutdown: the core
        // hands it to the backend call, so any of them stops the generation upstream.
        // Unary: the client waits for the whole answer, so the core may cascade on a failure anywhere.
        const routed = await router.chat({ ...routeRequest, stream: false }, ctx.signal);
        setCacheHeader(routed.info, ctx);
        const answer = await collectAnswer(routed.parts);
        return toChatResponse(routed.info, answer);
      } catch (error) {
        throw toConnectError(error, ctx);
      }
    },

    async *chatStream(request, ctx) {
      try {
        const routeRequest = withCacheOptions(streamRouteRequest(request, limits, requestMeta(ctx)), ctx);
        const routed = await router.chat({ ...routeRequest, stream: true }, ctx.signal);
        setCacheHeader(routed.info, ctx);
        yield routeStreamResponse(routed.info);
        // for-await calls return() on the parts when this generator is closed early (client
        // cancelled), which lets the core release the backend stream at once.
        for await (const part of routed.parts) {
          if (part.type === 'error') {
            // Fallback is only possible before the first delta; after it the RPC must end with an
            // error status, never a clean end that a client would take for a complete answer.
            throw part.error;
          }
          yield toStreamResponse(part);
          if (part.type === 'finish') return;
        }
        // The parts stop early when the call's signal aborts (the client cancelled, its deadline
        // passed, shutdown): that is the client's doing, and errors.ts picks CANCELED or
        // DEADLINE_EXCEEDED from the signal.
        if (ctx.signal.aborted) throw new RouterError('aborted', 'the client went away');
        // Otherwise the core broke its promise of a finish or an error part; ending without either
        // would look like a complete (truncated) answer to the client, so it is reported as the bug it is.
        throw new Error('the answer stream ended without a finish part');
      } catch (error) {
        throw toConnectError(error, ctx);
      }
    },

    async embed(request, ctx) {
      try {
        const result = await router.embed(
          {
            // Empty: the configured default (ROUTER_EMBED_MODEL), as the router's own name means on REST.
            model: request.model.trim(),
            input: request.input,
            ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
          },
          ctx.signal,
        );
        return create(EmbedResponseSchema, {
          model: result.model,
          embeddings: result.embeddings.map((values) => ({ values })),
          usage: toProtoUsage({ promptTokens: result.usage.promptTokens, completionTokens: 0 }),
        });
      } catch (error) {
        throw toConnectError(error, ctx);
      }
    },

    async explain(request, ctx) {
      try {
        const explanation = await router.explain(explainRouteRequest(request, limits, requestMeta(ctx)));
        return toExplainResponse(explanation, weights);
      } catch (error) {
        throw toConnectError(error, ctx);
      }
    },

    async listModels(request, ctx) {
      try {
        const models = router.listModels({ includeUnavailable: request.includeUnavailable });
        return create(ListModelsResponseSchema, { models: models.map(toProtoModel) });
      } catch (error) {
        throw toConnectError(error, ctx);
      }
    },

    async submitFeedback(request, ctx) {
      try {
        const { model } = await router.submitFeedback(toFeedbackInput(request, limits));
        return create(SubmitFeedbackResponseSchema, { accepted: true, model });
      } catch (error) {
        throw toConnectError(error, ctx);
      }
    },
  };
}

/** The cache options of a request from its metadata, as REST reads them from headers. */
function withCacheOptions(request: RouteRequest, ctx: HandlerContext): RouteRequest {
  const cacheControl = parseCacheControl(ctx.requestHeader.get('cache-control'), ctx.requestHeader.get('pragma'));
  const cacheScope = credentialScope(ctx.requestHeader.get('authorization'));
  return { ...request, ...(cacheControl ? { cacheControl } : {}), ...(cacheScope ? { cacheScope } : {}) };
}

function setCacheHeader(info: RouteInfo, ctx: HandlerContext): void {
  ctx.responseHeader.set('x-router-cache', info.cache);
}

const PROTOCOLS: Record<string, Protocol> = { connect: 'connect', grpc: 'grpc', 'grpc-web': 'grpc-web' };

function requestMeta(ctx: HandlerContext): RequestMeta {
  const requestId = ctx.values.get(kRequestId);
  return { protocol: PROTOCOLS[ctx.protocolName] ?? 'connect', ...(requestId ? { requestId } : {}) };
}
