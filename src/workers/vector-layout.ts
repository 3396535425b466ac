/**
 * Where the shared semantic index keeps its rows, described once so the writer (main thread,
 * src/workers/shared-store.ts) and the readers (worker threads, src/workers/vector-search.ts) build
 * the same views over the same memory.
 *
 * Two kinds of shared memory:
 * - one shared WebAssembly.Memory (a growable SharedArrayBuffer the SIMD kernel can address):
 *   `scratchSlots` scratch areas first (a query and one block of dot products each, so concurrent
 *   searches never share one), then the int8 copy of every row at rowsBase + row * stride;
 * - float32 rows and per-row metadata in fixed-size SharedArrayBuffer chunks of `chunkRows` rows,
 *   appended as the index grows (never copied, so a worker's views stay valid).
 *
 * Per-row metadata: generation (bumped after every write to the row, read with Atomics before the
 * row, so the main thread can discard a result whose row changed during the search), partition code
 * (EMPTY_SLOT when free), the int8 scale and the norm of the int8 rounding error (bounds how far the
 * int8 score can be from the exact one).
 */
import { STRIDE_ALIGN, type SharedMemory } from './wasm-dots.js';

export interface StoreLayout {
  /** Identifies the store in the workers' caches. */
  id: string;
  /** Bumped when chunks are added; workers whose cached copy is older ask for the new layout. */
  version: number;
  dims: number;
  /** Bytes per int8 row (dims rounded up to STRIDE_ALIGN). */
  stride: number;
  chunkRows: number;
  scratchSlots: number;
  slotBytes: number;
  /** Byte offset of row 0 in the shared memory. */
  rowsBase: number;
  memory: SharedMemory;
  chunks: SharedArrayBuffer[];
}

export interface ChunkViews {
  vectors: Float32Array;
  generations: Int32Array;
  partitions: Int32Array;
  scales: Float32Array;
  errors: Float32Array;
}

/** Largest int16 used for the query: keeps every int8·int16 dot sum of unit vectors inside int32. */
export const QUERY_INT_MAX = 16_383;
export const ROW_INT_MAX = 127;

export function strideFor(dims: number): number {
  return Math.ceil(dims / STRIDE_ALIGN) * STRIDE_ALIGN;
}

export function slotBytesFor(stride: number, chunkRows: number): number {
  // query (int16 per byte of stride) + one int32 per row of a block; 64-byte aligned.
  return Math.ceil((2 * stride + 4 * chunkRows) / 64) * 64;
}

export function chunkBytes(dims: number, chunkRows: number): number {
  return chunkRows * (dims * 4 + 16);
}

export function chunkViews(buffer: SharedArrayBuffer, dims: number, chunkRows: number): ChunkViews {
  const vectorBytes = chunkRows * dims * 4;
  return {
    vectors: new Float32Array(buffer, 0, chunkRows * dims),
    generations: new Int32Array(buffer, vectorBytes, chunkRows),
    partitions: new Int32Array(buffer, vectorBytes + 4 * chunkRows, chunkRows),
    scales: new Float32Array(buffer, vectorBytes + 8 * chunkRows, chunkRows),
    errors: new Float32Array(buffer, vectorBytes + 12 * chunkRows, chunkRows),
  };
}

/** Byte offsets of a scratch slot's query and output areas. */
export function slotOffsets(layout: Pick<StoreLayout, 'slotBytes' | 'stride'>, slot: number): { query: number; out: number } {
  const base = slot * layout.slotBytes;
  return { query: base, out: base + 2 * layout.stride };
}
