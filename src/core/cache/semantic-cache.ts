/**
 * The semantic cache: answers found by meaning. The prompt is embedded (ROUTER_EMBED_MODEL) and the
 * vector index (semantic-index.ts) returns earlier prompts with cosine similarity >= the threshold,
 * searched only within the request's partition (everything but the prompt, which must match
 * exactly). Entries live in an LRU + TTL map; an entry leaving it leaves the index too.
 *
 * Several replicas (share()): every entry stored here is published to the others, which add its
 * vector to their OWN index (the index stays per replica; only entries travel). A shared entry
 * carries no answer: its id is the exact request key, under which the shared response cache
 * already holds the answer, so a semantic hit reads it from there. That is the response cache's own
 * rule (answers read from the shared store only), so an invalidation on one replica reaches the
 * semantic hits of all: semantic/all scopes drop the entries everywhere (published), a response
 * scope drops the answers they point to. While the shared store is unreachable, entries this
 * replica stored serve the answer it kept in memory.
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

/** A semantic entry as replicas exchange it: no answer (the shared response cache holds it under `id`). */
export interface SharedSemanticEntry {
  /** The exact request key (also the response cache's key). */
  id: string;
  partition: string;
  /** Router-wide key of the model that answered (invalidation by model). */
  model: string;
  vector: ArrayLike<number>;
}

/** What one replica tells the others. */
export type SemanticChange = { type: 'add'; entry: SharedSemanticEntry } | { type: 'invalidate'; model?: string };

/**
 * The link to the other replicas (Redis: src/server/redis/semantic-stream.ts). publish never throws:
 * a lost change costs a hit on another replica, never a request.
 */
export interface SemanticPeers {
  publish(change: SemanticChange): void;
  /** The answer under `id` in the shared response cache; undefined when gone or unreachable. */
  answer(id: string): Promise<CachedAnswer | undefined>;
  /** False while the shared store cannot be reached. */
  online(): boolean;
}

interface Entry {
  partition: string;
  model: string;
  /** Kept when this replica stored the entry: the answer while the shared store is away. */
  answer?: CachedAnswer;
  addedAt: number;
  /** An entry from another replica lives until its own TTL ran out there, not a full TTL from now. */
  expiresAt?: number;
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
/**
 * A shared entry whose answer is not (yet) in the shared store is dropped only once it is older than
 * this: the answer is written in the background and may arrive after the entry.
 */
const ANSWER_WRITE_GRACE_MS = 10_000;

export class SemanticCache {
  private readonly entries: LruCache<string, Entry>;
  private readonly now: () => number;
  private peers: SemanticPeers | undefined;
  private closed = false;

  constructor(private readonly options: SemanticCacheOptions) {
    this.now = options.now ?? Date.now;
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

  /** From now on, entries and invalidations are shared with the other replicas through `peers`. */
  share(peers: SemanticPeers): void {
    this.peers = peers;
  }

  async lookup(prompt: string, partition: string, signal: AbortSignal): Promise<SemanticLookup> {
    const vector = await this.embed(prompt, signal);
    const matches = await this.options.index.search(vector, { threshold: this.options.threshold, limit: SEARCH_LIMIT, partition });
    for (const match of matches) {
      const entry = this.entries.get(match.id);
      // The index filters by partition already; checking again keeps a wrong index from leaking answers.
      if (!entry || entry.partition !== partition) continue;
      if (entry.expiresAt !== undefined && entry.expiresAt <= this.now()) {
        this.entries.delete(match.id);
        continue;
      }
      const answer = await this.answerOf(match.id, entry);
      if (answer) return { answer, similarity: match.similarity, vector };
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

  /** Drops every entry (or those answered by `model`), here and on the other replicas; returns how many went here. */
  invalidate(model?: string): number {
    const removed = this.drop(model);
    this.peers?.publish(model === undefined ? { type: 'invalidate' } : { type: 'invalidate', model });
    return removed;
  }

  /**
   * A change another replica published (or one replayed while catching up). `expiresAt` (this
   * process's clock) is when an added entry's TTL runs out; an entry already past it is ignored.
   */
  applyRemote(change: SemanticChange, expiresAt?: number): void {
    if (this.closed) return;
    if (change.type === 'invalidate') {
      this.drop(change.model);
      return;
    }
    if (expiresAt !== undefined && expiresAt <= this.now()) return;
    const { id, partition, model, vector } = change.entry;
    this.insert(id, { partition, model, addedAt: this.now(), ...(expiresAt !== undefined ? { expiresAt } : {}) }, vector);
  }

  close(): Promise<void> {
    this.closed = true;
    this.entries.clear();
    return this.options.index.close();
  }

  private add(id: string, partition: string, answer: CachedAnswer, vector: ArrayLike<number>): void {
    if (this.closed) return;
    if (!this.insert(id, { partition, model: answer.model, answer, addedAt: this.now() }, vector)) return;
    this.peers?.publish({ type: 'add', entry: { id, partition, model: answer.model, vector } });
  }

  private insert(id: string, entry: Entry, vector: ArrayLike<number>): boolean {
    try {
      this.entries.set(id, entry);
      this.options.index.add(id, vector, entry.partition);
      return true;
    } catch (error) {
      // e.g. ROUTER_EMBED_MODEL changed its dimensions: this answer is simply not cached.
      this.entries.delete(id);
      this.options.onError?.(error, 'store');
      return false;
    }
  }

  private drop(model?: string): number {
    if (model === undefined) {
      const removed = this.entries.clear();
      this.options.index.clear();
      return removed;
    }
    return this.entries.deleteWhere((e) => e.model === model);
  }

  /**
   * The answer a matching entry serves. Shared: read from the shared response cache (what every
   * replica sees, invalidations included); its own answer only while that store is away.
   */
  private async answerOf(id: string, entry: Entry): Promise<CachedAnswer | undefined> {
    const peers = this.peers;
    if (!peers || !peers.online()) return entry.answer;
    const answer = await peers.answer(id);
    if (answer) return answer;
    // Invalidated or expired in the shared store: the entry can go here too.
    if (this.now() - entry.addedAt > ANSWER_WRITE_GRACE_MS && this.entries.peek(id) === entry && peers.online()) this.entries.delete(id);
    return undefined;
  }

  private embed(prompt: string, signal: AbortSignal): Promise<ArrayLike<number>> {
    return this.options.embed(prompt, AbortSignal.any([signal, AbortSignal.timeout(this.options.embedTimeoutMs)]));
  }
}
