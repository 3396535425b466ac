/**
 * The search itself, a pure function over the shared store: the worker entry runs it on a range of
 * rows, and the main thread runs it directly for small indexes and as the fallback when workers fail.
 *
 * Binary quantisation with exact rescoring, in two passes per range:
 * 1. The kernel (src/workers/wasm-hamming.ts) computes the Hamming distance between the query's
 *    one-bit code and every row's (src/workers/binary-code.ts): 96 bytes per 768-dim row.
 * 2. Candidates are rescored exactly from the float32 rows, in increasing Hamming distance. The
 *    candidates are the MIN_CANDIDATES nearest rows by distance, plus every row within the
 *    threshold's Hamming radius (where a row at the threshold lands with overwhelming probability),
 *    up to the MAX_CANDIDATES nearest; rows with the same distance as the last one are all included.
 *    The walk stops earlier once MIN_CANDIDATES rows are scored, the top-k is full and the distance
 *    has passed the radius of the k-th best exact score so far (the same 5σ rule: a row that would
 *    beat it lies within that radius with overwhelming probability). With a low threshold (e.g. -1,
 *    the embedding classifier's exact top-k) this is what keeps the work small: the threshold's
 *    radius alone would take every row up to the cap. Only exact scores decide what is returned, so
 *    every match really has cosine >= threshold; the first pass only decides which rows are looked at.
 *
 * The kernel also skips free rows and rows of other partitions (they must not take candidate places)
 * and counts the others in a histogram of distances (small integers). Candidates are chosen from it
 * one block of rows at a time, so a block's distances are only kept while it is processed; the
 * cut-off only moves down as rows are seen, so a row left out early would be left out at the end too
 * (and every row within the final cut-off is a candidate: the histogram counts them by distance).
 */
import { ANY_PARTITION, dotRows, EMPTY_SLOT, TopK } from '../core/cache/inline-index.js';
import { binaryCode, encode, hammingRadius } from './binary-code.js';
import { chunkViews, codeOffset, partitionsOffset, slotOffsets, type ChunkViews, type StoreLayout } from './vector-layout.js';
import { hammingOver, type HammingFn } from './wasm-hamming.js';

export interface StoreViews {
  layout: StoreLayout;
  chunks: ChunkViews[];
  hamming: HammingFn;
}

export interface ScanRequest {
  /** Unit-length query, `dims` long. */
  query: Float32Array;
  /** A partition code, or ANY_PARTITION. */
  partition: number;
  threshold: number;
  limit: number;
  /** Rows [start, end). */
  start: number;
  end: number;
  /** Scratch slot in the shared memory reserved for this scan by the main thread. */
  scratch: number;
}

/** Row numbers with the generation read before scoring them, best first. */
export interface RawMatches {
  rows: number[];
  generations: number[];
  similarities: number[];
  /** Rows whose float32 vector was scored (the candidates of the first pass). */
  rescored: number;
}

/**
 * Nearest rows by Hamming distance rescored whatever the threshold: a safety net beyond the radius,
 * for data where the distance ranks rows less faithfully than expected (~0.35 ms of float32 work at
 * 768 dimensions; on the test and bench data the best match is always the nearest row).
 */
export const MIN_CANDIDATES = 256;
/**
 * Rows within the threshold's radius rescored at most (a low threshold would otherwise rescore all,
 * when the k-th best score does not stop the walk first).
 */
export const MAX_CANDIDATES = 2048;

/** Per-thread candidate lists (a scan is synchronous, so one set per thread serves every scan). */
let candidateRows = new Int32Array(1024);
let candidateDistances = new Int32Array(1024);
/** The candidates ordered by distance (a counting sort over the histogram), and each distance's first place. */
let byDistance = new Int32Array(1024);
let bucketStarts = new Int32Array(0);
let bucketFill = new Int32Array(0);

export function openStore(layout: StoreLayout, hamming: HammingFn = hammingOver(layout.memory)): StoreViews {
  const memory = layout.memory.buffer;
  return { layout, chunks: layout.chunks.map((b, i) => chunkViews(layout, b, memory, i)), hamming };
}

/** The largest distance to keep, given the distances seen so far. */
function cutoff(counts: Int32Array, seen: number, radius: number, bits: number): number {
  if (seen < MIN_CANDIDATES) return bits;
  let nearest = -1; // distance of the MIN_CANDIDATES-th nearest row
  let capped = bits; // distance of the MAX_CANDIDATES-th nearest row
  let total = 0;
  for (let d = 0; d <= bits; d++) {
    total += counts[d]!;
    if (nearest < 0 && total >= MIN_CANDIDATES) nearest = d;
    if (total >= MAX_CANDIDATES) {
      capped = d;
      break;
    }
  }
  return Math.max(nearest, Math.min(radius, capped));
}

function pushCandidate(count: number, row: number, distance: number): void {
  if (count === candidateRows.length) {
    const rows = new Int32Array(count * 2);
    rows.set(candidateRows);
    candidateRows = rows;
    const distances = new Int32Array(count * 2);
    distances.set(candidateDistances);
    candidateDistances = distances;
  }
  candidateRows[count] = row;
  candidateDistances[count] = distance;
}

/** Appends the block's rows under the cut-off to the candidates; returns the new candidate count. */
function collectBlock(distances: Int32Array, rows: number, firstRow: number, keep: number, count: number): number {
  for (let i = 0; i < rows; i++) {
    const d = distances[i]!;
    if (d <= keep) pushCandidate(count++, firstRow + i, d); // skipped rows (SKIP_DISTANCE) never pass
  }
  return count;
}

export function scanRows(store: StoreViews, request: ScanRequest): RawMatches {
  const { layout, chunks, hamming } = store;
  const { dims, rowBytes, chunkRows } = layout;
  const { query, partition, threshold } = request;
  if (request.limit === 0 || request.end <= request.start) return { rows: [], generations: [], similarities: [], rescored: 0 };
  const code = binaryCode(dims);
  const bits = code.bits;

  // Views are made per scan: a memory grown by the main thread hands out a longer buffer.
  const buffer = layout.memory.buffer;
  const offsets = slotOffsets(layout, request.scratch);
  encode(code, query, new Uint8Array(buffer, offsets.query, rowBytes), 0);
  const distances = new Int32Array(buffer, offsets.out, chunkRows);
  const histogram = new Int32Array(buffer, offsets.histogram, bits + 1);
  histogram.fill(0);
  const radius = hammingRadius(bits, threshold);

  // Pass 1: distances, block by block; keep the rows under the running cut-off.
  let seen = 0;
  let keep = bits;
  let count = 0;
  for (let row = request.start; row < request.end; ) {
    const chunkIndex = Math.floor(row / chunkRows);
    const first = row - chunkIndex * chunkRows;
    const rows = Math.min(request.end - row, chunkRows - first);
    const partitions = partitionsOffset(layout, chunkIndex) + 4 * first;
    seen += hamming(offsets.query, codeOffset(layout, row), partitions, rows, rowBytes, offsets.out, partition, offsets.histogram);
    keep = cutoff(histogram, seen, radius, bits);
    count = collectBlock(distances, rows, row, keep, count);
    row += rows;
  }

  // Pass 2: exact scores of the candidates under the final cut-off, nearest first. The histogram
  // counts every row within the cut-off, and each is a candidate: a counting sort orders them by
  // distance (row order within a distance).
  if (bucketStarts.length < bits + 2) {
    bucketStarts = new Int32Array(bits + 2);
    bucketFill = new Int32Array(bits + 2);
  }
  bucketStarts[0] = 0;
  for (let d = 0; d <= keep; d++) bucketStarts[d + 1] = bucketStarts[d]! + histogram[d]!;
  const ordered = bucketStarts[keep + 1]!;
  if (byDistance.length < ordered) byDistance = new Int32Array(Math.max(ordered, byDistance.length * 2));
  bucketFill.set(bucketStarts.subarray(0, keep + 1));
  for (let c = 0; c < count; c++) {
    const d = candidateDistances[c]!;
    if (d <= keep) byDistance[bucketFill[d]!++] = candidateRows[c]!;
  }

  const top = new TopK(request.limit);
  const any = partition === ANY_PARTITION;
  let rescored = 0;
  // Radius of the k-th best score, recomputed only when that score changes.
  let floorSeen = Number.NaN;
  let floorRadius = bits;
  for (let d = 0; d <= keep; d++) {
    for (let i = bucketStarts[d]!, end = bucketStarts[d + 1]!; i < end; i++) {
      const row = byDistance[i]!;
      const chunk = chunks[Math.floor(row / chunkRows)]!;
      const r = row % chunkRows;
      // Generation first, then the row: if the row changes after this read, the generation the
      // main thread sees differs and it drops this result.
      const generation = Atomics.load(chunk.generations, r);
      const current = chunk.partitions[r]!;
      if (current === EMPTY_SLOT || (!any && current !== partition)) continue;
      rescored++;
      const similarity = dotRows(query, 0, chunk.vectors, r * dims, dims);
      if (similarity >= threshold) top.offer(row, similarity, generation);
    }
    // Stop after a whole distance (ties are all scored) once no unseen row plausibly beats the k-th.
    if (rescored < MIN_CANDIDATES || !top.full) continue;
    const floor = Math.max(threshold, top.kth);
    if (floor !== floorSeen) {
      floorSeen = floor;
      floorRadius = hammingRadius(bits, floor);
    }
    if (d >= floorRadius) break;
  }
  return { rows: top.rows, generations: top.generations, similarities: top.scores, rescored };
}

