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
  private readonly rows: Map<string, Float64Array>;

  constructor(weights: ModelWeights) {
    if (weights.version !== 1) throw new Error(`unsupported classifier weights version ${String(weights.version)}`);
    for (const c of weights.classes) {
      if (!(CATEGORIES as readonly string[]).includes(c)) throw new Error(`unknown category in classifier weights: ${c}`);
    }
    this.classes = weights.classes;
    this.rows = new Map();
    const width = weights.classes.length;
    for (const [key, row] of Object.entries(weights.weights)) {
      if (row.length !== width) throw new Error(`classifier weights for "${key}" have ${row.length} values, expected ${width}`);
      this.rows.set(key, Float64Array.from(row));
    }
  }

  /** Raw scores (logits), one per class. */
  logits(features: FeatureVector): Float64Array {
    const out = new Float64Array(this.classes.length);
    for (const [key, value] of features) {
      const row = this.rows.get(key);
      if (!row) continue;
      for (let c = 0; c < out.length; c++) out[c] += row[c] * value;
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
