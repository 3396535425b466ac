/**
 * SemanticIndex whose scans run in Piscina worker threads over vectors in shared memory, so a large
 * cache never blocks the event loop.
 *
 * - Writes (add/remove/clear) are synchronous on the main thread, into SharedArrayBuffers
 *   (src/workers/shared-store.ts).
 * - A search splits the used rows into one range per pool thread, scans them in parallel and merges
 *   the top-k; results whose row changed meanwhile are dropped by generation, so a removed or
 *   replaced id never comes back from a search that raced with the change.
 * - Below `inlineBelow` rows the scan runs on the calling thread: at that size it takes less time
 *   than the hop to a worker (docs/performance.md, "Workers").
 * - A worker that dies mid-search loses nothing (the vectors live in memory the main thread owns):
 *   the range is retried on the pool once, then scanned inline.
 */
import type { SemanticIndex, SemanticMatch, SemanticSearchOptions } from '../core/cache/semantic-index.js';
import { checkSearchOptions, normalizeInto } from '../core/cache/inline-index.js';
import { resolveThreads, VectorPool } from './pool.js';
import { SharedVectorStore } from './shared-store.js';
import { scanRows, type RawMatches } from './vector-scan.js';
import type { SearchReply, SearchTask } from './vector-search.js';

export interface WorkerIndexOptions {
  /** A pool shared with other indexes; the index then leaves it open on close(). */
  pool?: VectorPool;
  /** Pool size when the index starts its own pool (ROUTER_WORKER_THREADS; 0 = cores − 1). */
  threads?: number;
  /** Fixes the vector length up front; otherwise the first add() sets it. */
  dimensions?: number;
  /** Indexes with fewer used rows are scanned on the calling thread. */
  inlineBelow?: number;
  /** Rows per shared chunk (tests use small chunks to exercise growth). */
  chunkRows?: number;
}

/**
 * Measured crossover (bench/semantic.ts, 768 dimensions, docs/performance.md "Workers"): below ~4k
 * rows an inline scan blocks the event loop for ~0.3 ms (mostly the exact rescoring of its
 * candidates), about what the hop to a worker adds to the lookup's latency, so small indexes are
 * scanned inline.
 */
export const DEFAULT_INLINE_BELOW = 4096;
const DEFAULT_CHUNK_ROWS = 4096;
/** Scratch slots per pool thread: searches beyond threads × this wait for a free slot. */
const SLOTS_PER_THREAD = 4;

/** Free scratch slots of the shared memory; a search waits when every slot is in flight. */
class ScratchSlots {
  private readonly free: number[];
  private readonly waiting: Array<(slot: number) => void> = [];

  constructor(count: number) {
    // Slot 0 belongs to inline scans on the main thread (synchronous, so one is enough).
    this.free = Array.from({ length: count - 1 }, (_, i) => count - 1 - i);
  }

  acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}

/** Counters for metrics and tests: where scans ran and how often workers had to be worked around. */
export interface WorkerIndexStats {
  /** Searches scanned on the calling thread because the index was small. */
  inlineSearches: number;
  /** Row ranges scanned by a worker. */
  pooledScans: number;
  /** Tasks resent with the layout because the worker had not seen the store (or its growth). */
  layoutMisses: number;
  /** Tasks retried after a worker failure (crash, pool error). */
  retries: number;
  /** Ranges scanned inline after the retry failed too. */
  inlineFallbacks: number;
  /** Rows scored exactly from float32 (the binary first pass's candidates), over all searches. */
  rescored: number;
}

/** The ranges' best matches as one list, best first (ties: lower row first, as in one scan). */
function mergeBest(parts: RawMatches[]): RawMatches {
  const all = parts.flatMap((p) => p.rows.map((row, i) => ({ row, generation: p.generations[i]!, similarity: p.similarities[i]! })));
  all.sort((a, b) => b.similarity - a.similarity || a.row - b.row);
  return {
    rows: all.map((m) => m.row),
    generations: all.map((m) => m.generation),
    similarities: all.map((m) => m.similarity),
    rescored: parts.reduce((sum, p) => sum + p.rescored, 0),
  };
}

export class WorkerSemanticIndex implements SemanticIndex {
  readonly stats: WorkerIndexStats = { inlineSearches: 0, pooledScans: 0, layoutMisses: 0, retries: 0, inlineFallbacks: 0, rescored: 0 };
  /** Indexes with fewer used rows are scanned on the calling thread (settable: the bench compares both). */
  inlineBelow: number;
  private readonly sharedPool: VectorPool | undefined;
  private ownPool: VectorPool | undefined;
  private readonly threadCount: number;
  private readonly chunkRows: number;
  private store: SharedVectorStore | undefined;
  private slots: ScratchSlots | undefined;
  private closed = false;

  constructor(options: WorkerIndexOptions = {}) {
    this.sharedPool = options.pool;
    this.threadCount = options.pool?.threads ?? resolveThreads(options.threads);
    this.inlineBelow = options.inlineBelow ?? DEFAULT_INLINE_BELOW;
    this.chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
    if (options.dimensions !== undefined) this.open(options.dimensions);
  }

  /**
   * Started on the first pooled scan: an index that stays below inlineBelow never starts worker
   * threads (each costs about 10 MB of resident memory at idle).
   */
  get pool(): VectorPool {
    return this.sharedPool ?? (this.ownPool ??= new VectorPool({ threads: this.threadCount }));
  }

  /** Whether worker threads run for this index (its own pool started, or a shared one given). */
  get poolStarted(): boolean {
    return this.sharedPool !== undefined || this.ownPool !== undefined;
  }

  get size(): number {
    return this.store?.size ?? 0;
  }

  add(id: string, vector: ArrayLike<number>, partition?: string): void {
    this.assertOpen();
    const first = this.store === undefined;
    const store = this.store ?? this.open(vector.length);
    try {
      store.add(id, vector, partition);
    } catch (error) {
      // A rejected first vector must not fix the dimensions.
      if (first) this.store = undefined;
      throw error;
    }
  }

  remove(id: string): void {
    this.assertOpen();
    this.store?.remove(id);
  }

  clear(): void {
    this.assertOpen();
    this.store?.clear();
  }

  async search(vector: ArrayLike<number>, options: SemanticSearchOptions): Promise<SemanticMatch[]> {
    this.assertOpen();
    checkSearchOptions(options);
    const store = this.store;
    if (!store) return [];
    const query = new Float32Array(store.layout.dims);
    normalizeInto(vector, store.layout.dims, query, 0);
    const partition = store.codes.lookup(options.partition, options.partition === undefined);
    if (partition === undefined || options.limit === 0 || store.rows === 0) return [];
    const base = { query, partition, threshold: options.threshold, limit: options.limit };
    const rows = store.rows;

    if (rows < this.inlineBelow || this.pool.closed) {
      this.stats.inlineSearches++;
      const raw = scanRows(store.views, { ...base, start: 0, end: rows, scratch: 0 });
      this.stats.rescored += raw.rescored;
      return store.resolve(raw);
    }
    const parts = Math.max(1, Math.min(this.pool.threads, Math.ceil(rows / Math.max(1, this.inlineBelow))));
    const per = Math.ceil(rows / parts);
    const ranges = Array.from({ length: parts }, (_, i) => ({ start: i * per, end: Math.min(rows, (i + 1) * per) }));
    const results = await Promise.all(ranges.map((range) => this.scanPart(store, { ...base, ...range })));
    this.assertOpen();
    return store.resolve(mergeBest(results)).slice(0, options.limit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.store = undefined;
    await this.ownPool?.close();
  }

  /** One range on the pool: resend with the layout on a miss, retry once on a crash, then inline. */
  private async scanPart(store: SharedVectorStore, request: Omit<SearchTask, 'storeId' | 'version' | 'scratch'>): Promise<RawMatches> {
    const slots = this.slots!;
    const scratch = await slots.acquire();
    try {
      const task: SearchTask = { ...request, scratch, storeId: store.layout.id, version: store.layout.version };
      for (let attempt = 0; attempt < 2 && !this.pool.closed; attempt++) {
        if (attempt > 0) this.stats.retries++;
        try {
          let reply: SearchReply = await this.pool.search(attempt === 0 ? task : { ...task, layout: store.layout });
          if (reply.kind === 'layout-miss') {
            this.stats.layoutMisses++;
            reply = await this.pool.search({ ...task, layout: store.layout });
          }
          if (reply.kind === 'matches') {
            this.stats.pooledScans++;
            this.stats.rescored += reply.rescored;
            return reply;
          }
        } catch {
          // The worker died or the pool refused: the rows are intact in shared memory; try again.
        }
      }
      this.assertOpen();
      this.stats.inlineFallbacks++;
      const raw = scanRows(store.views, { ...request, scratch: 0 });
      this.stats.rescored += raw.rescored;
      return raw;
    } finally {
      slots.release(scratch);
    }
  }

  private open(dims: number): SharedVectorStore {
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError('dimensions must be a positive integer');
    const scratchSlots = 1 + SLOTS_PER_THREAD * this.threadCount;
    this.store = new SharedVectorStore({ dims, chunkRows: this.chunkRows, scratchSlots });
    this.slots = new ScratchSlots(scratchSlots);
    return this.store;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('semantic index is closed');
  }
}
