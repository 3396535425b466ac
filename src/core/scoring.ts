/**
 * The routing score: given the classified request and the model registry snapshot, which models may
 * answer and in what order. Pure and synchronous (no I/O, no framework) so the router, the explain
 * endpoint and a worker can all call it, and tests can pin its behaviour exactly.
 *
 * total = wC'·capability + wB'·benchmark + wS'·speed + wR·recency     (each factor 0..1)
 *       + feedback + sizePenalty + vram                               (additive adjustments)
 * with wC' = wC·2q, wB' = wB·2q, wS' = wS·2(1−q) for quality preference q. docs/routing.md explains
 * every term and constant.
 */
import type { Category, Complexity, ModelCapabilities } from '../plugin-api/index.js';
import { modelHints, priorCapability, priorTokensPerSecond } from './model-priors.js';

export interface RoutableModel {
  /** Router-wide id, e.g. "qwen2.5-coder:32b" or "gpu/llama3.1:8b". */
  key: string;
  /** Backend instance name. */
  backend: string;
  /** Backend-local id. */
  modelId: string;
  family?: string;
  parameterCountB?: number;
  quantization?: string;
  contextLength?: number;
  capabilities: ModelCapabilities;
  /** False when the model vanished from its backend, or its backend failed its health checks. */
  available: boolean;
  profile?: {
    /** Judge scores 0..1 per category. */
    scores: Partial<Record<Category, number>>;
    tokensPerSecond?: number;
    ttftMs?: number;
  };
  benchmark?: {
    /** 0..1 */
    overall?: number;
    /** 0..1 */
    byCategory?: Partial<Record<Category, number>>;
  };
  /** loaded: in memory now; fits: would fit in the VRAM budget if loaded. */
  vram?: { loaded: boolean; fits: boolean };
}

export interface RouteNeeds {
  vision: boolean;
  tools: boolean;
  /** JSON output is attempted by any chat model (and validated downstream), so it never excludes. */
  json: boolean;
  minContextTokens?: number;
}

export interface ScoringWeights {
  capability: number;
  benchmark: number;
  speed: number;
  recency: number;
}

export interface ScoringInput {
  models: readonly RoutableModel[];
  category: Category;
  complexity: Complexity;
  complexityScore: number;
  needs: RouteNeeds;
  /** 0 speed .. 1 quality. */
  qualityPreference: number;
  /** Defaults 0.4 / 0.3 / 0.2 / 0.1 (DEFAULT_WEIGHTS). */
  weights: ScoringWeights;
  /** 0..1: share of recent decisions that went to this model. */
  recentShare?: (key: string) => number;
  /** Mean user feedback -1..1 for this model and category, undefined when there is none. */
  feedback?: (key: string, category: Category) => number | undefined;
}

/**
 * capability, benchmark, speed and recency are the raw 0..1 factor values (before weighting);
 * feedback, sizePenalty and vram are the amounts actually added to the total.
 */
export interface CandidateFactors {
  capability: number;
  benchmark: number;
  speed: number;
  recency: number;
  feedback: number;
  sizePenalty: number;
  vram: number;
}

export interface ScoredCandidate {
  key: string;
  backend: string;
  modelId: string;
  total: number;
  factors: CandidateFactors;
  /** Factors taken from priors, not measurements ("capability", "benchmark", "speed", "sizePenalty"). */
  estimated: string[];
}

export interface ExcludedCandidate {
  key: string;
  backend: string;
  reason: string;
}

export interface ScoringResult {
  /** Best first; ties broken by key. */
  ranked: ScoredCandidate[];
  /** Sorted by key. */
  excluded: ExcludedCandidate[];
  /**
   * Listed chat models that could answer the request if they were available (its images, tools and
   * context fit them). With chat models listed but none of them capable, the request itself asks
   * for something this router cannot do: a client error, not an outage.
   */
  capable: number;
  /** Listed models that chat at all. */
  chatModels: number;
}

/**
 * Smallest model (billions of parameters) that should answer a category at a complexity. Frozen:
 * this is routing policy, and a caller mutating it would silently change every later decision.
 */
export const MIN_SIZE_B: Record<Category, Record<Complexity, number>> = Object.freeze({
  coding: Object.freeze({ simple: 0, medium: 4, hard: 8 }),
  reasoning: Object.freeze({ simple: 0, medium: 4, hard: 8 }),
  creativity: Object.freeze({ simple: 0, medium: 1, hard: 4 }),
  general: Object.freeze({ simple: 0, medium: 1, hard: 4 }),
});

/** The original router's README weights; also the ROUTER_WEIGHT_* defaults. */
export const DEFAULT_WEIGHTS: ScoringWeights = Object.freeze({ capability: 0.4, benchmark: 0.3, speed: 0.2, recency: 0.1 });

/**
 * Mean feedback (-1..1) times this is added to the total: at most ±0.1, enough to flip a close call
 * between comparable models, far too little to lift a clearly weaker model over a strong one.
 */
export const FEEDBACK_WEIGHT = 0.1;
/** Penalty per unit of relative size deficit: the "-10 x deficit" on the 0..1 score scale. */
export const SIZE_PENALTY_PER_DEFICIT = 10;
/** A loaded model answers without a cold load (seconds to tens of seconds): a small nudge. */
export const VRAM_LOADED_BONUS = 0.05;
/** A model that would not fit must evict others or spill to CPU; strong, but below exclusion. */
export const VRAM_NO_FIT_PENALTY = -0.2;

/**
 * Speed scale: log of tokens/s between 2 tok/s (unusable, 0) and 400 tok/s (1). A log scale because
 * a 2x speed-up matters equally at 10 and at 100 tok/s; an absolute scale (not relative to the
 * candidate set) so a model's score does not change when some other model comes or goes, and so the
 * size-based estimate and a measurement land on the same axis.
 */
const TPS_FLOOR = 2;
const TPS_SPAN = Math.log(400 / TPS_FLOOR);
/** Time to first token: 100 ms (1) .. 10 s (0), log scale; it contributes this share of speed. */
const TTFT_BEST_MS = 100;
const TTFT_SPAN = Math.log(10_000 / TTFT_BEST_MS);
const TTFT_SHARE = 0.2;
/** Speed factor of a model with neither a measurement nor a known size. */
const UNKNOWN_SPEED = 0.5;

/**
 * The weights after the quality preference q (0..1): quality factors ×2q, speed ×2(1−q), recency
 * unchanged. q = 0.5 gives exactly the configured weights; q = 1 ignores speed; q = 0 ignores quality.
 */
export function effectiveWeights(weights: ScoringWeights, qualityPreference: number): ScoringWeights {
  const q = unit(qualityPreference, 0.5);
  return {
    capability: nonNegative(weights.capability) * 2 * q,
    benchmark: nonNegative(weights.benchmark) * 2 * q,
    speed: nonNegative(weights.speed) * 2 * (1 - q),
    recency: nonNegative(weights.recency),
  };
}

/**
 * A candidate's factors as every door shows them: each the amount it adds to the total, so they sum
 * to it. The scorer keeps capability, benchmark, speed and recency raw (0..1) and multiplies them by
 * the effective weights (`w`, from effectiveWeights with the request's quality preference); feedback,
 * size penalty and VRAM are added as they are. One function for RouterService.Explain, the decision
 * logs and REST /admin/explain, so the doors cannot drift apart.
 */
export function weightedFactors(f: CandidateFactors, w: ScoringWeights): CandidateFactors {
  return {
    capability: w.capability * f.capability,
    benchmark: w.benchmark * f.benchmark,
    speed: w.speed * f.speed,
    recency: w.recency * f.recency,
    feedback: f.feedback,
    sizePenalty: f.sizePenalty,
    vram: f.vram,
  };
}

/**
 * Penalty for a model below the category/complexity minimum: -10 × (minimum − size) / minimum, i.e.
 * -10 per whole minimum missing. 0 when the size is unknown or the minimum is 0.
 */
export function sizePenalty(category: Category, complexity: Complexity, parameterCountB: number | undefined): number {
  const minimum = MIN_SIZE_B[category][complexity];
  if (parameterCountB === undefined || minimum <= 0 || parameterCountB >= minimum) return 0;
  return (-SIZE_PENALTY_PER_DEFICIT * (minimum - parameterCountB)) / minimum;
}

/** Speed factor (0..1) of a generation rate in tokens/s on the absolute log scale. */
export function throughputScore(tokensPerSecond: number): number {
  return unit(Math.log(tokensPerSecond / TPS_FLOOR) / TPS_SPAN, 0);
}

/** Why a model cannot answer this request, or undefined when it can. */
export function exclusionReason(model: RoutableModel, needs: RouteNeeds): string | undefined {
  return model.available ? capabilityGap(model, needs) : NOT_AVAILABLE;
}

const NOT_AVAILABLE = 'not available (gone from its backend, or the backend is down)';

/** Why the model could not answer the request even when available, or undefined when it could. */
export function capabilityGap(model: RoutableModel, needs: RouteNeeds): string | undefined {
  const caps = model.capabilities;
  if (!caps.chat) return caps.embeddings ? 'embedding model, cannot chat' : 'no chat capability';
  if (needs.vision && !caps.vision) return 'request has images but the model has no vision';
  if (needs.tools && !caps.tools) return 'request uses tools but the model has no tool calling';
  const min = needs.minContextTokens;
  if (min !== undefined && model.contextLength !== undefined && model.contextLength < min) {
    return `context window ${model.contextLength} tokens is smaller than the ${min} needed`;
  }
  return undefined;
}

export function scoreCandidates(input: ScoringInput): ScoringResult {
  const { category, complexity, needs, recentShare, feedback } = input;
  const w = effectiveWeights(input.weights, input.qualityPreference);
  const complexityScore = unit(input.complexityScore, 0.5);
  const ranked: ScoredCandidate[] = [];
  const excluded: ExcludedCandidate[] = [];

  let capable = 0;
  let chatModels = 0;
  for (const model of input.models) {
    const gap = capabilityGap(model, needs);
    if (model.capabilities.chat) chatModels++;
    if (gap === undefined) capable++;
    // Availability first: an unreachable model is reported as that, whatever else it lacks.
    const reason = model.available ? gap : NOT_AVAILABLE;
    if (reason !== undefined) {
      excluded.push({ key: model.key, backend: model.backend, reason });
      continue;
    }

    const hints = modelHints(model);
    const estimated: string[] = [];
    // The prior is computed at most once and only when some quality factor lacks a measurement.
    let prior = -1;

    let capability = measured(model.profile?.scores[category]);
    if (capability < 0) {
      capability = prior = priorCapability(hints, category, complexityScore);
      estimated.push('capability');
    }

    const bench = model.benchmark;
    let benchmark = measured(bench?.byCategory?.[category]);
    if (benchmark < 0) benchmark = measured(bench?.overall);
    if (benchmark < 0) {
      benchmark = prior >= 0 ? prior : priorCapability(hints, category, complexityScore);
      estimated.push('benchmark');
    }

    let speed: number;
    const tps = positive(model.profile?.tokensPerSecond);
    const tpsEstimate = tps > 0 ? tps : priorTokensPerSecond(hints);
    if (tps <= 0) estimated.push('speed');
    speed = tpsEstimate === undefined ? UNKNOWN_SPEED : throughputScore(tpsEstimate);
    const ttft = positive(model.profile?.ttftMs);
    if (ttft > 0) {
      const ttftScore = unit(1 - Math.log(ttft / TTFT_BEST_MS) / TTFT_SPAN, 0);
      speed = (1 - TTFT_SHARE) * speed + TTFT_SHARE * ttftScore;
    }

    const recency = recentShare === undefined ? 1 : 1 - unit(recentShare(model.key), 0);

    const meanFeedback = feedback?.(model.key, category);
    const feedbackTerm =
      meanFeedback === undefined || !Number.isFinite(meanFeedback) ? 0 : FEEDBACK_WEIGHT * clamp(meanFeedback, -1, 1);

    const penalty = sizePenalty(category, complexity, hints.parameterCountB);
    if (penalty !== 0 && hints.sizeFromName) estimated.push('sizePenalty');

    const vram = model.vram === undefined ? 0 : model.vram.loaded ? VRAM_LOADED_BONUS : model.vram.fits ? 0 : VRAM_NO_FIT_PENALTY;

    const total =
      w.capability * capability +
      w.benchmark * benchmark +
      w.speed * speed +
      w.recency * recency +
      feedbackTerm +
      penalty +
      vram;

    ranked.push({
      key: model.key,
      backend: model.backend,
      modelId: model.modelId,
      total,
      factors: { capability, benchmark, speed, recency, feedback: feedbackTerm, sizePenalty: penalty, vram },
      estimated,
    });
  }

  ranked.sort(byTotalThenKey);
  excluded.sort(byKey);
  return { ranked, excluded, capable, chatModels };
}

function byTotalThenKey(a: ScoredCandidate, b: ScoredCandidate): number {
  return b.total - a.total || byKey(a, b);
}

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** A measured 0..1 score, clamped; -1 when absent or not a number (so the prior is used). */
function measured(x: number | undefined): number {
  return x === undefined || !Number.isFinite(x) ? -1 : clamp(x, 0, 1);
}

/** x when it is a positive finite number, else 0. */
function positive(x: number | undefined): number {
  return x !== undefined && Number.isFinite(x) && x > 0 ? x : 0;
}

/** x clamped to 0..1; `fallback` when x is not a number (a bad callback must not poison the sort). */
function unit(x: number, fallback: number): number {
  return Number.isFinite(x) ? clamp(x, 0, 1) : fallback;
}

function nonNegative(x: number): number {
  return Number.isFinite(x) && x > 0 ? x : 0;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
