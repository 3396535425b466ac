/**
 * Multinomial logistic regression on sparse features, trained with Adam and L2 regularisation.
 * Deterministic: the shuffle uses a seeded generator, so `npx tsx scripts/train-classifier.ts`
 * reproduces weights.json exactly.
 */
import type { Category } from '../../../../plugin-api/index.js';
import type { FeatureVector } from '../features.js';
import type { ModelWeights } from '../model.js';
import { softmax } from '../model.js';

export interface TrainingExample {
  features: FeatureVector;
  label: number;
  /** Sample weight (hand-written examples count more than generated ones). */
  weight: number;
}

export interface TrainOptions {
  classes: readonly Category[];
  epochs: number;
  learningRate: number;
  /** L2 penalty per feature weight. */
  l2: number;
  /** Features seen in fewer training examples than this are dropped. */
  minCount: number;
  seed: number;
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export function train(examples: readonly TrainingExample[], options: TrainOptions): ModelWeights {
  const k = options.classes.length;
  const counts = new Map<string, number>();
  for (const ex of examples) for (const key of ex.features.keys()) counts.set(key, (counts.get(key) ?? 0) + 1);
  const index = new Map<string, number>();
  for (const [key, n] of counts) {
    // Lexicon, structural and bias features are designed by hand: always keep them.
    if (n >= options.minCount || !/^[wbcg]:/.test(key)) index.set(key, index.size);
  }
  const dim = index.size;
  const w = new Float64Array(dim * k);
  const m = new Float64Array(dim * k);
  const v = new Float64Array(dim * k);
  const lastStep = new Float64Array(dim);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;

  const sparse = examples.map((ex) => {
    const ids: number[] = [];
    const values: number[] = [];
    for (const [key, value] of ex.features) {
      const id = index.get(key);
      if (id !== undefined) {
        ids.push(id);
        values.push(value);
      }
    }
    return { ids, values, label: ex.label, weight: ex.weight };
  });

  const random = rng(options.seed);
  let step = 0;
  const order = sparse.map((_, i) => i);
  const logits = new Float64Array(k);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    const lr = options.learningRate / (1 + epoch * 0.05);
    for (const i of order) {
      const ex = sparse[i];
      step++;
      logits.fill(0);
      for (let j = 0; j < ex.ids.length; j++) {
        const base = ex.ids[j] * k;
        for (let c = 0; c < k; c++) logits[c] += w[base + c] * ex.values[j];
      }
      const p = softmax(logits);
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (let j = 0; j < ex.ids.length; j++) {
        const id = ex.ids[j];
        const base = id * k;
        // Lazy L2: apply the decay for the steps this feature was not touched.
        const skipped = step - lastStep[id];
        lastStep[id] = step;
        for (let c = 0; c < k; c++) {
          const g = ex.weight * (p[c] - (c === ex.label ? 1 : 0)) * ex.values[j] + options.l2 * skipped * w[base + c];
          const idx = base + c;
          m[idx] = beta1 * m[idx] + (1 - beta1) * g;
          v[idx] = beta2 * v[idx] + (1 - beta2) * g * g;
          w[idx] -= (lr * (m[idx] / c1)) / (Math.sqrt(v[idx] / c2) + eps);
        }
      }
    }
  }

  const weights: Record<string, number[]> = {};
  for (const [key, id] of [...index].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const row = Array.from(w.subarray(id * k, id * k + k), (x) => Math.round(x * 10_000) / 10_000);
    if (row.some((x) => x !== 0)) weights[key] = row;
  }
  return { version: 1, classes: options.classes, weights };
}
