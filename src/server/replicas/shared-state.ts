/**
 * What replicas share through Redis (ROUTER_REDIS_URL), opened once at start-up: the response
 * cache store, the rate-limit counters, the profiling lock, the circuit-breaker channel and, once
 * the semantic cache exists, the stream of its entries (shareSemantic). Without
 * ROUTER_REDIS_URL every part is absent and the router keeps all of it in process, as one router
 * always did.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../../config/index.js';
import type { CircuitBreakers, CircuitChange } from '../../core/circuit-breaker.js';
import type { SharedStore } from '../../core/cache/store.js';
import type { CachedAnswer } from '../../core/cache/answer.js';
import type { SemanticCache } from '../../core/cache/semantic-cache.js';
import type { Logger } from '../logger.js';
import type { RateLimitOptions } from '../security/rate-limit.js';
import { closeRedis, connectRedis } from '../redis/client.js';
import { shareCircuits, type SharedCircuits } from '../redis/circuits.js';
import { RedisLock } from '../redis/lock.js';
import { RedisSharedStore } from '../redis/store.js';
import { SemanticStream } from '../redis/semantic-stream.js';

export interface SharedState {
  /** This process among the replicas (logs, pub/sub origin). */
  replicaId: string;
  /** Answers every replica can serve; undefined = this process only. */
  cacheStore?: SharedStore;
  /** Counters for @fastify/rate-limit; undefined = in-process LRU. */
  rateLimitStore?: RateLimitOptions['store'];
  /** One replica profiles a model at a time; undefined = no other replica to wait for. */
  profileLock?: RedisLock;
  /** Follows and publishes circuit transitions once the breakers exist. */
  attachCircuits(circuits: CircuitBreakers): void;
  /** For the breakers' onChange. */
  circuitChanged(change: CircuitChange): void;
  /**
   * Shares the semantic cache's entries with the other replicas (each adds them to its own vector
   * index); resolves once caught up with the live ones. Undefined = nothing to share with.
   */
  shareSemantic?(cache: SemanticCache, options: ShareSemanticOptions): Promise<void>;
  close(): Promise<void>;
}

export interface ShareSemanticOptions {
  /** ROUTER_EMBED_MODEL: vectors of different models never meet (one stream each). */
  embedModel: string;
  /** The shared response cache's lookup (ResponseCache.lookup): where shared entries' answers are. */
  answer: (id: string) => Promise<CachedAnswer | undefined>;
  /** The semantic cache's bound and TTL. */
  maxEntries: number;
  ttlMs: number;
}

/** A blocking read of the semantic stream waits this long; its connection's command timeout is longer. */
const SEMANTIC_BLOCK_MS = 2000;

/** Without Redis: nothing shared. */
export const LOCAL_STATE: SharedState = {
  replicaId: 'local',
  attachCircuits: () => undefined,
  circuitChanged: () => undefined,
  close: async () => undefined,
};

export async function openSharedState(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, logger: Logger): Promise<SharedState> {
  if (!config.redisUrl) return LOCAL_STATE;
  const log = logger.child({ component: 'redis' });
  const replicaId = randomUUID();
  const prefix = config.redisPrefix;
  const redis = await connectRedis(config.redisUrl, log, `smarterrouter-${replicaId.slice(0, 8)}`);
  let subscriber: Redis | undefined;
  try {
    subscriber = await connectRedis(config.redisUrl, log, `smarterrouter-${replicaId.slice(0, 8)}-sub`);
  } catch (error) {
    await closeRedis(redis);
    throw error;
  }
  let circuits: CircuitBreakers | undefined;
  const warn = (what: string) => (err: unknown) => log.warn({ err }, what);
  let shared: SharedCircuits | undefined;
  try {
    shared = await shareCircuits({
      publisher: redis,
      subscriber,
      channel: `${prefix}circuits`,
      origin: replicaId,
      circuits: () => circuits,
      onError: warn('cannot publish a circuit change to the other replicas'),
    });
  } catch (error) {
    await Promise.all([closeRedis(redis), closeRedis(subscriber)]);
    throw error;
  }
  log.info({ replicaId }, 'sharing caches, rate limits, circuits and the profiling lock through Redis');
  const streams: Array<{ close(): Promise<void> }> = [];
  return {
    replicaId,
    cacheStore: new RedisSharedStore(redis, prefix),
    // The plugin prefixes its own keys with nameSpace; ours keeps fleets apart.
    rateLimitStore: { redis, nameSpace: `${prefix}rate-limit:`, skipOnError: true },
    profileLock: new RedisLock(redis, prefix, { onError: warn('profiling lock unavailable; profiling without it') }),
    attachCircuits(c) {
      circuits = c;
    },
    circuitChanged: (change) => shared?.publish(change),
    async shareSemantic(cache, options) {
      const reader = await connectRedis(config.redisUrl!, undefined, `smarterrouter-${replicaId.slice(0, 8)}-semantic`, { commandTimeoutMs: SEMANTIC_BLOCK_MS + 1000 });
      const stream = new SemanticStream({
        redis,
        reader,
        key: `${prefix}semantic:${encodeURIComponent(options.embedModel)}`,
        origin: replicaId,
        maxEntries: options.maxEntries,
        ttlMs: options.ttlMs,
        sink: cache,
        answer: options.answer,
        blockMs: SEMANTIC_BLOCK_MS,
        onError: (err, during) =>
          log.warn({ err, during }, during === 'read' ? 'cannot read the other replicas’ semantic-cache entries; local entries only until Redis is back' : 'cannot share a semantic-cache change with the other replicas'),
        onRecovered: () => log.info({}, 'semantic-cache entries of the other replicas followed again'),
      });
      streams.push(stream);
      await stream.start();
      cache.share(stream);
    },
    async close() {
      await Promise.all(streams.map((s) => s.close()));
      await shared?.close();
      await Promise.all([closeRedis(redis), closeRedis(subscriber)]);
    },
  };
}

/** Security options whose rate-limit counters live in the shared store, when there is one. */
export function withSharedRateLimit<S extends { rateLimit?: RateLimitOptions }>(security: S, shared: SharedState): S {
  if (!security.rateLimit || !shared.rateLimitStore) return security;
  return { ...security, rateLimit: { ...security.rateLimit, store: shared.rateLimitStore } };
}
