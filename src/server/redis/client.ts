/**
 * The one Redis connection a replica uses for everything it shares (response cache, rate-limit
 * counters, circuit states, the profiling lock, semantic-cache entries), plus one for pub/sub (a
 * subscribed connection can run nothing else) and one for the semantic stream's blocking reads.
 *
 * Failure policy: at start-up an unreachable Redis stops the router (a replica that silently kept
 * its state to itself would diverge from the others); once running, a command fails fast while
 * Redis is away (no offline queue, short timeout) so requests never hang on it, and the client
 * keeps reconnecting in the background.
 */
// ioredis is imported by connectRedis, so a router without ROUTER_REDIS_URL never loads it.
import type { Redis } from 'ioredis';

export class RedisConfigError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RedisConfigError';
  }
}

export interface RedisLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const CONNECT_TIMEOUT_MS = 5000;
/** A cache read or a rate-limit count that takes longer than this is treated as failed. */
const COMMAND_TIMEOUT_MS = 1000;

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * @param options.commandTimeoutMs for a connection that runs blocking reads (XREAD BLOCK), which
 *   must outlast them; everything else keeps the short default.
 */
export async function connectRedis(url: string, logger?: RedisLogger, name = 'smarterrouter', options: { commandTimeoutMs?: number } = {}): Promise<Redis> {
  if (!/^rediss?:\/\//i.test(url.trim())) {
    throw new RedisConfigError(`ROUTER_REDIS_URL: "${redactRedisUrl(url)}" is not a redis:// or rediss:// URL (e.g. redis://redis:6379/0)`);
  }
  const { Redis: RedisClient } = await import('ioredis');
  const client = new RedisClient(url.trim(), {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Reconnect for ever, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  let ready = false;
  let lastError: string | undefined;
  client.on('error', (err: Error) => {
    lastError = err.message;
    // Start-up failures are reported once, below; ioredis emits every failed reconnect: log the
    // first of each outage only.
    if (!ready || down) return;
    down = true;
    logger?.warn({ err: err.message, redis: redactRedisUrl(url) }, 'Redis unreachable: shared caches and counters fall back until it returns');
  });
  client.on('ready', () => {
    ready = true;
    if (down) logger?.info({ redis: redactRedisUrl(url) }, 'Redis reachable again');
    down = false;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const reason = (lastError ?? (error as Error).message).replace(/\.$/, '');
    throw new RedisConfigError(`CRITICAL: cannot reach Redis at ${redactRedisUrl(url)}: ${reason}. Start it or unset ROUTER_REDIS_URL.`, error);
  }
  return client;
}

/** Closes politely, and gives up waiting after a second (Redis may be gone). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const timer = setTimeout(() => client.disconnect(), 1000);
  try {
    await client.quit();
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
