/**
 * The hot loop of the semantic search: int8 row · int16 query dot products in WebAssembly SIMD,
 * over a shared WebAssembly.Memory (its buffer is a SharedArrayBuffer the main thread writes and the
 * worker threads read).
 *
 * Why hand-assembled WebAssembly: a plain TypeScript float loop scans 100k 768-dim vectors in ~40 ms
 * on this machine; this kernel does the int8 scan in ~4 ms (i32x4.dot_i16x8_s does 8 multiply-adds
 * per instruction and int8 rows move a quarter of the bytes). The module is ~200 bytes, built here
 * so there is no toolchain or binary artefact to ship. The scan only pre-selects candidates: scores
 * are then recomputed exactly from the float32 copy (src/workers/vector-scan.ts).
 *
 * Exported function: dots(queryPtr, rowsPtr, rowCount, stride, outPtr)
 *   query: `stride` int16 values at queryPtr; rows: `rowCount` rows of `stride` int8 values from
 *   rowsPtr; out: one int32 dot product per row at outPtr. `stride` must be a multiple of 64.
 */

/** Row length in bytes is rounded up to this (the loop is unrolled four times over 16 bytes). */
export const STRIDE_ALIGN = 64;
export const WASM_PAGE = 65_536;
/** Addressable wasm32 pages (4 GiB). */
export const MAX_PAGES = 65_536;

export type DotsFn = (queryPtr: number, rowsPtr: number, rowCount: number, stride: number, outPtr: number) => void;

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
const V128 = 0x7b;
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const tee = (i: number): number[] => [0x22, i];
const v128Load = (offset: number): number[] => [...simd(0x00), 4, ...uleb(offset)];
const i32Const = (n: number): number[] => [0x41, ...uleb(n)]; // only small non-negative constants (< 64)

// Parameters 0..4: queryPtr, rowsPtr, rowCount, stride, outPtr. Locals: 5 rowEnd, 6 queryCursor (i32),
// 7 accumulator, 8 loaded row bytes (v128).
const [Q, ROWS, COUNT, STRIDE, OUT, ROW_END, QC, ACC, TMP] = [0, 1, 2, 3, 4, 5, 6, 7, 8];

/** acc += dot(extend_low(row[o..o+16]), q[2o..]) + dot(extend_high(row[o..o+16]), q[2o+16..]) */
function sixteenBytes(offset: number): number[] {
  return [
    ...get(ACC), ...get(ROWS), ...v128Load(offset), ...tee(TMP),
    ...simd(0x87), ...get(QC), ...v128Load(2 * offset), ...simd(0xba), ...simd(0xae), // i16x8.extend_low_i8x16_s, i32x4.dot_i16x8_s, i32x4.add
    ...get(TMP), ...simd(0x88), ...get(QC), ...v128Load(2 * offset + 16), ...simd(0xba), ...simd(0xae), // extend_high
    ...set(ACC),
  ];
}

const laneSum: number[] = [
  ...get(ACC), ...simd(0x1b), 0, // i32x4.extract_lane 0
  ...get(ACC), ...simd(0x1b), 1, 0x6a,
  ...get(ACC), ...simd(0x1b), 2, 0x6a,
  ...get(ACC), ...simd(0x1b), 3, 0x6a,
];

const body: number[] = [
  0x02, 0x40, 0x03, 0x40, // block $done, loop $rows
  ...get(COUNT), 0x45, 0x0d, 1, // if rowCount == 0: br $done
  ...simd(0x0c), ...new Array<number>(16).fill(0), ...set(ACC), // acc = 0
  ...get(Q), ...set(QC),
  ...get(ROWS), ...get(STRIDE), 0x6a, ...set(ROW_END),
  0x03, 0x40, // loop $bytes (64 bytes per turn)
  ...sixteenBytes(0), ...sixteenBytes(16), ...sixteenBytes(32), ...sixteenBytes(48),
  ...get(QC), 0x41, 0x80, 0x01, 0x6a, ...set(QC), // queryCursor += 128
  ...get(ROWS), 0x41, 0xc0, 0x00, 0x6a, ...tee(ROWS), // rowsPtr += 64
  ...get(ROW_END), 0x49, 0x0d, 0, // br_if $bytes (rowsPtr < rowEnd, unsigned)
  0x0b,
  ...get(OUT), ...laneSum, 0x36, 2, 0, // i32.store
  ...get(OUT), ...i32Const(4), 0x6a, ...set(OUT),
  ...get(COUNT), ...i32Const(1), 0x6b, ...set(COUNT),
  0x0c, 0, // br $rows
  0x0b, 0x0b, 0x0b,
];

function moduleBytes(): Uint8Array {
  const code = [...vec([[2, I32], [2, V128]]), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0]])),
    // import env.memory: shared (flag 3), min 1, max MAX_PAGES: any shared memory satisfies it.
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(MAX_PAGES)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('dots'), 0x00, 0]])),
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
export function dotsOver(memory: SharedMemory): DotsFn {
  compiled ??= new wasm.Module(moduleBytes());
  const instance = new wasm.Instance(compiled, { env: { memory } });
  return instance.exports.dots as DotsFn;
}

/** A shared memory the kernel can import; `maximum` pages are reserved (address space only). */
export function createSharedMemory(initialPages: number, maximumPages = MAX_PAGES): SharedMemory {
  return new wasm.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
}
