/**
 * A bounded map with least-recently-used eviction and a time to live per entry.
 *
 * A Map keeps insertion order, so "recently used" is "re-inserted on read": the first key is always
 * the least recently used one, and eviction is O(1). Expired entries are dropped lazily when read
 * (and when they reach the front), so there is no timer to stop. The clock is injectable so tests
 * can move time without waiting.
 */
export interface LruOptions<K, V> {
  /** Entries kept at most; the least recently used one goes first. */
  maxSize: number;
  /** Lifetime of an entry in ms from when it was set. */
  ttlMs: number;
  /** Milliseconds now (default Date.now). */
  now?: () => number;
  /** Called for every entry that leaves the cache (eviction, expiry, delete, clear). */
  onRemove?: (key: K, value: V) => void;
}

interface Slot<V> {
  value: V;
  expiresAt: number;
}

export class LruCache<K, V> {
  private readonly map = new Map<K, Slot<V>>();
  private readonly now: () => number;

  constructor(private readonly options: LruOptions<K, V>) {
    if (!(options.maxSize >= 1)) throw new RangeError('maxSize must be at least 1');
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  /** The value if present and fresh; marks it as the most recently used. */
  get(key: K): V | undefined {
    const slot = this.map.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.now()) {
      this.remove(key, slot);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, slot);
    return slot.value;
  }

  /** Like get() without touching recency (for checks that must not keep an entry alive). */
  peek(key: K): V | undefined {
    const slot = this.map.get(key);
    return slot && slot.expiresAt > this.now() ? slot.value : undefined;
  }

  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      if (old.value !== value) this.options.onRemove?.(key, old.value);
    }
    this.map.set(key, { value, expiresAt: this.now() + this.options.ttlMs });
    while (this.map.size > this.options.maxSize) {
      const [oldestKey, oldest] = this.map.entries().next().value as [K, Slot<V>];
      this.remove(oldestKey, oldest);
    }
  }

  delete(key: K): boolean {
    const slot = this.map.get(key);
    if (!slot) return false;
    this.remove(key, slot);
    return true;
  }

  /** Removes every fresh entry whose value matches (and any expired one); returns how many matched. */
  deleteWhere(test: (value: V, key: K) => boolean): number {
    const now = this.now();
    let removed = 0;
    for (const [key, slot] of [...this.map]) {
      if (slot.expiresAt <= now) this.remove(key, slot);
      else if (test(slot.value, key)) {
        this.remove(key, slot);
        removed++;
      }
    }
    return removed;
  }

  /** Empties the cache; returns how many fresh entries it held. */
  clear(): number {
    const now = this.now();
    let fresh = 0;
    for (const [key, slot] of [...this.map]) {
      if (slot.expiresAt > now) fresh++;
      this.remove(key, slot);
    }
    return fresh;
  }

  private remove(key: K, slot: Slot<V>): void {
    this.map.delete(key);
    this.options.onRemove?.(key, slot.value);
  }
}
