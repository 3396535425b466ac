/**
 * SemanticIndex on the calling thread, in plain TypeScript: float32 rows, normalised on insert so a
 * search is one dot product per stored vector. Serves tests and small caches; large caches use the
 * worker implementation (src/workers/worker-index.ts), which shares the helpers below.
 *
 * Storage: one Float32Array of `capacity` rows that doubles when full; a removed row's slot goes on a
 * free list and is reused by the next add, so the scan length stays near the live count.
 */
import type { SemanticIndex, SemanticMatch, SemanticSearchOptions } from './semantic-index.js';

/** Partition code of a free slot. */
export const EMPTY_SLOT = -1;
/** Partition code a search uses to accept every partition. */
export const ANY_PARTITION = -2;

/**
 * Copies `vector` into `out` scaled to unit length (float64 sums, float32 storage). Throws a RangeError
 * naming the problem for a wrong length, a non-finite component or a zero vector (no direction, so no
 * cosine).
 */
export function normalizeInto(vector: ArrayLike<number>, dims: number, out: Float32Array, offset = 0): void {
  if (vector.length !== dims) {
    throw new RangeError(`vector has ${vector.length} dimensions, the index holds ${dims}-dimensional vectors`);
  }
  let sum = 0;
  for (let i = 0; i < dims; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) throw new RangeError(`vector component ${i} is not a finite number`);
    sum += x * x;
  }
  if (sum === 0) throw new RangeError('vector has zero length (cosine similarity is undefined)');
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < dims; i++) out[offset + i] = vector[i]! * scale;
}

/** Dot product of two float32 rows (four accumulators: about twice as fast as one in V8). */
export function dotRows(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dims; i += 4) {
    s0 += a[aOffset + i]! * b[bOffset + i]!;
    s1 += a[aOffset + i + 1]! * b[bOffset + i + 1]!;
    s2 += a[aOffset + i + 2]! * b[bOffset + i + 2]!;
    s3 += a[aOffset + i + 3]! * b[bOffset + i + 3]!;
  }
  for (; i < dims; i++) s0 += a[aOffset + i]! * b[bOffset + i]!;
  return s0 + s1 + s2 + s3;
}

/** Checks search options once so every implementation rejects the same bad input the same way. */
export function checkSearchOptions(options: SemanticSearchOptions): void {
  if (typeof options.threshold !== 'number' || Number.isNaN(options.threshold)) {
    throw new RangeError('threshold must be a number (cosine similarity, -1..1)');
  }
  if (!Number.isInteger(options.limit) || options.limit < 0) {
    throw new RangeError('limit must be a non-negative integer');
  }
}

/**
 * The best `limit` rows seen so far, kept sorted best first (limits are small: a handful). Equal
 * scores rank the lower row first whatever order rows are offered in, so results are deterministic
 * (the binary-code scan offers rows nearest-code first, not in row order).
 */
export class TopK {
  readonly rows: number[] = [];
  readonly scores: number[] = [];
  readonly generations: number[] = [];

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.rows.length >= this.limit;
  }

  /** The k-th best score so far (only meaningful when full). */
  get kth(): number {
    return this.scores[this.scores.length - 1]!;
  }

  /** The score a row must beat to enter (the threshold until the list is full). */
  floor(threshold: number): number {
    return this.full ? Math.max(threshold, this.kth) : threshold;
  }

  offer(row: number, score: number, generation = 0): void {
    if (this.limit === 0) return;
    const last = this.rows.length - 1;
    if (this.full && !ranksBefore(score, row, this.scores[last]!, this.rows[last]!)) return;
    let at = this.rows.length;
    while (at > 0 && ranksBefore(score, row, this.scores[at - 1]!, this.rows[at - 1]!)) at--;
    this.rows.splice(at, 0, row);
    this.scores.splice(at, 0, score);
    this.generations.splice(at, 0, generation);
    if (this.rows.length > this.limit) {
      this.rows.pop();
      this.scores.pop();
      this.generations.pop();
    }
  }
}

function ranksBefore(score: number, row: number, otherScore: number, otherRow: number): boolean {
  return score > otherScore || (score === otherScore && row < otherRow);
}

/** Maps partition names to small integer codes, counting users so codes of vanished names are freed. */
export class PartitionCodes {
  private readonly codes = new Map<string | undefined, { code: number; users: number }>();
  private readonly freeCodes: number[] = [];
  private next = 0;

  acquire(partition: string | undefined): number {
    const entry = this.codes.get(partition);
    if (entry) {
      entry.users++;
      return entry.code;
    }
    const code = this.freeCodes.pop() ?? this.next++;
    this.codes.set(partition, { code, users: 1 });
    return code;
  }

  release(partition: string | undefined): void {
    const entry = this.codes.get(partition);
    if (!entry) return;
    if (--entry.users === 0) {
      this.codes.delete(partition);
      this.freeCodes.push(entry.code);
    }
  }

  /** ANY_PARTITION for undefined; undefined when no stored vector has that partition. */
  lookup(partition: string | undefined, searchAll: boolean): number | undefined {
    if (searchAll) return ANY_PARTITION;
    return this.codes.get(partition)?.code;
  }

  clear(): void {
    this.codes.clear();
    this.freeCodes.length = 0;
    this.next = 0;
  }
}

const INITIAL_CAPACITY = 64;

export class InlineSemanticIndex implements SemanticIndex {
  private dims: number | undefined;
  private vectors = new Float32Array(0);
  private partitions = new Int32Array(0);
  private capacity = 0;
  /** Rows [0, highWater) have been used; the scan stops there. */
  private highWater = 0;
  private readonly slotIds: Array<string | undefined> = [];
  private readonly slotPartitions: Array<string | undefined> = [];
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private readonly codes = new PartitionCodes();
  /** Normalised copy of the vector being added or searched. */
  private scratchRow = new Float32Array(0);
  private readonly initialCapacity: number;
  private closed = false;

  /** `dimensions` fixes the vector length up front; otherwise the first add() sets it. */
  constructor(options: { dimensions?: number; initialCapacity?: number } = {}) {
    this.initialCapacity = Math.max(1, options.initialCapacity ?? INITIAL_CAPACITY);
    if (options.dimensions !== undefined) this.setDims(options.dimensions);
  }

  get size(): number {
    return this.slots.size;
  }

  add(id: string, vector: ArrayLike<number>, partition?: string): void {
    this.assertOpen();
    const first = this.dims === undefined;
    if (first) this.setDims(vector.length);
    const dims = this.dims!;
    // Normalise before touching any slot: a bad vector leaves the index unchanged.
    try {
      normalizeInto(vector, dims, this.scratchRow, 0);
    } catch (error) {
      if (first) this.dims = undefined;
      throw error;
    }
    const existing = this.slots.get(id);
    const slot = existing ?? this.freeSlots.pop() ?? this.highWater;
    if (slot >= this.capacity) this.grow(slot + 1);
    this.vectors.set(this.scratchRow, slot * dims);
    if (existing !== undefined) this.codes.release(this.slotPartitions[slot]);
    this.partitions[slot] = this.codes.acquire(partition);
    this.slotPartitions[slot] = partition;
    this.slotIds[slot] = id;
    this.slots.set(id, slot);
    if (slot >= this.highWater) this.highWater = slot + 1;
  }

  remove(id: string): void {
    this.assertOpen();
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.slots.delete(id);
    this.codes.release(this.slotPartitions[slot]);
    this.partitions[slot] = EMPTY_SLOT;
    this.slotIds[slot] = undefined;
    this.slotPartitions[slot] = undefined;
    this.freeSlots.push(slot);
  }

  clear(): void {
    this.assertOpen();
    this.slots.clear();
    this.codes.clear();
    this.freeSlots.length = 0;
    this.slotIds.length = 0;
    this.slotPartitions.length = 0;
    this.partitions.fill(EMPTY_SLOT);
    this.highWater = 0;
  }

  async search(vector: ArrayLike<number>, options: SemanticSearchOptions): Promise<SemanticMatch[]> {
    return this.searchNow(vector, options);
  }

  /** The same search, synchronously (the worker index uses it below its crossover size). */
  searchNow(vector: ArrayLike<number>, options: SemanticSearchOptions): SemanticMatch[] {
    this.assertOpen();
    checkSearchOptions(options);
    if (this.dims === undefined) return [];
    const dims = this.dims;
    const query = this.scratchRow;
    normalizeInto(vector, dims, query, 0);
    const wanted = this.codes.lookup(options.partition, options.partition === undefined);
    if (wanted === undefined || options.limit === 0) return [];
    const top = new TopK(options.limit);
    for (let row = 0; row < this.highWater; row++) {
      const code = this.partitions[row]!;
      if (code === EMPTY_SLOT || (wanted !== ANY_PARTITION && code !== wanted)) continue;
      const similarity = dotRows(query, 0, this.vectors, row * dims, dims);
      if (similarity >= top.floor(options.threshold)) top.offer(row, similarity);
    }
    return top.rows.map((row, i) => ({ id: this.slotIds[row]!, similarity: clampCosine(top.scores[i]!) }));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.vectors = new Float32Array(0);
    this.partitions = new Int32Array(0);
    this.slots.clear();
  }

  private setDims(dims: number): void {
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError('dimensions must be a positive integer');
    this.dims = dims;
    this.scratchRow = new Float32Array(dims);
  }

  private grow(minRows: number): void {
    const dims = this.dims!;
    let capacity = Math.max(this.capacity * 2, this.initialCapacity);
    while (capacity < minRows) capacity *= 2;
    const vectors = new Float32Array(capacity * dims);
    vectors.set(this.vectors);
    const partitions = new Int32Array(capacity).fill(EMPTY_SLOT);
    partitions.set(this.partitions);
    this.vectors = vectors;
    this.partitions = partitions;
    this.capacity = capacity;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('semantic index is closed');
  }
}

/** Float rounding can push the cosine of identical vectors a hair past 1. */
export function clampCosine(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}
