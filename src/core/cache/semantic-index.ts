/**
 * The contract between the semantic response cache (core) and the vector search that backs it.
 *
 * The core only sees this interface: the production implementation scans vectors kept in a
 * SharedArrayBuffer from Piscina worker threads (WorkerSemanticIndex, src/workers/worker-index.ts),
 * and an inline implementation serves tests and small caches (InlineSemanticIndex,
 * src/core/cache/inline-index.ts). Vectors are compared by cosine similarity; implementations
 * normalise them on insert so a search is one dot product per stored vector.
 *
 * Bad input is a RangeError naming the problem: a vector of the wrong dimension, with a non-finite
 * component or of zero length (add throws; search rejects), a NaN threshold or a negative or
 * fractional limit. After close(), add/remove/clear throw and search rejects.
 */
export interface SemanticMatch {
  /** The id given to add(). */
  id: string;
  /** Cosine similarity in -1..1. */
  similarity: number;
}

export interface SemanticSearchOptions {
  /** Only matches with similarity >= threshold are returned. */
  threshold: number;
  /** At most this many matches, best first (the caller checks non-prompt parameters on each). */
  limit: number;
  /**
   * Only vectors added with this partition are searched (e.g. a hash of the parameters that must
   * match exactly: model choice, temperature, tools...). Undefined searches every partition.
   */
  partition?: string;
}

export interface SemanticIndex {
  /** Number of vectors stored. */
  readonly size: number;
  /** Adds (or replaces) the vector for id. Dimensions must match the index's first vector. */
  add(id: string, vector: ArrayLike<number>, partition?: string): void;
  remove(id: string): void;
  clear(): void;
  /**
   * Best matches; never blocks the event loop on a large scan in the worker implementation. A result
   * reflects the index at some moment during the search: an id removed or replaced while the search
   * runs is never returned with a stale similarity.
   */
  search(vector: ArrayLike<number>, options: SemanticSearchOptions): Promise<SemanticMatch[]>;
  /** Releases workers and memory. */
  close(): Promise<void>;
}
