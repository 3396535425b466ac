/**
 * The semantic cache: answers found by meaning. The prompt is embedded (ROUTER_EMBED_MODEL) and the
 * vector index (semantic-index.ts) returns earlier prompts with cosine similarity >= the threshold,
 * searched only within the request's partition (everything but the prompt, which must match
 * exactly). Entries live in an LRU + TTL map; an entry leaving it leaves the index too.
 */
import type { CachedAnswer } from './answer.js';
import { LruCache } from './lru.js';
import type { SemanticIndex } from './semantic-index.js';

export type EmbedFn = (text: string, signal: AbortSignal) => Promise<ArrayLike<number>>;

export interface SemanticCacheOptions {
  index: SemanticIndex;
  embed: EmbedFn;
  /** Cosine similarity for a hit (ROUTER_CACHE_SIMILARITY_THRESHOLD). */
  threshold: number;
  maxSize: number;
  ttlMs: number;
  now?: () => number;
  /** Gives up on an embedding that takes longer, in ms (a stuck embedding model must not stall chat). */
  embedTimeoutMs: number;
  onError?: (error: unknown, during: 'lookup' | 'store') => void;
}

interface Entry {
  answer: CachedAnswer;
  partition: string;
}

export interface SemanticLookup {
  /** The cached answer of a similar prompt, if any. */
  answer?: CachedAnswer;
  similarity?: number;
  /** The prompt's embedding, kept to store the fresh answer without embedding twice. */
  vector: ArrayLike<number>;
}

/** How many candidates to check: a match whose entry expired a moment ago should not hide the next. */
const SEARCH_LIMIT = 4;

export class SemanticCache {
  private readonly entries: LruCache<string, Entry>;

  constructor(private readonly options: SemanticCacheOptions) {
    this.entries = new LruCache<string, Entry>({
      maxSize: options.maxSize,
      ttlMs: options.ttlMs,
      now: options.now,
      onRemove: (id) => options.index.remove(id),
    });
  }

  get size(): number {
    return this.entries.size;
  }

  async lookup(prompt: string, partition: string, signal: AbortSignal): Promise<SemanticLookup> {
    const vector = await this.embed(prompt, signal);
    const matches = await this.options.index.search(vector, { threshold: this.options.threshold, limit: SEARCH_LIMIT, partition });
    for (const match of matches) {
      const entry = this.entries.get(match.id);
      // The index filters by partition already; checking again keeps a wrong index from leaking answers.
      if (entry && entry.partition === partition) return { answer: entry.answer, similarity: match.similarity, vector };
    }
    return { vector };
  }

  /**
   * Stores an answer under `id` (the exact request key, so a refreshed answer replaces the old one).
   * Without a vector (the lookup was skipped, e.g. Cache-Control: no-cache) the prompt is embedded
   * in the background: the client already has its answer.
   */
  store(id: string, prompt: string, partition: string, answer: CachedAnswer, vector?: ArrayLike<number>): void {
    if (vector) {
      this.add(id, partition, answer, vector);
      return;
    }
    this.embed(prompt, AbortSignal.timeout(this.options.embedTimeoutMs)).then(
      (v) => this.add(id, partition, answer, v),
      (error: unknown) => this.options.onError?.(error, 'store'),
    );
  }

  /** Drops every entry (or those answered by `model`); returns how many went. */
  invalidate(model?: string): number {
    if (model === undefined) {
      const removed = this.entries.clear();
      this.options.index.clear();
      return removed;
    }
    return this.entries.deleteWhere((e) => e.answer.model === model);
  }

  close(): Promise<void> {
    this.entries.clear();
    return this.options.index.close();
  }

  private add(id: string, partition: string, answer: CachedAnswer, vector: ArrayLike<number>): void {
    try {
      this.entries.set(id, { answer, partition });
      this.options.index.add(id, vector, partition);
    } catch (error) {
      // e.g. ROUTER_EMBED_MODEL changed its dimensions: this answer is simply not cached.
      this.entries.delete(id);
      this.options.onError?.(error, 'store');
    }
  }

  private embed(prompt: string, signal: AbortSignal): Promise<ArrayLike<number>> {
    return this.options.embed(prompt, AbortSignal.any([signal, AbortSignal.timeout(this.options.embedTimeoutMs)]));
  }
}
