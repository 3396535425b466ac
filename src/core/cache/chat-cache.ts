/**
 * The caches on the chat path, in the order a request meets them:
 *
 *   exact response cache -> an identical request in flight (coalescing) -> semantic cache (in
 *   parallel with planning, itself served from the routing cache) -> dispatch, and the complete
 *   answer fills the caches.
 *
 * The Router hands in a ChatEngine (plan, dispatch, and how to build a served answer), so this module
 * owns every caching rule and the Router keeps only routing.
 */
import type { ChatStreamPart } from '../../plugin-api/index.js';
import { RouterError, type CacheStatus, type RouteInfo, type RoutedStream, type RouteRequest } from '../types.js';
import { capture, type AnswerPart, type CachedAnswer } from './answer.js';
import { Coalescer } from './coalesce.js';
import { responseKey, semanticParts } from './keys.js';
import { ResponseCache } from './response-cache.js';
import { RoutingCache } from './routing-cache.js';
import type { SemanticCache, SemanticLookup } from './semantic-cache.js';
import { CacheCounters, type CacheKind, type CacheKindStats } from './stats.js';
import type { SharedStore } from './store.js';

export interface ChatEngine<P> {
  plan(request: RouteRequest, signal: AbortSignal): Promise<P>;
  /** The registry snapshot the plan depends on (its identity is the registry version). */
  registryVersion(): object;
  dispatch(request: RouteRequest, plan: P, signal: AbortSignal): Promise<RoutedStream>;
  /** A cached answer served to this request (builds and records its RouteInfo). */
  served(request: RouteRequest, answer: CachedAnswer, status: Exclude<CacheStatus, 'miss'>): RoutedStream;
  /** The stream of a request that joined an identical one in flight (its RouteInfo recorded). */
  joined(request: RouteRequest, leader: RouteInfo, parts: AsyncIterable<ChatStreamPart>): RoutedStream;
}

export interface ChatCacheOptions {
  responseMaxSize: number;
  routingMaxSize: number;
  ttlMs: number;
  /** ROUTER_CACHE_NONDETERMINISTIC: also serve requests with temperature > 0. */
  nondeterministic: boolean;
  /** Off when ROUTER_EMBED_MODEL is unset. */
  semantic?: SemanticCache;
  /** Several replicas share cached answers through it (ROUTER_REDIS_URL); unset = this process only. */
  shared?: SharedStore;
  now?: () => number;
  /** Hit/miss callback for the metrics events (the counters here count regardless). */
  onLookup?: (kind: CacheKind, hit: boolean) => void;
  logger?: { warn(obj: object, msg: string): void };
}

export type InvalidateScope = 'all' | 'response' | 'routing' | 'semantic';

export interface InvalidateResult {
  response: number;
  routing: number;
  semantic: number;
}

export interface ChatCacheStats {
  caches: CacheKindStats[];
  /** Requests that shared an identical request's upstream call. */
  coalesced: number;
  /** Identical-request groups in flight now. */
  inFlight: number;
}

interface Policy {
  key: string;
  /** May answer from a cache (and join a flight). */
  read: boolean;
  /** May store the fresh answer. */
  write: boolean;
  /** The client asked for a fresh answer (also skips cached routing decisions). */
  fresh: boolean;
  semantic?: { prompt: string; partition: string };
}

export class ChatCache<P> {
  readonly responses: ResponseCache;
  readonly routing: RoutingCache<P>;
  readonly semantic: SemanticCache | undefined;
  private readonly flights = new Coalescer<RouteInfo, ChatStreamPart>(() => new RouterError('aborted', 'the client went away'));
  private readonly counters: CacheCounters;

  constructor(
    private readonly options: ChatCacheOptions,
    selectedModel: (plan: P) => string | undefined,
  ) {
    this.responses = new ResponseCache({
      maxSize: options.responseMaxSize,
      ttlMs: options.ttlMs,
      now: options.now,
      shared: options.shared,
      onSharedError: (err, during) => options.logger?.warn({ err, during }, 'shared response cache failed; answering without it'),
    });
    this.routing = new RoutingCache<P>({ maxSize: options.routingMaxSize, ttlMs: options.ttlMs, now: options.now, selectedModel });
    this.semantic = options.semantic;
    this.counters = new CacheCounters(options.onLookup);
  }

  async chat(request: RouteRequest, signal: AbortSignal, engine: ChatEngine<P>): Promise<RoutedStream> {
    const policy = this.policy(request);
    // Streaming and waiting clients get different cascade rules from the core, so they share
    // cached answers but never one flight.
    const flightKey = `${policy.key}:${request.stream === false ? 'whole' : 'stream'}`;
    if (policy.read) {
      // Only a shared store costs a round trip; the local lookup stays synchronous.
      const hit = this.options.shared ? await this.responses.lookup(policy.key) : this.responses.get(policy.key);
      if (hit) {
        this.counters.hit('response');
        return engine.served(request, hit, 'hit');
      }
      this.counters.miss('response');
      const joined = this.flights.join(flightKey, signal);
      if (joined) {
        this.counters.coalesced++;
        const shared = await joined;
        return engine.joined(request, shared.info, shared.parts);
      }
      return this.flights.run(flightKey, (flightSignal) => this.miss(request, policy, flightSignal, engine), signal);
    }
    return this.miss(request, policy, signal, engine);
  }

  /** The plan, from the routing cache when the same input was planned against the same registry. */
  async plan(request: RouteRequest, signal: AbortSignal, engine: ChatEngine<P>, fresh = false): Promise<P> {
    const key = this.routing.keyFor(request, engine.registryVersion());
    if (!fresh) {
      const cached = this.routing.get(key);
      if (cached !== undefined) {
        this.counters.hit('routing');
        return cached;
      }
      this.counters.miss('routing');
    }
    const plan = await engine.plan(request, signal);
    this.routing.set(key, plan);
    return plan;
  }

  invalidate(scope: InvalidateScope, model?: string): InvalidateResult {
    const all = scope === 'all';
    return {
      response: all || scope === 'response' ? this.responses.invalidate(model) : 0,
      routing: all || scope === 'routing' ? this.routing.invalidate(model) : 0,
      semantic: (all || scope === 'semantic') && this.semantic ? this.semantic.invalidate(model) : 0,
    };
  }

  stats(): ChatCacheStats {
    return {
      caches: this.counters.snapshot({ response: this.responses.size, routing: this.routing.size, semantic: this.semantic?.size ?? 0 }),
      coalesced: this.counters.coalesced,
      inFlight: this.flights.size,
    };
  }

  async close(): Promise<void> {
    await this.semantic?.close();
  }

  private policy(request: RouteRequest): Policy {
    const control = request.cacheControl ?? {};
    // A sampled answer is one of many: serving it again would hide the variety the client asked for
    // (a chat UI's "regenerate" resends the very same request). Only an explicit temperature 0 is
    // deterministic: without one, OpenAI samples at 1 and local backends at 0.7-0.8.
    const sampled = request.temperature !== 0 && !this.options.nondeterministic;
    const fresh = control.noCache === true || control.noStore === true;
    const write = !control.noStore && !sampled;
    return {
      key: responseKey(request),
      read: !fresh && !sampled,
      write,
      fresh,
      semantic: this.semantic && write ? semanticParts(request) : undefined,
    };
  }

  private async miss(request: RouteRequest, policy: Policy, signal: AbortSignal, engine: ChatEngine<P>): Promise<RoutedStream> {
    // The embedding runs while the request is planned, so a miss waits for the slower of the two,
    // not for both.
    const lookup = this.semantic && policy.semantic && policy.read ? this.semanticLookup(policy.semantic, signal) : undefined;
    const plan = await this.plan(request, signal, engine, policy.fresh);
    const found = await lookup;
    if (lookup) {
      if (found?.answer) {
        this.counters.hit('semantic');
        return engine.served(request, found.answer, 'semantic');
      }
      this.counters.miss('semantic');
    }
    const routed = await engine.dispatch(request, plan, signal);
    if (!policy.write) return routed;
    return { info: routed.info, parts: capture(routed.parts, (parts) => this.fill(policy, routed.info, parts, found?.vector)) };
  }

  private async semanticLookup(parts: { prompt: string; partition: string }, signal: AbortSignal): Promise<SemanticLookup | undefined> {
    try {
      return await this.semantic!.lookup(parts.prompt, parts.partition, signal);
    } catch (error) {
      // The semantic cache is an optimisation: a failing embedding model costs the hit, never the answer.
      if (!signal.aborted) this.options.logger?.warn({ err: error }, 'semantic cache lookup failed; answering without it');
      return undefined;
    }
  }

  private fill(policy: Policy, info: RouteInfo, parts: AnswerPart[], vector: ArrayLike<number> | undefined): void {
    const answer: CachedAnswer = {
      parts,
      model: info.selectedModel,
      backend: info.backend,
      category: info.category,
      complexity: info.complexity,
      complexityScore: info.complexityScore,
    };
    this.responses.store(policy.key, answer);
    if (this.semantic && policy.semantic) this.semantic.store(policy.key, policy.semantic.prompt, policy.semantic.partition, answer, vector);
  }
}
