/**
 * The linear model: per-category weights for each feature, trained by scripts/train-classifier.ts
 * and committed as weights.json. Scoring is a sparse dot product and a softmax.
 */
import { CATEGORIES, type Category } from '../../../plugin-api/index.js';
import type { FeatureVector } from './features.js';
import type { MixingParams } from './mixing.js';

export interface ModelWeights {
  /** Format version of this file. */
  version: 1;
  /** Category order of every weight row. */
  classes: readonly Category[];
  /** feature key -> one weight per class. */
  weights: Record<string, readonly number[]>;
  /** How the last turn and the context are mixed (fitted with the weights). */
  mixing?: MixingParams;
  /** What the training script measured; informative only. */
  meta?: Record<string, unknown>;
}

export class LinearModel {
  readonly classes: readonly Category[];
  /**
   * Every row in one array, `width` values per feature, and the row's offset by feature key: one
   * typed array instead of ~20,000 small ones, so a lookup touches the index and one cache line of
   * weights. Between requests other processes evict the weights from the CPU caches, and the
   * scattered layout made each feature cost several cache misses.
   */
  private readonly offsets: Map<string, number>;
  private readonly values: Float64Array;
  private readonly width: number;

  constructor(weights: ModelWeights) {
    if (weights.version !== 1) throw new Error(`unsupported classifier weights version ${String(weights.version)}`);
    for (const c of weights.classes) {
      if (!(CATEGORIES as readonly string[]).includes(c)) throw new Error(`unknown category in classifier weights: ${c}`);
    }
    this.classes = weights.classes;
    const width = weights.classes.length;
    const entries = Object.entries(weights.weights);
    this.width = width;
    this.offsets = new Map();
    this.values = new Float64Array(entries.length * width);
    entries.forEach(([key, row], i) => {
      if (row.length !== width) throw new Error(`classifier weights for "${key}" have ${row.length} values, expected ${width}`);
      this.offsets.set(key, i * width);
      this.values.set(row, i * width);
    });
  }

  /** Raw scores (logits), one per class. */
  logits(features: FeatureVector): Float64Array {
    const width = this.width;
    const values = this.values;
    const out = new Float64Array(width);
    for (const [key, value] of features) {
      const at = this.offsets.get(key);
      if (at === undefined) continue;
      for (let c = 0; c < width; c++) out[c] += values[at + c] * value;
    }
    return out;
  }

  /** Class probabilities. */
  predict(features: FeatureVector): Float64Array {
    return softmax(this.logits(features));
  }
}

export function softmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
