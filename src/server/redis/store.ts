/**
 * SharedStore on Redis: plain strings with PX expiry under the fleet's key prefix
 * (ROUTER_REDIS_PREFIX). Deleting by prefix walks the keyspace with SCAN (never KEYS, which blocks
 * Redis) and unlinks what it finds in batches.
 */
import type { Redis } from 'ioredis';
import type { SharedStore } from '../../core/cache/store.js';

const SCAN_BATCH = 500;

/** Glob characters in a key prefix must match themselves in SCAN's MATCH pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export class RedisSharedStore implements SharedStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const match = `${escapeGlob(this.prefix + prefix)}*`;
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_BATCH);
      cursor = next;
      if (keys.length) removed += await this.redis.unlink(...keys);
    } while (cursor !== '0');
    return removed;
  }
}
