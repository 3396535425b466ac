/**
 * The hot loop of the semantic search: Hamming distances between a query's sign bits and every
 * row's sign bits (src/workers/binary-code.ts), in WebAssembly over a shared WebAssembly.Memory (its
 * buffer is a SharedArrayBuffer the main thread writes and the worker threads read).
 *
 * Why this kernel: the earlier int8 × int16 SIMD dot-product scan read 768 bytes per row (77 MB per
 * search at 100k rows) and took 4-6 ms, most of it waiting on memory, with a tail to 12+ ms. One bit
 * per dimension is 96 bytes per row (9.6 MB at 100k): xor, popcnt and add over 64-bit words scan
 * 100k rows in well under a millisecond. The distance only pre-selects candidates; scores are
 * recomputed exactly from the float32 copy (src/workers/vector-scan.ts). The module is ~150 bytes,
 * assembled here so there is no toolchain or binary artefact to ship.
 *
 * Exported function: hamming(queryPtr, rowsPtr, partitionsPtr, rowCount, rowBytes, outPtr, wanted, histogramPtr)
 *   query: `rowBytes` bytes at queryPtr; rows: `rowCount` rows of `rowBytes` bytes from rowsPtr, with
 *   one int32 partition code each from partitionsPtr. A row whose code is EMPTY_SLOT (-1), or not
 *   `wanted` unless wanted is ANY_PARTITION (-2), gets distance SKIP_DISTANCE and is not counted;
 *   every other row gets its distance (differing bits) at outPtr + 4·i and adds one to the int32
 *   histogram bucket of that distance at histogramPtr. Returns how many rows were counted.
 *   `rowBytes` must be a multiple of 32. Filtering here rather than in JavaScript keeps the pass
 *   over all rows in one tight loop: the same filtering as a JavaScript loop over the rows took
 *   ~1.4 ms at 100k rows in a Piscina worker, three times the kernel (~0.47 ms), measured.
 */
import { ANY_PARTITION, EMPTY_SLOT } from '../core/cache/inline-index.js';

/** Distance written for rows the kernel skips (free, or another partition). */
export const SKIP_DISTANCE = 0x7fffffff;
/** Bytes per row are rounded up to this (the loop handles four 64-bit words per turn). */
export const ROW_ALIGN = 32;
export const WASM_PAGE = 65_536;
/** Addressable wasm32 pages (4 GiB). */
export const MAX_PAGES = 65_536;

export type HammingFn = (
  queryPtr: number,
  rowsPtr: number,
  partitionsPtr: number,
  rowCount: number,
  rowBytes: number,
  outPtr: number,
  wanted: number,
  histogramPtr: number,
) => number;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];

const I32 = 0x7f;
const I64 = 0x7e;
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const tee = (i: number): number[] => [0x22, i];
const i64Load = (offset: number): number[] => [0x29, 3, ...uleb(offset)];
const i32Const = (n: number): number[] => [0x41, ...sleb(n)];
const i32Load = [0x28, 2, 0];
const i32Store = [0x36, 2, 0];

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

// Parameters 0..7: queryPtr, rowsPtr, partitionsPtr, rowCount, rowBytes, outPtr, wanted, histogramPtr.
// Locals: 8 rowEnd, 9 queryCursor, 10 partition / scratch address, 11 counted (i32); 12 accumulator (i64).
const [Q, ROWS, PARTS, COUNT, BYTES, OUT, WANTED, HIST, ROW_END, QC, P, COUNTED, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/** acc += popcnt(row[o..o+8] ^ query[o..o+8]) */
function word(offset: number): number[] {
  return [
    ...get(ACC), ...get(ROWS), ...i64Load(offset), ...get(QC), ...i64Load(offset),
    0x85, 0x7b, 0x7c, // i64.xor, i64.popcnt, i64.add
    ...set(ACC),
  ];
}

const body: number[] = [
  0x02, 0x40, 0x03, 0x40, // block $done, loop $rows
  ...get(COUNT), 0x45, 0x0d, 1, // if rowCount == 0: br $done
  ...get(ROWS), ...get(BYTES), 0x6a, ...set(ROW_END),
  // skip = p == EMPTY_SLOT | (wanted != ANY_PARTITION & p != wanted)
  ...get(PARTS), ...i32Load, ...tee(P), ...i32Const(EMPTY_SLOT), 0x46,
  ...get(WANTED), ...i32Const(ANY_PARTITION), 0x47,
  ...get(P), ...get(WANTED), 0x47,
  0x71, 0x72, // i32.and, i32.or
  0x04, 0x40, // if skip
  ...get(OUT), ...i32Const(SKIP_DISTANCE), ...i32Store,
  0x05, // else
  0x42, 0x00, ...set(ACC), // acc = 0
  ...get(Q), ...set(QC),
  0x03, 0x40, // loop $words (32 bytes per turn)
  ...word(0), ...word(8), ...word(16), ...word(24),
  ...get(QC), ...i32Const(32), 0x6a, ...set(QC),
  ...get(ROWS), ...i32Const(32), 0x6a, ...tee(ROWS),
  ...get(ROW_END), 0x49, 0x0d, 0, // br_if $words (rowsPtr < rowEnd, unsigned)
  0x0b,
  ...get(OUT), ...get(ACC), 0xa7, ...i32Store, // out = distance
  ...get(HIST), ...get(ACC), 0xa7, ...i32Const(2), 0x74, 0x6a, ...tee(P), // &histogram[distance]
  ...get(P), ...i32Load, ...i32Const(1), 0x6a, ...i32Store, // histogram[distance]++
  ...get(COUNTED), ...i32Const(1), 0x6a, ...set(COUNTED),
  0x0b, // end if
  ...get(ROW_END), ...set(ROWS),
  ...get(PARTS), ...i32Const(4), 0x6a, ...set(PARTS),
  ...get(OUT), ...i32Const(4), 0x6a, ...set(OUT),
  ...get(COUNT), ...i32Const(1), 0x6b, ...set(COUNT),
  0x0c, 0, // br $rows
  0x0b, 0x0b,
  ...get(COUNTED),
  0x0b,
];

function moduleBytes(): Uint8Array {
  const code = [...vec([[4, I32], [1, I64]]), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(Array.from({ length: 8 }, () => [I32])), ...vec([[I32]])]])),
    // import env.memory: shared (flag 3), min 1, max MAX_PAGES: any shared memory satisfies it.
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(MAX_PAGES)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('hamming'), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

/**
 * The slice of the WebAssembly JS API used here. The project compiles without the DOM lib, where
 * TypeScript has no WebAssembly types; Node has the runtime objects.
 */
export interface SharedMemory {
  /** A SharedArrayBuffer over the whole memory; a new object (same bytes) after grow(). */
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => SharedMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: { env: { memory: SharedMemory } }) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

/** Binds the kernel to one shared memory (one instance per memory; the module compiles once per thread). */
export function hammingOver(memory: SharedMemory): HammingFn {
  compiled ??= new wasm.Module(moduleBytes());
  const instance = new wasm.Instance(compiled, { env: { memory } });
  return instance.exports.hamming as HammingFn;
}

/** A shared memory the kernel can import; `maximum` pages are reserved (address space only). */
export function createSharedMemory(initialPages: number, maximumPages = MAX_PAGES): SharedMemory {
  return new wasm.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
}
