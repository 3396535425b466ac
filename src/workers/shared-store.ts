/**
 * The main thread's side of the shared semantic index: owns the shared memory, writes rows, hands
 * out slots, and turns the workers' row numbers back into ids (dropping any row that changed since
 * the worker read it). Only this class writes; workers only read (see vector-layout.ts).
 */
import { randomUUID } from 'node:crypto';
import type { SemanticMatch } from '../core/cache/semantic-index.js';
import { clampCosine, EMPTY_SLOT, normalizeInto, PartitionCodes } from '../core/cache/inline-index.js';
import { binaryCode, encode, type BinaryCode } from './binary-code.js';
import { chunkBytes, chunkViews, codeOffset, regionBytes, slotBytesFor, type ChunkViews, type StoreLayout } from './vector-layout.js';
import { openStore, type RawMatches, type StoreViews } from './vector-scan.js';
import { createSharedMemory, MAX_PAGES, WASM_PAGE } from './wasm-hamming.js';

export interface SharedStoreOptions {
  dims: number;
  /** Rows per float32 chunk (and per kernel call). */
  chunkRows: number;
  /** Concurrent scans the store can serve (slot 0 is the main thread's). */
  scratchSlots: number;
}

export class SharedVectorStore {
  readonly layout: StoreLayout;
  /** The main thread's views, for inline scans. */
  readonly views: StoreViews;
  private readonly chunks: ChunkViews[] = [];
  /** The shared memory as bytes (replaced when the memory grows). */
  private codeBytes: Uint8Array;
  private readonly code: BinaryCode;
  private readonly normalized: Float32Array;
  private readonly slotIds: Array<string | undefined> = [];
  private readonly slotPartitions: Array<string | undefined> = [];
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  readonly codes = new PartitionCodes();
  /** Rows [0, highWater) have been used: what a search scans. */
  private highWater = 0;

  constructor(options: SharedStoreOptions) {
    const { dims, chunkRows, scratchSlots } = options;
    this.code = binaryCode(dims);
    const rowBytes = this.code.bytes;
    const slotBytes = slotBytesFor(rowBytes, chunkRows);
    const rowsBase = Math.ceil((scratchSlots * slotBytes) / WASM_PAGE) * WASM_PAGE;
    const memory = createSharedMemory(Math.max(1, rowsBase / WASM_PAGE));
    this.layout = { id: randomUUID(), version: 0, dims, rowBytes, chunkRows, scratchSlots, slotBytes, rowsBase, memory, chunks: [] };
    this.views = openStore(this.layout);
    this.views.chunks = this.chunks;
    this.codeBytes = new Uint8Array(memory.buffer);
    this.normalized = new Float32Array(dims);
  }

  get size(): number {
    return this.slots.size;
  }

  get rows(): number {
    return this.highWater;
  }

  /** Validates and normalises before touching any slot, so a bad vector changes nothing. */
  add(id: string, vector: ArrayLike<number>, partition: string | undefined): void {
    const { dims, chunkRows } = this.layout;
    normalizeInto(vector, dims, this.normalized, 0);
    const existing = this.slots.get(id);
    const slot = existing ?? this.freeSlots.pop() ?? this.highWater;
    this.ensureRows(slot + 1);
    const chunk = this.chunks[Math.floor(slot / chunkRows)]!;
    const r = slot % chunkRows;
    const v = this.normalized;
    chunk.vectors.set(v, r * dims);

    encode(this.code, v, this.codeBytes, codeOffset(this.layout, slot));
    if (existing !== undefined) this.codes.release(this.slotPartitions[slot]);
    chunk.partitions[r] = this.codes.acquire(partition);
    // Published last: a reader that sees this generation sees the whole row (Atomics order).
    Atomics.add(chunk.generations, r, 1);
    this.slotPartitions[slot] = partition;
    this.slotIds[slot] = id;
    this.slots.set(id, slot);
    if (slot >= this.highWater) this.highWater = slot + 1;
  }

  remove(id: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.freeSlot(slot);
    this.slots.delete(id);
    this.freeSlots.push(slot);
  }

  clear(): void {
    for (const slot of this.slots.values()) this.freeSlot(slot);
    this.slots.clear();
    this.freeSlots.length = 0;
    this.codes.clear();
    this.highWater = 0;
  }

  /** Ids for the rows a scan returned, dropping rows written or freed since the scan read them. */
  resolve(raw: RawMatches): SemanticMatch[] {
    const out: SemanticMatch[] = [];
    const { chunkRows } = this.layout;
    for (let i = 0; i < raw.rows.length; i++) {
      const row = raw.rows[i]!;
      const chunk = this.chunks[Math.floor(row / chunkRows)];
      if (!chunk || Atomics.load(chunk.generations, row % chunkRows) !== raw.generations[i]) continue;
      const id = this.slotIds[row];
      if (id !== undefined) out.push({ id, similarity: clampCosine(raw.similarities[i]!) });
    }
    return out;
  }

  private freeSlot(slot: number): void {
    const { chunkRows } = this.layout;
    const chunk = this.chunks[Math.floor(slot / chunkRows)]!;
    const r = slot % chunkRows;
    chunk.partitions[r] = EMPTY_SLOT;
    Atomics.add(chunk.generations, r, 1);
    this.codes.release(this.slotPartitions[slot]);
    this.slotIds[slot] = undefined;
    this.slotPartitions[slot] = undefined;
  }

  /** Appends chunks (and grows the shared memory) until `rows` rows fit. */
  private ensureRows(rows: number): void {
    const { dims, chunkRows, rowsBase, memory } = this.layout;
    if (rows <= this.chunks.length * chunkRows) return;
    const chunkCount = Math.ceil(rows / chunkRows);
    const neededPages = Math.ceil((rowsBase + chunkCount * regionBytes(this.layout)) / WASM_PAGE);
    const havePages = memory.buffer.byteLength / WASM_PAGE;
    if (neededPages > MAX_PAGES) throw new RangeError(`semantic index is full (${this.chunks.length * chunkRows} vectors of ${dims} dimensions)`);
    if (neededPages > havePages) {
      memory.grow(neededPages - havePages);
      this.codeBytes = new Uint8Array(memory.buffer);
    }
    while (this.chunks.length < chunkCount) {
      const buffer = new SharedArrayBuffer(chunkBytes(dims, chunkRows));
      const views = chunkViews(this.layout, buffer, memory.buffer, this.chunks.length);
      views.partitions.fill(EMPTY_SLOT);
      this.layout.chunks.push(buffer);
      this.chunks.push(views);
    }
    this.layout.version++;
  }
}
