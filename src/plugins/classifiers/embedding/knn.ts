/**
 * Nearest labelled exemplars by cosine similarity, and category probabilities from their votes.
 *
 * The search is the router's own vector search (the semantic cache's index, docs/caching.md "The
 * semantic index"): a one-bit code per row after a random rotation, a WebAssembly popcount pass over
 * all codes, then exact float32 cosine on the candidates it picks. With a threshold of -1 the
 * index rescores rows nearest by Hamming distance first and stops once the top k is full and no
 * unseen row can plausibly beat the k-th best exact score (the 5σ rule of docs/caching.md, at most
 * ~2,048 rows), so the k returned are the exact k nearest unless one of them is a 5σ outlier: never
 * so in the tests (test/classifier-embedding.test.ts, test/semantic-recall.test.ts). Measured
 * figures: docs/classification.md.
 *
 * The index runs its scan on the calling thread (no worker pool is ever started for it): for a
 * few thousand rows the scan is cheaper than the hop to a worker thread.
 */
import { CATEGORIES } from '../../../plugin-api/index.js';
import { WorkerSemanticIndex } from '../../../workers/worker-index.js';

/** Neighbours that vote. */
export const DEFAULT_K = 10;
/**
 * Softness of the vote: a neighbour `TEMPERATURE` less similar than the nearest one counts e^-1 as
 * much. Cosine spreads differ between embedding models, so the vote leans on differences from the
 * nearest neighbour rather than on absolute similarities.
 */
const TEMPERATURE = 0.05;
/** Share of a uniform prior mixed into the vote, so one neighbour never yields a certainty of 1. */
const SMOOTHING = 0.1;
/** No similarity floor: the k nearest vote however far they are. */
const ANY_SIMILARITY = -1;

export interface KnnResult {
  /** Probability per category, in CATEGORIES order (sums to 1). */
  probabilities: number[];
  /** Cosine similarity of the nearest exemplar. */
  nearest: number;
}

export interface Neighbour {
  /** Exemplar row (index into the labels). */
  row: number;
  /** Cosine similarity to the query. */
  similarity: number;
}

/** Normalises in place; returns false for a zero or non-finite vector. */
export function normalise(vector: Float32Array): boolean {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  if (!(norm > 0) || !Number.isFinite(norm)) return false;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
  return true;
}

export class ExemplarIndex {
  readonly dims: number;
  private readonly index: WorkerSemanticIndex;

  /**
   * Copies the rows into the search index (the caller's array can be dropped). Throws a RangeError
   * naming the row for one that is not `dims` finite numbers of non-zero length.
   * @param vectors `count` rows of `dims` floats (normalised by the index).
   * @param labels  one CATEGORIES index per row.
   */
  constructor(
    vectors: Float32Array,
    dims: number,
    readonly labels: Uint8Array,
  ) {
    if (!(dims > 0) || vectors.length !== dims * labels.length) throw new Error(`exemplar index: ${vectors.length} floats for ${labels.length} rows of ${dims}`);
    this.dims = dims;
    // inlineBelow: every scan stays on this thread, so no worker pool is ever started for it.
    this.index = new WorkerSemanticIndex({ dimensions: dims, inlineBelow: Number.POSITIVE_INFINITY });
    for (let row = 0; row < labels.length; row++) {
      try {
        this.index.add(String(row), vectors.subarray(row * dims, (row + 1) * dims));
      } catch (error) {
        throw new RangeError(`exemplar ${row}: ${(error as Error).message}`);
      }
    }
  }

  get count(): number {
    return this.labels.length;
  }

  /** The k exemplars nearest to `query` (`dims` floats, any non-zero length), nearest first. */
  async nearest(query: Float32Array, k = DEFAULT_K): Promise<Neighbour[]> {
    if (query.length !== this.dims) throw new Error(`query has ${query.length} dimensions, the exemplars ${this.dims}`);
    const matches = await this.index.search(query, { threshold: ANY_SIMILARITY, limit: Math.min(k, this.count) });
    return matches.map((m) => ({ row: Number(m.id), similarity: m.similarity }));
  }

  /** Votes of the k nearest exemplars to `query`. */
  async classify(query: Float32Array, k = DEFAULT_K): Promise<KnnResult> {
    return vote(await this.nearest(query, k), this.labels);
  }

  async close(): Promise<void> {
    await this.index.close();
  }
}

/** Category probabilities from neighbours (nearest first), each weighted by its gap to the nearest. */
export function vote(neighbours: readonly Neighbour[], labels: Uint8Array): KnnResult {
  const votes = new Array<number>(CATEGORIES.length).fill(0);
  let total = 0;
  const best = neighbours[0]?.similarity ?? -Infinity;
  for (const { row, similarity } of neighbours) {
    const w = Math.exp((similarity - best) / TEMPERATURE);
    votes[labels[row]!]! += w;
    total += w;
  }
  const uniform = 1 / CATEGORIES.length;
  const probabilities = votes.map((v) => (total > 0 ? (1 - SMOOTHING) * (v / total) + SMOOTHING * uniform : uniform));
  return { probabilities, nearest: best };
}
