/**
 * Synthetic embeddings shaped like real ones, for recall tests of the semantic index: real embedding
 * models do not spread vectors evenly over the sphere. These have
 * - a shared offset: every vector leans toward one direction, so unrelated texts still have cosine
 *   ~0.2-0.3 (the "cone" of sentence embeddings);
 * - uneven dimensions: per-dimension scales are log-normal and a few dimensions are several times
 *   larger than the rest (the outlier dimensions of transformer embeddings), some almost always
 *   positive;
 * - topics: texts on one topic share a direction (cosine ~0.5-0.6 inside a topic);
 * - paraphrases: a cached prompt nudged by a chosen amount (cosine ~0.8-0.99 to it).
 */
import { prng } from '../../src/simulators/util.js';

/** mulberry32 (the simulators' PRNG): deterministic, so failures reproduce. */
export const seeded = prng;

export function unit(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const s = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i]! *= s;
  return v;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

export class RealisticEmbeddings {
  readonly next: () => number;
  private readonly scales: Float32Array;
  private readonly offset: Float32Array;
  private readonly topics: Float32Array[];

  constructor(readonly dims: number, topicCount: number, seed = 7) {
    this.next = seeded(seed);
    this.scales = new Float32Array(dims);
    for (let i = 0; i < dims; i++) this.scales[i] = Math.exp(0.5 * this.gauss()) * (i % 97 === 0 ? 6 : 1);
    this.offset = new Float32Array(dims);
    for (let i = 0; i < dims; i++) this.offset[i] = this.scales[i]! * (i % 31 === 0 ? 2.5 : 0.3 * this.gauss());
    unit(this.offset);
    this.topics = Array.from({ length: topicCount }, () => this.noise());
  }

  /** Standard normal (Box-Muller). */
  gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  /** A unit direction with the model's uneven per-dimension scales. */
  noise(): Float32Array {
    const v = new Float32Array(this.dims);
    for (let i = 0; i < this.dims; i++) v[i] = this.gauss() * this.scales[i]!;
    return unit(v);
  }

  /** A text on a random topic. */
  text(): Float32Array {
    return this.onTopic(Math.floor(this.next() * this.topics.length));
  }

  onTopic(topic: number): Float32Array {
    const t = this.topics[topic]!;
    const n = this.noise();
    const v = new Float32Array(this.dims);
    for (let i = 0; i < this.dims; i++) v[i] = 0.5 * this.offset[i]! + 0.7 * t[i]! + 0.6 * n[i]!;
    return unit(v);
  }

  /** `base` nudged by noise of the given size (0.2: cosine ~0.98; 0.6: ~0.85; 0.8: ~0.78). */
  paraphrase(base: Float32Array, amount: number): Float32Array {
    const n = this.noise();
    const v = new Float32Array(this.dims);
    for (let i = 0; i < this.dims; i++) v[i] = base[i]! + amount * n[i]!;
    return unit(v);
  }

  /** A unit vector with cosine exactly `c` to `base` (unit), in a random direction of the model's shape. */
  atCosine(base: Float32Array, c: number): Float32Array {
    const n = this.noise();
    const along = cosine(n, base);
    const v = new Float32Array(this.dims);
    for (let i = 0; i < this.dims; i++) v[i] = n[i]! - along * base[i]!;
    unit(v);
    const s = Math.sqrt(1 - c * c);
    for (let i = 0; i < this.dims; i++) v[i] = c * base[i]! + s * v[i]!;
    return v;
  }
}
