/**
 * The exact response cache: whole answers keyed by the canonical request (keys.ts), LRU + TTL.
 * Entries remember the model that answered, so an operator can drop one model's answers.
 *
 * With a shared store (several replicas, ROUTER_REDIS_URL) answers are read from the store only, so
 * an answer cached by one replica is a hit on all, and an invalidation on one reaches all at once
 * (a local copy in front would keep serving what another replica just dropped). The local LRU
 * then only mirrors what this replica wrote, for its size and invalidation counts.
 */
import type { CachedAnswer } from './answer.js';
import { LruCache } from './lru.js';
import type { SharedStore } from './store.js';

export interface ResponseCacheOptions {
  maxSize: number;
  ttlMs: number;
  now?: () => number;
  /** Where answers live when several replicas share them. */
  shared?: SharedStore;
  /** A shared-store failure: the read counts as a miss, the write is lost, the request goes on. */
  onSharedError?: (error: unknown, during: 'read' | 'write' | 'invalidate') => void;
}

/**
 * Layout in the shared store: the answer under its model's prefix (so dropping one model's answers
 * is one prefix delete), and an index from request key to model, so a lookup knows where to look.
 * An index entry whose answer was invalidated simply finds nothing.
 */
const PREFIX = 'response:';
const indexKey = (key: string) => `${PREFIX}idx:${key}`;
const modelPrefix = (model: string) => `${PREFIX}m:${encodeURIComponent(model)}:`;

export class ResponseCache {
  private readonly lru: LruCache<string, CachedAnswer>;

  constructor(private readonly options: ResponseCacheOptions) {
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

  /** The answer for `key`: from this process, or with a shared store from the store (whoever filled it). */
  async lookup(key: string): Promise<CachedAnswer | undefined> {
    const shared = this.options.shared;
    if (!shared) return this.lru.get(key);
    try {
      // The index holds the answer's model prefix.
      const prefix = await shared.get(indexKey(key));
      if (prefix === undefined) return undefined;
      const text = await shared.get(`${prefix}${key}`);
      return text === undefined ? undefined : parseAnswer(text);
    } catch (error) {
      this.options.onSharedError?.(error, 'read');
      return undefined;
    }
  }

  /** Caches an answer here and, with a shared store, for every replica (written in the background). */
  store(key: string, answer: CachedAnswer): void {
    this.lru.set(key, answer);
    const shared = this.options.shared;
    if (!shared) return;
    const prefix = modelPrefix(answer.model);
    // The answer first: an index entry must never point at an answer not yet written.
    void shared
      .set(`${prefix}${key}`, JSON.stringify(answer), this.options.ttlMs)
      .then(() => shared.set(indexKey(key), prefix, this.options.ttlMs))
      .catch((error: unknown) => this.options.onSharedError?.(error, 'write'));
  }

  /**
   * Drops every entry (or only those answered by `model`); returns how many this process held.
   * Shared entries are deleted in the background, for every replica.
   */
  invalidate(model?: string): number {
    const shared = this.options.shared;
    if (shared) {
      void shared.deleteByPrefix(model === undefined ? PREFIX : modelPrefix(model)).catch((error: unknown) => this.options.onSharedError?.(error, 'invalidate'));
    }
    return model === undefined ? this.lru.clear() : this.lru.deleteWhere((a) => a.model === model);
  }
}

/** A stored answer that does not parse (another version wrote it, or it was cut) is a miss. */
function parseAnswer(text: string): CachedAnswer | undefined {
  try {
    const value = JSON.parse(text) as CachedAnswer;
    return Array.isArray(value?.parts) && typeof value.model === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
