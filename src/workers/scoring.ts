/**
 * Piscina worker entry for candidate scoring. Not on the request path: measured, a scoring task's
 * round trip to a worker costs far more than scoring inline (docs/performance.md, "Workers"), so the
 * router scores on the event loop. Kept so the measurement in bench/semantic.ts stays reproducible.
 *
 * The scorer's callbacks cannot cross a thread boundary, so the task carries their values as records.
 */
import type { Category } from '../plugin-api/index.js';
import { scoreCandidates, type ScoringInput, type ScoringResult } from '../core/scoring.js';

export interface ScoringTask extends Omit<ScoringInput, 'recentShare' | 'feedback'> {
  /** Model key → recent share 0..1. */
  recentShare: Record<string, number>;
  /** `${model key}/${category}` → mean feedback -1..1. */
  feedback: Record<string, number>;
}

export function score(task: ScoringTask): ScoringResult {
  return scoreCandidates({
    ...task,
    recentShare: (key) => task.recentShare[key] ?? 0,
    feedback: (key: string, category: Category) => task.feedback[`${key}/${category}`],
  });
}
