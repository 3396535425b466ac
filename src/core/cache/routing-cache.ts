/**
 * The routing-decision cache: the plan (classification, needs, ranked candidates) of a request,
 * keyed by what classification and scoring read (keys.ts routingKey) and the registry version.
 *
 * The registry rebuilds its snapshot array whenever models, availability, loaded state, benchmark
 * knowledge or feedback change, so the identity of that array is its version: a new array means
 * every cached plan may be wrong, and the cache starts afresh.
 */
import type { RouteRequest } from '../types.js';
import { routingKey } from './keys.js';
import { LruCache } from './lru.js';

export interface RoutingCacheOptions<P> {
  maxSize: number;
  ttlMs: number;
  now?: () => number;
  /** The model a plan selected (for invalidation by model). */
  selectedModel: (plan: P) => string | undefined;
}

export class RoutingCache<P> {
  private readonly lru: LruCache<string, P>;
  private snapshot: object | undefined;
  private version = 0;

  constructor(private readonly options: RoutingCacheOptions<P>) {
    this.lru = new LruCache({ maxSize: options.maxSize, ttlMs: options.ttlMs, now: options.now });
  }

  get size(): number {
    return this.lru.size;
  }

  /** The key for a request against the current registry snapshot (clears stale plans first). */
  keyFor(request: RouteRequest, registrySnapshot: object): string {
    if (registrySnapshot !== this.snapshot) {
      this.snapshot = registrySnapshot;
      this.version++;
      this.lru.clear();
    }
    return routingKey(request, this.version);
  }

  get(key: string): P | undefined {
    return this.lru.get(key);
  }

  set(key: string, plan: P): void {
    this.lru.set(key, plan);
  }

  invalidate(model?: string): number {
    return model === undefined ? this.lru.clear() : this.lru.deleteWhere((plan) => this.options.selectedModel(plan) === model);
  }
}
