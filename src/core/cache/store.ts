/**
 * A key-value store several router replicas share (Redis in production: src/server/redis), so an
 * answer cached by one replica is a hit on every other. Values are text with a time to live; the
 * only bulk operation is deleting by key prefix, which is how invalidation is done.
 *
 * Every method may reject (the store is across a network): callers treat a failed read as a miss
 * and a failed write as a lost cache entry, never as a failed request.
 */
export interface SharedStore {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Deletes every key that starts with `prefix`; resolves with how many went. */
  deleteByPrefix(prefix: string): Promise<number>;
}

/**
 * The same contract in process memory, with lazy expiry. For tests of the shared paths and for
 * tools; a single router needs no shared store (its caches are LRUs).
 */
export class MemorySharedStore implements SharedStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let removed = 0;
    const now = this.now();
    for (const [key, entry] of [...this.entries]) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      if (entry.expiresAt > now) removed++;
    }
    return removed;
  }
}
