/**
 * Where the shared semantic index keeps its rows, described once so the writer (main thread,
 * src/workers/shared-store.ts) and the readers (worker threads, src/workers/vector-search.ts) build
 * the same views over the same memory.
 *
 * Two kinds of shared memory:
 * - one shared WebAssembly.Memory (a growable SharedArrayBuffer the kernel can address):
 *   `scratchSlots` scratch areas first (a query code, one block of distances and a histogram of
 *   distances each, so concurrent searches never share one), then one region per chunk from rowsBase:
 *   the one-bit codes of its rows (src/workers/binary-code.ts), then their int32 partition codes
 *   (EMPTY_SLOT when free). Growing a shared memory never moves or detaches it, so views made before
 *   a growth stay valid;
 * - float32 rows and generations in fixed-size SharedArrayBuffer chunks of `chunkRows` rows,
 *   appended as the index grows (never copied, so a worker's views stay valid). A row's generation
 *   is bumped after every write to the row and read with Atomics before the row, so the main thread
 *   can discard a result whose row changed during the search.
 */
import type { SharedMemory } from './wasm-hamming.js';

export interface StoreLayout {
  /** Identifies the store in the workers' caches. */
  id: string;
  /** Bumped when chunks are added; workers whose cached copy is older ask for the new layout. */
  version: number;
  dims: number;
  /** Bytes per row code (binaryCode(dims).bytes, a multiple of 32). */
  rowBytes: number;
  chunkRows: number;
  scratchSlots: number;
  slotBytes: number;
  /** Byte offset of chunk 0's region in the shared memory. */
  rowsBase: number;
  memory: SharedMemory;
  chunks: SharedArrayBuffer[];
}

export interface ChunkViews {
  vectors: Float32Array;
  generations: Int32Array;
  partitions: Int32Array;
}

export function slotBytesFor(rowBytes: number, chunkRows: number): number {
  // query code + one int32 distance per row of a block + one int32 per distance (0..bits); 64-byte aligned.
  return Math.ceil((rowBytes + 4 * chunkRows + 4 * (8 * rowBytes + 1)) / 64) * 64;
}

/** Bytes of the float32 chunk (vectors, generations). */
export function chunkBytes(dims: number, chunkRows: number): number {
  return chunkRows * (dims * 4 + 4);
}

/** Bytes of one chunk's region in the shared memory (codes, then partition codes). */
export function regionBytes(layout: Pick<StoreLayout, 'rowBytes' | 'chunkRows'>): number {
  return layout.chunkRows * (layout.rowBytes + 4);
}

/** Byte offset of a row's code in the shared memory. */
export function codeOffset(layout: Pick<StoreLayout, 'rowBytes' | 'chunkRows' | 'rowsBase'>, row: number): number {
  const chunk = Math.floor(row / layout.chunkRows);
  return layout.rowsBase + chunk * regionBytes(layout) + (row - chunk * layout.chunkRows) * layout.rowBytes;
}

/** Byte offset of a chunk's partition codes in the shared memory. */
export function partitionsOffset(layout: Pick<StoreLayout, 'rowBytes' | 'chunkRows' | 'rowsBase'>, chunk: number): number {
  return layout.rowsBase + chunk * regionBytes(layout) + layout.chunkRows * layout.rowBytes;
}

/** Views of chunk `index`; `memory` must be a buffer of the shared memory that already covers it. */
export function chunkViews(layout: Pick<StoreLayout, 'dims' | 'rowBytes' | 'chunkRows' | 'rowsBase'>, buffer: SharedArrayBuffer, memory: SharedArrayBuffer, index: number): ChunkViews {
  const { dims, chunkRows } = layout;
  return {
    vectors: new Float32Array(buffer, 0, chunkRows * dims),
    generations: new Int32Array(buffer, chunkRows * dims * 4, chunkRows),
    partitions: new Int32Array(memory, partitionsOffset(layout, index), chunkRows),
  };
}

/** Byte offsets of a scratch slot's query code, distance and histogram areas. */
export function slotOffsets(layout: Pick<StoreLayout, 'slotBytes' | 'rowBytes' | 'chunkRows'>, slot: number): { query: number; out: number; histogram: number } {
  const base = slot * layout.slotBytes;
  return { query: base, out: base + layout.rowBytes, histogram: base + layout.rowBytes + 4 * layout.chunkRows };
}
