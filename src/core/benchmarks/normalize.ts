/**
 * Benchmark ids, their 0..1 normalisation and the per-category aggregation the router uses.
 *
 * Normalisation: accuracy-style benchmarks are published as percentages and divided by 100; arena
 * ratings (Elo-like) are mapped linearly from ARENA_ELO_RANGE to 0..1 and clamped.
 *
 * Aggregation: each benchmark contributes to categories with a weight (BENCHMARKS below). A
 * category's score is the weighted mean of the benchmarks that reach it, where a benchmark reported
 * by several sources counts once, as the mean of its sources. Creativity has no public benchmark of
 * its own: the arena rating (human preference over open-ended chat, much of it writing) is the only
 * proxy, so creativity is present only when an arena rating is.
 *
 * Some benchmarks are stored but weigh nothing (GPQA, AIME, LiveCodeBench): they sit on a much
 * harder scale than HumanEval/MATH, so averaging them in would mark down exactly the models that
 * report them (a reasoning distill with 38% on LiveCodeBench codes better than its number suggests
 * next to another model's 85% on HumanEval).
 */
import type { Category } from '../../plugin-api/index.js';
import type { BenchmarkRow } from './types.js';

export type BenchmarkScale = 'percent' | 'elo';

export interface BenchmarkSpec {
  id: string;
  scale: BenchmarkScale;
  /** Contribution to each category's weighted mean (missing = 0). */
  weights: Partial<Record<Category, number>>;
  /** Lower-case spellings seen in model cards, leaderboards and CSV headers. */
  aliases: readonly string[];
  description: string;
}

/** Elo-like arena ratings map linearly from this range to 0..1 (clamped): 1000 -> 0, 1400 -> 1. */
export const ARENA_ELO_RANGE = Object.freeze({ min: 1000, max: 1400 });

export const BENCHMARKS: readonly BenchmarkSpec[] = Object.freeze([
  { id: 'MMLU', scale: 'percent', weights: { general: 1 }, aliases: ['mmlu', 'mmlu (5-shot)', 'mmlu (cot)'], description: 'Massive Multitask Language Understanding, 57 subjects.' },
  { id: 'MMLU-Pro', scale: 'percent', weights: { general: 1, reasoning: 0.5 }, aliases: ['mmlu-pro', 'mmlu pro', 'mmlu_pro', 'mmlu-pro (cot)', 'mmlupro'], description: 'Harder 10-option MMLU with more reasoning questions.' },
  { id: 'GSM8K', scale: 'percent', weights: { reasoning: 1 }, aliases: ['gsm8k', 'gsm-8k', 'gsm 8k', 'gsm8k (cot)', 'gsm-8k (cot)'], description: 'Grade-school maths word problems.' },
  { id: 'MATH', scale: 'percent', weights: { reasoning: 1 }, aliases: ['math', 'math (cot)'], description: 'Competition mathematics (Hendrycks MATH).' },
  { id: 'MATH-500', scale: 'percent', weights: { reasoning: 1 }, aliases: ['math-500', 'math500', 'math 500'], description: 'The 500-problem MATH subset used by reasoning-model reports.' },
  { id: 'MATH-Lvl-5', scale: 'percent', weights: { reasoning: 0.5 }, aliases: ['math lvl 5', 'math-lvl-5', 'math_lvl_5', 'math level 5'], description: 'Hardest MATH level (Open LLM Leaderboard v2).' },
  { id: 'HumanEval', scale: 'percent', weights: { coding: 1 }, aliases: ['humaneval', 'human-eval', 'human eval'], description: 'Python function synthesis, pass@1.' },
  { id: 'MBPP', scale: 'percent', weights: { coding: 1 }, aliases: ['mbpp', 'mbpp+', 'mbpp evalplus', 'mbpp ++ base version'], description: 'Mostly Basic Python Problems, pass@1.' },
  { id: 'EvalPlus', scale: 'percent', weights: { coding: 1 }, aliases: ['evalplus'], description: 'Average of HumanEval, MBPP, HumanEval+ and MBPP+.' },
  { id: 'Arena', scale: 'elo', weights: { general: 1, creativity: 1 }, aliases: ['arena', 'arena elo', 'arena_elo', 'arena score', 'arena_score', 'elo', 'rating', 'lmarena', 'chatbot arena'], description: 'Chatbot Arena / LMArena human-preference rating (Elo-like).' },
  { id: 'MMMU', scale: 'percent', weights: { general: 0.5 }, aliases: ['mmmu', 'mmmu (val)'], description: 'College-level multimodal questions (image + text).' },
  { id: 'IFEval', scale: 'percent', weights: { general: 0.5 }, aliases: ['ifeval'], description: 'Verifiable instruction following.' },
  { id: 'BBH', scale: 'percent', weights: { reasoning: 0.5 }, aliases: ['bbh', 'big-bench hard', 'bigbench hard'], description: 'BIG-Bench Hard.' },
  { id: 'MuSR', scale: 'percent', weights: { reasoning: 0.5 }, aliases: ['musr'], description: 'Multistep soft reasoning (Open LLM Leaderboard v2).' },
  { id: 'GPQA', scale: 'percent', weights: {}, aliases: ['gpqa', 'gpqa diamond', 'gpqa-diamond'], description: 'Graduate-level science questions (stored, not aggregated).' },
  { id: 'AIME-2024', scale: 'percent', weights: {}, aliases: ['aime 2024', 'aime-2024', 'aime2024', 'aime'], description: 'AIME 2024 pass@1 (stored, not aggregated).' },
  { id: 'LiveCodeBench', scale: 'percent', weights: {}, aliases: ['livecodebench', 'live code bench', 'lcb'], description: 'Contamination-free coding problems (stored, not aggregated).' },
] satisfies BenchmarkSpec[]);

const BY_ID = new Map(BENCHMARKS.map((b) => [b.id, b]));
const BY_ALIAS = new Map<string, BenchmarkSpec>();
for (const b of BENCHMARKS) {
  BY_ALIAS.set(b.id.toLowerCase(), b);
  for (const alias of b.aliases) BY_ALIAS.set(alias, b);
}

/** The canonical id of a benchmark name ("gsm-8k" -> "GSM8K"), or undefined when unknown. */
export function canonicalBenchmark(name: string): string | undefined {
  const key = name.trim().toLowerCase().replace(/\s+/g, ' ');
  return BY_ALIAS.get(key)?.id ?? BY_ALIAS.get(key.replace(/[\s_]+/g, '-'))?.id;
}

export function benchmarkSpec(id: string): BenchmarkSpec | undefined {
  return BY_ID.get(id) ?? BY_ALIAS.get(id.toLowerCase());
}

/**
 * A published score on 0..1: percentages / 100, arena ratings through ARENA_ELO_RANGE, clamped.
 * Unknown benchmarks are read as percentages. Returns undefined for a non-finite score.
 */
export function normalizeScore(benchmark: string, score: number): number | undefined {
  if (!Number.isFinite(score)) return undefined;
  const spec = benchmarkSpec(benchmark);
  if (spec?.scale === 'elo') return clamp01((score - ARENA_ELO_RANGE.min) / (ARENA_ELO_RANGE.max - ARENA_ELO_RANGE.min));
  return clamp01(score / 100);
}

export interface CategoryScores {
  /** Broad 0..1 summary: the mean of the category scores, when general or at least two categories are known. */
  overall?: number;
  byCategory: Partial<Record<Category, number>>;
}

const CATEGORY_ORDER: readonly Category[] = ['coding', 'reasoning', 'creativity', 'general'];

/**
 * Per-category 0..1 scores from a model's rows (all rows of one entry, possibly from several sources).
 * `overall` is left out when only one narrow category is known (e.g. a reasoning distill with only
 * MATH-500), because the scorer falls back to `overall` for the other categories and one narrow
 * strength says little about them.
 */
export function categoryScores(rows: readonly Pick<BenchmarkRow, 'benchmark' | 'normalized'>[]): CategoryScores {
  const perBenchmark = new Map<string, { sum: number; n: number }>();
  for (const row of rows) {
    if (!Number.isFinite(row.normalized)) continue;
    const id = benchmarkSpec(row.benchmark)?.id ?? row.benchmark;
    const acc = perBenchmark.get(id) ?? { sum: 0, n: 0 };
    acc.sum += clamp01(row.normalized);
    acc.n += 1;
    perBenchmark.set(id, acc);
  }
  const totals = new Map<Category, { sum: number; weight: number }>();
  for (const [id, acc] of perBenchmark) {
    const spec = BY_ID.get(id);
    if (spec === undefined) continue;
    const value = acc.sum / acc.n;
    for (const category of CATEGORY_ORDER) {
      const weight = spec.weights[category] ?? 0;
      if (weight <= 0) continue;
      const t = totals.get(category) ?? { sum: 0, weight: 0 };
      t.sum += weight * value;
      t.weight += weight;
      totals.set(category, t);
    }
  }
  const byCategory: Partial<Record<Category, number>> = {};
  for (const category of CATEGORY_ORDER) {
    const t = totals.get(category);
    if (t !== undefined && t.weight > 0) byCategory[category] = round4(t.sum / t.weight);
  }
  const known = CATEGORY_ORDER.filter((c) => byCategory[c] !== undefined);
  const result: CategoryScores = { byCategory };
  if (known.length >= 2 || byCategory.general !== undefined) {
    result.overall = round4(known.reduce((s, c) => s + byCategory[c]!, 0) / known.length);
  }
  return result;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
