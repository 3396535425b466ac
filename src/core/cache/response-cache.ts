/**
 * The exact response cache: whole answers keyed by the canonical request (keys.ts), LRU + TTL.
 * Entries remember the model that answered, so an operator can drop one model's answers.
 */
import type { CachedAnswer } from './answer.js';
import { LruCache } from './lru.js';

export interface ResponseCacheOptions {
  maxSize: number;
  ttlMs: number;
  now?: () => number;
}

export class ResponseCache {
  private readonly lru: LruCache<string, CachedAnswer>;

  constructor(options: ResponseCacheOptions) {
    this.lru = new LruCache({ maxSize: options.maxSize, ttlMs: options.ttlMs, now: options.now });
  }

  get size(): number {
    return this.lru.size;
  }

  get(key: string): CachedAnswer | undefined {
    return this.lru.get(key);
  }

  set(key: string, answer: CachedAnswer): void {
    this.lru.set(key, answer);
  }

  /** Drops every entry (or only those answered by `model`); returns how many went. */
  invalidate(model?: string): number {
    return model === undefined ? this.lru.clear() : this.lru.deleteWhere((a) => a.model === model);
  }
}
