/**
 * Builds the chat caches from plain settings (the server's wiring maps ROUTER_CACHE_* onto them).
 */
import { ChatCache, type ChatCacheOptions } from './chat-cache.js';
import { SemanticCache, type EmbedFn } from './semantic-cache.js';
import type { SemanticIndex } from './semantic-index.js';
import type { CacheKind } from './stats.js';

export interface CacheSettings {
  routingMaxSize: number;
  responseMaxSize: number;
  ttlSeconds: number;
  nondeterministic: boolean;
  similarityThreshold: number;
  /** Embeds a prompt for the semantic cache; undefined turns the semantic cache off. */
  embed?: EmbedFn;
  /** The vector index behind the semantic cache (created only when `embed` is set). */
  index?: () => SemanticIndex;
  embedTimeoutMs: number;
  logger?: ChatCacheOptions['logger'];
  onLookup?: (kind: CacheKind, hit: boolean) => void;
  now?: () => number;
  /** Answers shared by several replicas (ROUTER_REDIS_URL). */
  shared?: ChatCacheOptions['shared'];
}

export function createChatCache<P>(settings: CacheSettings, selectedModel: (plan: P) => string | undefined): ChatCache<P> {
  const ttlMs = settings.ttlSeconds * 1000;
  const semantic =
    settings.embed && settings.index
      ? new SemanticCache({
          index: settings.index(),
          embed: settings.embed,
          threshold: settings.similarityThreshold,
          // One semantic entry per cached response at most: the same bound.
          maxSize: settings.responseMaxSize,
          ttlMs,
          now: settings.now,
          embedTimeoutMs: settings.embedTimeoutMs,
          onError: (err, during) => settings.logger?.warn({ err, during }, 'semantic cache failed; continuing without it'),
        })
      : undefined;
  return new ChatCache<P>(
    {
      responseMaxSize: settings.responseMaxSize,
      routingMaxSize: settings.routingMaxSize,
      ttlMs,
      nondeterministic: settings.nondeterministic,
      semantic,
      now: settings.now,
      logger: settings.logger,
      onLookup: settings.onLookup,
      shared: settings.shared,
    },
    selectedModel,
  );
}

export { ChatCache, type InvalidateResult, type InvalidateScope, type ChatCacheStats } from './chat-cache.js';
export { Embedder, type EmbedInput, type EmbedOutput } from './embedder.js';
export { parseCacheControl, type CacheControl } from './cache-control.js';
export { MemorySharedStore, type SharedStore } from './store.js';
