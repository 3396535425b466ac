/**
 * The search itself, a pure function over the shared store: the worker entry runs it on a range of
 * rows, and the main thread runs it directly for small indexes and as the fallback when workers fail.
 *
 * Two passes per block of rows: the SIMD kernel scores the int8 copy of every row, then only rows
 * whose int8 score could still reach the current floor (threshold, or the worst of a full top-k) are
 * rescored exactly from float32. The int8 score is within `bound` of the exact one (rounding errors
 * of row and query, measured on insert), so the pre-selection never drops a true match.
 */
import { ANY_PARTITION, dotRows, EMPTY_SLOT, TopK } from '../core/cache/inline-index.js';
import { chunkViews, QUERY_INT_MAX, slotOffsets, type ChunkViews, type StoreLayout } from './vector-layout.js';
import { dotsOver, type DotsFn } from './wasm-dots.js';

export interface StoreViews {
  layout: StoreLayout;
  chunks: ChunkViews[];
  dots: DotsFn;
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
}

/** Float32 rounding in the exact rescoring and the stored error norms, covered with room to spare. */
const ROUNDING_SLACK = 1e-5;

export function openStore(layout: StoreLayout, dots: DotsFn = dotsOver(layout.memory)): StoreViews {
  return { layout, chunks: layout.chunks.map((b) => chunkViews(b, layout.dims, layout.chunkRows)), dots };
}

export function scanRows(store: StoreViews, request: ScanRequest): RawMatches {
  const { layout, chunks, dots } = store;
  const { dims, stride, chunkRows, rowsBase } = layout;
  const { query, partition, threshold } = request;
  const top = new TopK(request.limit);
  if (request.limit === 0 || request.end <= request.start) return { rows: [], generations: [], similarities: [] };

  // Views are made per scan: a memory grown by the main thread hands out a longer buffer.
  const buffer = layout.memory.buffer;
  const offsets = slotOffsets(layout, request.scratch);
  const queryInts = new Int16Array(buffer, offsets.query, stride);
  const dotsOut = new Int32Array(buffer, offsets.out, chunkRows);

  let maxAbs = 0;
  for (let j = 0; j < dims; j++) maxAbs = Math.max(maxAbs, Math.abs(query[j]!));
  const queryScale = maxAbs / QUERY_INT_MAX;
  let errorSquares = 0;
  for (let j = 0; j < dims; j++) {
    const q = Math.round(query[j]! / queryScale);
    queryInts[j] = q;
    const e = query[j]! - q * queryScale;
    errorSquares += e * e;
  }
  queryInts.fill(0, dims);
  const queryError = Math.sqrt(errorSquares);
  const any = partition === ANY_PARTITION;

  for (let row = request.start; row < request.end; ) {
    const chunkIndex = Math.floor(row / chunkRows);
    const first = row - chunkIndex * chunkRows;
    const count = Math.min(request.end - row, chunkRows - first);
    const chunk = chunks[chunkIndex]!;
    dots(offsets.query, rowsBase + row * stride, count, stride, offsets.out);
    for (let i = 0; i < count; i++) {
      const r = first + i;
      const code = chunk.partitions[r]!;
      if (code === EMPTY_SLOT || (!any && code !== partition)) continue;
      const rowError = chunk.errors[r]!;
      const approx = dotsOut[i]! * queryScale * chunk.scales[r]!;
      const floor = top.floor(threshold);
      if (approx + rowError + queryError * (1 + rowError) + ROUNDING_SLACK < floor) continue;
      // Generation first, then the row: if the row changes after this read, the generation the
      // main thread sees differs and it drops this result.
      const generation = Atomics.load(chunk.generations, r);
      const current = chunk.partitions[r]!;
      if (current === EMPTY_SLOT || (!any && current !== partition)) continue;
      const similarity = dotRows(query, 0, chunk.vectors, r * dims, dims);
      if (similarity >= floor) top.offer(row + i, similarity, generation);
    }
    row += count;
  }
  return { rows: top.rows, generations: top.generations, similarities: top.scores };
}
