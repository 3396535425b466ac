/**
 * RouterService over Connect, gRPC and gRPC-Web: the RPC door to the routing core. Each handler
 * translates the proto request (proto-mapping.ts), calls the core, and translates the answer back;
 * every routing behaviour lives in the core, every error code is decided in errors.ts.
 *
 * Embed belongs to the caching and embeddings capability and is left out here, so routes.ts answers
 * it with UNIMPLEMENTED.
 */
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import {
  ListModelsResponseSchema,
  type RouterService,
  SubmitFeedbackResponseSchema,
} from '../../../gen/smarterrouter/v1/router_pb.js';
import type { Config } from '../../config/index.js';
import { collectAnswer } from '../../core/collect.js';
import type { Router } from '../../core/router.js';
import type { Protocol } from '../../core/types.js';
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
  toRouteRequest,
  toStreamResponse,
  type MappingLimits,
  type RequestMeta,
} from './proto-mapping.js';

/** The part of the core the RPCs use (a Pick, so a test can hand in a fake core). */
export type RoutingCore = Pick<Router, 'chat' | 'explain' | 'listModels' | 'submitFeedback'>;

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
        const routeRequest = toRouteRequest(request, limits, requestMeta(ctx));
        // ctx.signal carries the deadline, the client going away and server shutdown: the core
        // hands it to the backend call, so any of them stops the generation upstream.
        // Unary: the client waits for the whole answer, so the core may cascade on a failure anywhere.
        const routed = await router.chat({ ...routeRequest, stream: false }, ctx.signal);
        const answer = await collectAnswer(routed.parts);
        return toChatResponse(routed.info, answer);
      } catch (error) {
        throw toConnectError(error, ctx);
      }
    },

    async *chatStream(request, ctx) {
      try {
        const routeRequest = streamRouteRequest(request, limits, requestMeta(ctx));
        const routed = await router.chat({ ...routeRequest, stream: true }, ctx.signal);
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
        // The core promises a finish or an error part; ending without either would look like a
        // complete (truncated) answer to the client, so it is reported as the bug it is.
        throw new Error('the answer stream ended without a finish part');
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

const PROTOCOLS: Record<string, Protocol> = { connect: 'connect', grpc: 'grpc', 'grpc-web': 'grpc-web' };

function requestMeta(ctx: HandlerContext): RequestMeta {
  const requestId = ctx.values.get(kRequestId);
  return { protocol: PROTOCOLS[ctx.protocolName] ?? 'connect', ...(requestId ? { requestId } : {}) };
}
