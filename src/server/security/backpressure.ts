/**
 * Load shedding with @fastify/under-pressure: while the event loop lags or the heap nears V8's limit,
 * new requests get 503 + Retry-After (UNAVAILABLE for RPC) at once instead of queueing behind the
 * backlog and timing out. /health keeps answering: an orchestrator must still see the process live.
 *
 * Thresholds (ROUTER_BACKPRESSURE_*): mean event-loop delay over each one-second sample, default
 * 1000 ms — far above a healthy router's few ms, so only a truly stuck process sheds; heap used,
 * default 90% of the V8 heap limit, past which GC thrashes and an OOM crash is near.
 */
import { getHeapStatistics } from 'node:v8';
import { Code } from '@connectrpc/connect';
import fastifyUnderPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { reject } from './rejection.js';
import { surfaceOf } from './surface.js';

export interface BackpressureOptions {
  /** Mean event-loop delay (ms) that triggers shedding; 0 = not checked. */
  maxEventLoopDelayMs: number;
  /** Heap used (MB) that triggers shedding; 0 = 90% of the V8 heap limit. */
  maxHeapMb: number;
}

const RETRY_AFTER_SECONDS = 5;
const HEAP_LIMIT_SHARE = 0.9;

/** The under-pressure thresholds for our options (without the handler). */
export function pressureThresholds(options: BackpressureOptions): Pick<FastifyUnderPressureOptions, 'maxEventLoopDelay' | 'maxHeapUsedBytes'> {
  const heapBytes = options.maxHeapMb > 0 ? options.maxHeapMb * 1024 * 1024 : Math.floor(getHeapStatistics().heap_size_limit * HEAP_LIMIT_SHARE);
  return { maxEventLoopDelay: options.maxEventLoopDelayMs, maxHeapUsedBytes: heapBytes };
}

export async function registerBackpressure(
  app: FastifyInstance,
  options: BackpressureOptions,
  restHeaders: (request: FastifyRequest) => Record<string, string>,
): Promise<void> {
  await app.register(fastifyUnderPressure, {
    ...pressureThresholds(options),
    // Async on purpose: under-pressure then continues the hook chain, which stops at a sent reply,
    // and simply goes on for /health.
    pressureHandler: async (request, reply, type, value) => {
      if (surfaceOf(request.method, request.routeOptions.url) === 'health') return;
      request.log.debug({ type, value }, 'overloaded: request refused');
      reject(
        request,
        reply,
        {
          status: 503,
          rpcCode: Code.Unavailable,
          type: 'server_error',
          code: 'overloaded',
          message: 'The router is overloaded: retry shortly.',
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        },
        restHeaders(request),
      );
    },
  });
}
