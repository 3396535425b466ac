/**
 * A lease lock in Redis: SET NX PX with a random token, renewed while held, released only by its
 * holder (compare-and-delete in Lua). A replica that dies stops renewing and the lease expires, so
 * the lock can never stay taken by a dead process for longer than `ttlMs`.
 *
 * Used so that one replica profiles a model while the others wait and then read its result.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export interface LockOptions {
  /** Lease length; renewed every third of it while held. */
  ttlMs?: number;
  /** How often a waiter tries again. */
  retryMs?: number;
  onError?: (error: unknown) => void;
}

export interface Held {
  /** True when another holder had it first and this caller waited for it. */
  waited: boolean;
  release(): void;
}

export class RedisLock {
  private readonly ttlMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: LockOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.retryMs = options.retryMs ?? 500;
  }

  /**
   * Resolves once this caller holds `name`; rejects when `signal` aborts first. When Redis cannot
   * be reached the caller goes ahead unlocked (doing the work twice beats not doing it).
   */
  async acquire(name: string, signal: AbortSignal): Promise<Held> {
    const key = `${this.prefix}lock:${name}`;
    const token = randomUUID();
    let waited = false;
    for (;;) {
      signal.throwIfAborted();
      let taken: string | null;
      try {
        taken = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
      } catch (error) {
        this.options.onError?.(error);
        return { waited, release: () => undefined };
      }
      if (taken === 'OK') return { waited, release: this.keep(key, token) };
      waited = true;
      await sleep(this.retryMs, signal);
    }
  }

  /** Renews the lease until released; returns the release. */
  private keep(key: string, token: string): () => void {
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, key, token, String(this.ttlMs)).catch((error: unknown) => this.options.onError?.(error));
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    renew.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      this.redis.eval(RELEASE, 1, key, token).catch((error: unknown) => this.options.onError?.(error));
    };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
