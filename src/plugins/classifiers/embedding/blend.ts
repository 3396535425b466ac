/**
 * One classification from two opinions: the built-in classifier's category probabilities and the
 * nearest-exemplar vote, mixed linearly. Complexity stays the built-in's: it comes from length,
 * structure and wording (complexity.ts), which the exemplars, labelled by category only, say nothing about.
 */
import { CATEGORIES, type Category, type Classification } from '../../../plugin-api/index.js';

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The built-in's probabilities in CATEGORIES order (one-hot on its category if it gave none). */
function builtinProbabilities(builtin: Classification): number[] {
  const scores = builtin.categoryScores;
  const raw = CATEGORIES.map((c) => {
    const s = scores?.[c];
    return typeof s === 'number' && Number.isFinite(s) && s > 0 ? s : 0;
  });
  const total = raw.reduce((a, b) => a + b, 0);
  if (total > 0) return raw.map((s) => s / total);
  return CATEGORIES.map((c) => (c === builtin.category ? 1 : 0));
}

/**
 * @param knn    probabilities in CATEGORIES order.
 * @param weight share of the nearest-exemplar vote, 0..1 (ROUTER_CLASSIFIER_EMBEDDINGS_WEIGHT).
 */
export function blend(builtin: Classification, knn: readonly number[], weight: number): Classification {
  const mine = builtinProbabilities(builtin);
  const mixed = CATEGORIES.map((_, i) => (1 - weight) * mine[i]! + weight * (knn[i] ?? 0));
  let best = 0;
  for (let i = 1; i < mixed.length; i++) if (mixed[i]! > mixed[best]!) best = i;
  const categoryScores: Partial<Record<Category, number>> = {};
  CATEGORIES.forEach((c, i) => {
    categoryScores[c] = round3(mixed[i]!);
  });
  return {
    category: CATEGORIES[best]!,
    complexity: builtin.complexity,
    complexityScore: builtin.complexityScore,
    confidence: round3(mixed[best]!),
    categoryScores,
  };
}
