/**
 * Load shedding with @fastify/under-pressure: while the event loop lags or the heap nears V8's limit,
 * new requests get 503 + Retry-After (UNAVAILABLE for RPC) at once instead of queueing behind the
 * backlog and timing out. /health keeps answering: an orchestrator must still see the process live.
 *
 * Thresholds (ROUTER_BACKPRESSURE_*): mean event-loop delay over each one-second sample, default
 * 1000 ms — far above a healthy router's few ms, so only a truly stuck process sheds; heap used,
 * default 90% of the V8 heap limit, past which GC thrashes and an OOM crash is near.
 *
 * Start-up grace (ROUTER_BACKPRESSURE_STARTUP_GRACE): a cold router stalls its own event loop while it
 * compiles modules and migrates, and the one-second sample that contains such a stall would make a
 * fresh router refuse traffic it could serve. For that many seconds after it starts listening (or is
 * ready, when it never listens) event-loop delay alone does not shed; the heap is still checked.
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
  /** After listen, how long (ms) event-loop delay is not a reason to shed; 0 or unset = no grace. */
  startupGraceMs?: number;
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
  const thresholds = pressureThresholds(options);
  const grace = startupGrace(app, options.startupGraceMs ?? 0);
  await app.register(fastifyUnderPressure, {
    ...thresholds,
    // Async on purpose: under-pressure then continues the hook chain, which stops at a sent reply,
    // and simply goes on for /health.
    pressureHandler: async (request, reply, type, value) => {
      if (surfaceOf(request.method, request.routeOptions.url) === 'health') return;
      // under-pressure reports the event loop first and then stops looking: check the heap ourselves.
      if (type === 'eventLoopDelay' && grace.active() && app.memoryUsage().heapUsed <= thresholds.maxHeapUsedBytes!) return;
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

/**
 * The grace window, counted from listen (onListen) and, for an app that is only ready (inject),
 * from ready: a start-up stall before listen lands in the samples right after it.
 */
function startupGrace(app: FastifyInstance, graceMs: number): { active(): boolean } {
  let until = Number.POSITIVE_INFINITY; // Before ready nothing is served; no sample can be trusted yet.
  if (graceMs <= 0) return { active: () => false };
  const start = (done: () => void) => {
    until = performance.now() + graceMs;
    done();
  };
  app.addHook('onReady', start);
  app.addHook('onListen', start);
  return { active: () => performance.now() < until };
}
