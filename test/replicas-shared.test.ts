/**
 * The pieces replicas share, one by one: the shared response cache (over the in-memory store and
 * over a real Redis), the feedback cursor, the Redis lease lock, circuit states over pub/sub, the
 * replica sync loop, the new variables, and a router that keeps serving when its Redis goes away.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ResponseCache } from '../src/core/cache/response-cache.js';
import { MemorySharedStore, type SharedStore } from '../src/core/cache/store.js';
import { CircuitBreakers } from '../src/core/circuit-breaker.js';
import { FeedbackCursor } from '../src/db/decision-store.js';
import { configFrom } from '../src/config/index.js';
import { connectRedis, RedisConfigError } from '../src/server/redis/client.js';
import { RedisSharedStore } from '../src/server/redis/store.js';
import { RedisLock } from '../src/server/redis/lock.js';
import { shareCircuits } from '../src/server/redis/circuits.js';
import { ReplicaSync } from '../src/server/replicas/sync.js';
import { StartupError } from '../src/server/start.js';
import { startOllamaSimulator } from '../src/simulators/index.js';
import { startTestRouter } from './support/router.js';
import { freePort, startRedis, type Service } from './support/services.js';
import { cachedAnswer } from './support/cached-answer.js';

const started = await startRedis();
const redis: Service | undefined = 'skip' in started ? undefined : started;
const skip = 'skip' in started ? started.skip : undefined;
const clients: Redis[] = [];
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

async function client(): Promise<Redis> {
  const c = await connectRedis(redis!.url);
  clients.push(c);
  return c;
}

const answer = cachedAnswer;

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Two replicas' response caches over one store: what one stores the other finds, and invalidation reaches both. */
async function sharedCacheContract(store: SharedStore): Promise<void> {
  const one = new ResponseCache({ maxSize: 10, ttlMs: 60_000, shared: store });
  const two = new ResponseCache({ maxSize: 10, ttlMs: 60_000, shared: store });
  one.store('k1', answer('m:1'));
  one.store('k2', answer('m'));
  one.store('k3', answer('other'));
  await settle();
  expect((await two.lookup('k1'))?.model).toBe('m:1');
  expect((await two.lookup('k2'))?.parts).toEqual(answer('m').parts);
  expect(await two.lookup('missing')).toBeUndefined();
  // Dropping model "m" leaves "m:1" alone (model names are encoded in the key).
  expect(two.invalidate('m')).toBe(0);
  await settle();
  expect(await one.lookup('k2')).toBeUndefined();
  expect((await one.lookup('k1'))?.model).toBe('m:1');
  expect(one.invalidate()).toBe(3);
  await settle();
  expect(await two.lookup('k1')).toBeUndefined();
  expect(await two.lookup('k3')).toBeUndefined();
}

describe('shared response cache', () => {
  it('over the in-memory store', async () => {
    await sharedCacheContract(new MemorySharedStore());
  });

  it.skipIf(skip !== undefined)('over Redis', async () => {
    await sharedCacheContract(new RedisSharedStore(await client(), 'contract:'));
  });

  it('a store that fails or holds garbage is a miss, never an error', async () => {
    const errors: string[] = [];
    const broken: SharedStore = {
      get: async () => {
        throw new Error('down');
      },
      set: async () => {
        throw new Error('down');
      },
      deleteByPrefix: async () => {
        throw new Error('down');
      },
    };
    const cache = new ResponseCache({ maxSize: 10, ttlMs: 60_000, shared: broken, onSharedError: (_e, during) => errors.push(during) });
    cache.store('k', answer('m'));
    expect(await cache.lookup('k')).toBeUndefined();
    cache.invalidate();
    await settle();
    expect(errors.sort()).toEqual(['invalidate', 'read', 'write']);

    const memory = new MemorySharedStore();
    await memory.set('response:idx:k', 'response:m:m:', 60_000);
    await memory.set('response:m:m:k', '{not json', 60_000);
    expect(await new ResponseCache({ maxSize: 10, ttlMs: 60_000, shared: memory }).lookup('k')).toBeUndefined();
  });

  it('entries expire with the TTL', async () => {
    let now = 1000;
    const store = new MemorySharedStore(() => now);
    const cache = new ResponseCache({ maxSize: 10, ttlMs: 500, shared: store, now: () => now });
    cache.store('k', answer('m'));
    await settle();
    expect(await cache.lookup('k')).toBeDefined();
    now += 501;
    expect(await cache.lookup('k')).toBeUndefined();
  });
});

describe('FeedbackCursor', () => {
  it('returns each row once, never our own, and rows that commit after a higher id', () => {
    let now = 0;
    const cursor = new FeedbackCursor(() => now);
    expect([...cursor.seen([1, 2])]).toEqual([1, 2]);
    cursor.own(3);
    // 4 became visible before 3 was ours to see; 5 and 6 are still missing.
    expect([...cursor.seen([4, 7])]).toEqual([4, 7]);
    expect(cursor.query()).toEqual({ after: 7, gaps: [3, 5, 6] });
    expect([...cursor.seen([3, 5])]).toEqual([5]);
    expect([...cursor.seen([1, 2, 4, 7])]).toEqual([]);
    now += 61_000;
    expect(cursor.query()).toEqual({ after: 7, gaps: [] });
  });
});

describe.skipIf(skip !== undefined)('Redis', () => {
  it('deletes by prefix with SCAN, glob characters taken literally', async () => {
    const store = new RedisSharedStore(await client(), 'glob[*]:');
    await store.set('a:1', 'x', 60_000);
    await store.set('a:2', 'y', 60_000);
    await store.set('b:1', 'z', 60_000);
    const other = new RedisSharedStore(await client(), 'globX:');
    await other.set('a:1', 'keep', 60_000);
    expect(await store.deleteByPrefix('a:')).toBe(2);
    expect(await store.get('a:1')).toBeUndefined();
    expect(await store.get('b:1')).toBe('z');
    expect(await other.get('a:1')).toBe('keep');
  });

  it('the lock: one holder at a time, a waiter knows it waited, an abort stops waiting', async () => {
    const lock = new RedisLock(await client(), 'lock-test:', { retryMs: 20 });
    const first = await lock.acquire('m', new AbortController().signal);
    expect(first.waited).toBe(false);
    const order: string[] = [];
    const second = lock.acquire('m', new AbortController().signal).then((held) => {
      order.push('second');
      return held;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    order.push('first releases');
    first.release();
    const held = await second;
    expect(order).toEqual(['first releases', 'second']);
    expect(held.waited).toBe(true);
    const abort = new AbortController();
    const third = lock.acquire('m', abort.signal);
    abort.abort(new Error('gave up'));
    await expect(third).rejects.toThrow('gave up');
    held.release();
  });

  it('the lease of a holder that died expires', async () => {
    const dying = await connectRedis(redis!.url);
    const lock = new RedisLock(dying, 'lease-test:', { ttlMs: 300, onError: () => undefined });
    await lock.acquire('m', new AbortController().signal);
    dying.disconnect();
    const held = await new RedisLock(await client(), 'lease-test:', { retryMs: 20 }).acquire('m', AbortSignal.timeout(5000));
    expect(held.waited).toBe(true);
    held.release();
  });

  it('circuits: an open or closed circuit on one replica follows on the other', async () => {
    const settings = { failureThreshold: 2, cooldownMs: 60_000 };
    const changes: string[] = [];
    const one = new CircuitBreakers(settings, { onChange: (c) => shared1.publish(c) });
    const two = new CircuitBreakers(settings, { onChange: (c) => (changes.push(`${c.to}${c.remote ? ' (remote)' : ''}`), shared2.publish(c)) });
    const shared1 = await shareCircuits({ publisher: await client(), subscriber: await client(), channel: 'circuits-test', origin: 'one', circuits: () => one });
    const shared2 = await shareCircuits({ publisher: await client(), subscriber: await client(), channel: 'circuits-test', origin: 'two', circuits: () => two });
    one.result('gpu', 'm', 'timeout');
    one.result('gpu', 'm', 'timeout');
    expect(one.state('model', 'm')).toBe('open');
    await waitFor(() => two.state('model', 'm') === 'open');
    expect(two.snapshot()).toEqual([{ scope: 'model', name: 'm', state: 'open', consecutiveFailures: 2, lastError: 'timeout' }]);
    expect(two.blocked('gpu', 'm')).toMatch(/circuit open/);
    // A success on one (its probe) closes it, and the other follows.
    one.result('gpu', 'm');
    await waitFor(() => two.state('model', 'm') === 'closed');
    // Each change arrived once: a followed change is not published again.
    await settle();
    expect(changes).toEqual(['open (remote)', 'closed (remote)']);
    expect(one.state('model', 'm')).toBe('closed');
    await shared1.close();
    await shared2.close();
  });

  it('connectRedis refuses a URL that is not redis:// and says when Redis is unreachable', async () => {
    await expect(connectRedis('http://x')).rejects.toThrow(RedisConfigError);
    const port = await freePort();
    await expect(connectRedis(`redis://user:secret@127.0.0.1:${port}`)).rejects.toThrow(
      new RegExp(`^CRITICAL: cannot reach Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*Start it or unset ROUTER_REDIS_URL\\.$`),
    );
  });
});

describe('ReplicaSync', () => {
  it('counts the others’ feedback, and reloads profiles when a run finished elsewhere', async () => {
    const added: number[] = [];
    let invalidated = 0;
    let reloads = 0;
    let last: Date | undefined = new Date(1000);
    let pending = [{ responseId: 'r', modelKey: 'm', category: 'coding', score: 0.5, createdAt: new Date() }];
    const sync = new ReplicaSync({
      pullFeedback: async () => pending.splice(0),
      addFeedback: (f) => added.push(f.score),
      lastProfiledAt: async () => last,
      reloadProfiles: async () => void reloads++,
      invalidate: () => void invalidated++,
      intervalMs: 3_600_000,
      logger: { warn: () => undefined },
    });
    await sync.start();
    await sync.tick();
    expect({ added, invalidated, reloads }).toEqual({ added: [0.5], invalidated: 1, reloads: 0 });
    last = new Date(2000);
    pending = [];
    await sync.tick();
    await sync.tick();
    expect({ invalidated, reloads }).toEqual({ invalidated: 1, reloads: 1 });
    await sync.stop();
  });
});

describe('configuration', () => {
  it('ROUTER_REDIS_PREFIX and ROUTER_FEEDBACK_SYNC_INTERVAL have defaults and are validated', () => {
    const config = configFrom({});
    expect(config).toMatchObject({ redisUrl: undefined, redisPrefix: 'smarterrouter:', feedbackSyncInterval: 5 });
    expect(configFrom({ ROUTER_FEEDBACK_SYNC_INTERVAL: '0' }).feedbackSyncInterval).toBe(0);
    expect(() => configFrom({ ROUTER_FEEDBACK_SYNC_INTERVAL: '-1' })).toThrow(/ROUTER_FEEDBACK_SYNC_INTERVAL/);
  });

  it('a router whose Redis cannot be reached does not start, with one clear line', async () => {
    const port = await freePort();
    const error = await startTestRouter({ ROUTER_REDIS_URL: `redis://127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(/^CRITICAL: cannot reach Redis/);
  });
});

describe.skipIf(skip !== undefined)('a router on Redis (SQLite beside it)', () => {
  it('keeps serving, rate limit and cache included, when Redis goes away', async () => {
    const own = await startRedis();
    if ('skip' in own) throw new Error(own.skip);
    const sim = await startOllamaSimulator({ models: [{ id: 'chat:3b' }] });
    const router = await startTestRouter({
      ROUTER_REDIS_URL: own.url,
      ROUTER_OLLAMA_URL: sim.url,
      ROUTER_RATE_LIMIT_ENABLED: 'true',
      ROUTER_RATE_LIMIT_REQUESTS_PER_MINUTE: '100',
    });
    try {
      const ask = () =>
        fetch(`${router.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hello there' }] }),
        });
      const first = await ask();
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-remaining')).toBe('99');
      await first.json();
      await own.stop();
      const second = await ask();
      expect(second.status).toBe(200);
      expect(second.headers.get('x-router-cache')).toBe('miss');
      expect((await fetch(`${router.url}/v1/models`)).status).toBe(200);
    } finally {
      await router.stop();
      await sim.close();
      await own.stop();
    }
  });
});

async function waitFor(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('docker-compose.replicas.yml', () => {
  it('gives every replica PostgreSQL and Redis through variables the router knows', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { VARIABLES } = await import('../src/config/variables.js');
    const { databaseTarget } = await import('../src/db/index.js');
    const compose = parse(readFileSync(new URL('../docker-compose.replicas.yml', import.meta.url), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; image?: string }>;
    };
    const known = new Set(Object.values(VARIABLES).map((v) => v.env));
    const replicas = Object.entries(compose.services).filter(([, s]) => s.image === 'smarterrouter:latest');
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    for (const [, service] of replicas) {
      for (const name of Object.keys(service.environment ?? {})) expect(known, name).toContain(name);
      const config = configFrom(service.environment);
      expect(databaseTarget(config.databaseUrl).dialect).toBe('postgresql');
      expect(config.redisUrl).toMatch(/^redis:\/\//);
    }
  });
});
