/**
 * One-bit codes of unit vectors for the first pass of the semantic search, and the Hamming radius
 * that keeps every plausible match of a cosine threshold among the candidates.
 *
 * A code is the sign of each coordinate after a fixed random rotation (random ±1 signs, then a
 * Walsh-Hadamard transform). The rotation is what makes the Hamming distance a reliable estimate of
 * the angle on real embeddings: raw embedding coordinates are often skewed (some dimensions almost
 * always positive), and their sign bits then carry little. After a random rotation each bit is a
 * random hyperplane (SimHash): two vectors at angle θ differ in a bit with probability θ/π, so the
 * distance concentrates around bits·θ/π. The rotation is a pure function of the dimension count, so
 * the main thread (encoding rows) and the workers (encoding queries) agree without sharing state.
 */

export interface BinaryCode {
  dims: number;
  /** Code length: dims rounded up to 256, so rows are whole 32-byte words for the kernel. */
  bits: number;
  /** bits / 8. */
  bytes: number;
  /** Hadamard size: the power of two >= bits. */
  padded: number;
  /** ±1 per padded coordinate, applied before the transform. */
  signs: Float64Array;
  /** Work area for one encoding (codes are encoded synchronously, one at a time per thread). */
  work: Float64Array;
}

const codes = new Map<number, BinaryCode>();

/** The code of a dimension count (cached: the signs are the same in every thread). */
export function binaryCode(dims: number): BinaryCode {
  let code = codes.get(dims);
  if (!code) {
    const bits = Math.ceil(dims / 256) * 256;
    let padded = 1;
    while (padded < bits) padded *= 2;
    // mulberry32 with a fixed seed: deterministic across threads and restarts.
    let a = 0x9e3779b9 ^ dims;
    const signs = new Float64Array(padded);
    for (let i = 0; i < padded; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      signs[i] = ((t ^ (t >>> 14)) >>> 0) & 1 ? 1 : -1;
    }
    code = { dims, bits, bytes: bits / 8, padded, signs, work: new Float64Array(padded) };
    codes.set(dims, code);
  }
  return code;
}

/** Writes the code of `vector` (dims long, any length > 0) into out[offset .. offset + bytes). */
export function encode(code: BinaryCode, vector: ArrayLike<number>, out: Uint8Array, offset: number): void {
  const { dims, bits, padded, signs, work } = code;
  for (let i = 0; i < dims; i++) work[i] = vector[i]! * signs[i]!;
  work.fill(0, dims);
  // In-place fast Walsh-Hadamard transform (unnormalised: only signs are kept).
  for (let h = 1; h < padded; h *= 2) {
    for (let i = 0; i < padded; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const x = work[j]!;
        const y = work[j + h]!;
        work[j] = x + y;
        work[j + h] = x - y;
      }
    }
  }
  for (let byte = 0; byte < bits / 8; byte++) {
    let b = 0;
    for (let k = 0; k < 8; k++) if (work[byte * 8 + k]! >= 0) b |= 1 << k;
    out[offset + byte] = b;
  }
}

/**
 * Standard deviations of margin above the expected distance at the threshold. The distance at
 * angle θ is about Binomial(bits, θ/π); 5σ leaves a row at the threshold out with odds below one in
 * a million, and rows above the threshold are closer still. Measured on clustered 768-dim data
 * (test/semantic-recall.test.ts) the candidates within this radius are a few dozen per 100k rows.
 */
const MARGIN_SIGMAS = 5;

/**
 * The largest Hamming distance at which a row can plausibly still have cosine >= threshold with
 * the query: every row within it is rescored exactly (up to a cap, src/workers/vector-scan.ts).
 */
export function hammingRadius(bits: number, threshold: number): number {
  if (!(threshold > -1)) return bits;
  if (threshold >= 1) threshold = 1;
  const p = Math.acos(threshold) / Math.PI;
  return Math.min(bits, Math.ceil(bits * p + MARGIN_SIGMAS * Math.sqrt(bits * p * (1 - p)) + 1));
}
