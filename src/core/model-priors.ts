/**
 * What the router believes about a model before anything has been measured.
 *
 * A freshly discovered model has no judge profile and often no benchmark entry, yet it must be
 * routable at once (profiling runs in the background and may take minutes per model). These priors
 * turn the little we do know — parameter count, family and name, capability flags — into the same
 * 0..1 scales the measured factors use, so measured and estimated models compete on one ranking and
 * a measurement simply replaces the guess when it arrives.
 *
 * Pure functions, no I/O. Name parsing is cached per model object because the registry hands the
 * scorer the same read-mostly snapshot objects on every request.
 */
import type { Category, ModelCapabilities } from '../plugin-api/index.js';

/** The fields of a routable model the priors read (a structural subset of RoutableModel). */
export interface PriorSource {
  modelId: string;
  family?: string;
  parameterCountB?: number;
  capabilities: Pick<ModelCapabilities, 'thinking'>;
}

export interface ModelHints {
  /** Parameter count in billions: the backend's figure, else read from the name, else undefined. */
  parameterCountB: number | undefined;
  /** True when parameterCountB was read from the name rather than reported by the backend. */
  sizeFromName: boolean;
  /** A code-tuned model (qwen2.5-coder, codestral, starcoder, deepseek-coder, codellama, ...). */
  coding: boolean;
  /** A reasoning-tuned or thinking model (qwq, deepseek-r1, *math*, *reason*, thinking capability). */
  reasoning: boolean;
  /** A vision-first model (llava, moondream, minicpm-v): built on older/smaller text models. */
  visionFirst: boolean;
}

// ---------------------------------------------------------------------------------------------
// Size scale

/** Smallest and largest sizes the log scale distinguishes: 0.5B is "weak", 70B and up "strong". */
const SCALE_MIN_B = 0.5;
const SCALE_MAX_B = 70;
const LOG_SCALE_SPAN = Math.log(SCALE_MAX_B / SCALE_MIN_B);

/** Position of a parameter count on the 0.5B..70B log scale, 0..1. */
export function sizeScale(parameterCountB: number): number {
  return clamp01(Math.log(parameterCountB / SCALE_MIN_B) / LOG_SCALE_SPAN);
}

// ---------------------------------------------------------------------------------------------
// Capability prior

/** Prior of a model whose size is unknown (hosted APIs, oddly named files): neither weak nor strong. */
export const UNKNOWN_SIZE_CAPABILITY = 0.5;

/** Centre of the size-based prior (the score of a model in the middle of the log scale, ~6B). */
const PRIOR_CENTRE = 0.55;
/**
 * Spread of the size-based prior between the smallest and largest model. It grows with the request's
 * complexity score because size matters little for easy prompts (a 3B model greets as well as a 70B
 * one) and a lot for hard ones; at complexityScore 0.5 the spread is 0.6.
 */
const SPREAD_MIN = 0.3;
const SPREAD_PER_COMPLEXITY = 0.6;

/** Per-category adjustments for name hints, added to the size-based prior. */
// Code-tuned models trade prose for code: a bonus on coding, a malus on creative writing.
const CODING_HINT: Record<Category, number> = { coding: 0.12, reasoning: 0, creativity: -0.1, general: -0.04 };
// Reasoning-tuned models think at length even for small talk, and their prose is plain.
const REASONING_HINT: Record<Category, number> = { coding: 0.03, reasoning: 0.12, creativity: -0.05, general: -0.05 };
/** Vision-first models trail same-size text models on text tasks (llava 13B is a llama-2-era model). */
const VISION_FIRST_HINT = -0.1;

/**
 * Prior capability (0..1) of a model for a category, used for both the capability and the
 * benchmark factor when nothing is measured: size on a log scale plus family/name hints.
 */
export function priorCapability(hints: ModelHints, category: Category, complexityScore: number): number {
  let score = UNKNOWN_SIZE_CAPABILITY;
  if (hints.parameterCountB !== undefined) {
    const spread = SPREAD_MIN + SPREAD_PER_COMPLEXITY * clamp01(complexityScore);
    score = PRIOR_CENTRE + spread * (sizeScale(hints.parameterCountB) - 0.5);
  }
  if (hints.coding) score += CODING_HINT[category];
  if (hints.reasoning) score += REASONING_HINT[category];
  if (hints.visionFirst) score += VISION_FIRST_HINT;
  return clamp01(score);
}

// ---------------------------------------------------------------------------------------------
// Speed prior

/**
 * Estimated generation speed from size. Decoding is memory-bandwidth bound, so tokens/s falls
 * roughly as 1/size; 800/B matches a current consumer GPU at Q4 (8B ~ 100 tok/s, 32B ~ 25 tok/s).
 * The estimate goes through the same scale as measured speeds, so it ranks consistently with them.
 * Returns undefined when the size is unknown.
 */
export function priorTokensPerSecond(hints: ModelHints): number | undefined {
  return hints.parameterCountB === undefined ? undefined : PRIOR_TPS_AT_1B / hints.parameterCountB;
}
const PRIOR_TPS_AT_1B = 800;

// ---------------------------------------------------------------------------------------------
// Name hints

const CODING_RE = /code|devstral/;
// "r1" only as a whole token (deepseek-r1, r1-1776), not inside other words or versions.
const REASONING_RE = /math|qwq|reason|think|(?:^|[^a-z0-9])r1(?:$|[^0-9])/;
const VISION_FIRST_RE = /llava|moondream|minicpm-v/;
/**
 * A size token: "32b", "3.8b", "135m", "8x7b" (mixture: total parameters), preceded by a separator
 * so "qwen2.5" is not a size and followed by a non-alphanumeric so "a3b" in "30b-a3b" is skipped.
 */
const SIZE_RE = /(?:^|[^a-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])(?![a-z0-9])/;
/** Names claiming more than this are not sizes (a date, a build number). */
const MAX_PLAUSIBLE_B = 5000;

/** Parameter count in billions read from a model name ("qwen2.5-coder:32b" -> 32), or undefined. */
export function parseParameterCountB(name: string): number | undefined {
  const match = SIZE_RE.exec(name.toLowerCase());
  if (match === null) return undefined;
  const experts = match[1] === undefined ? 1 : Number(match[1]);
  const value = Number(match[2]) * experts * (match[3] === 'm' ? 0.001 : 1);
  return value > 0 && value <= MAX_PLAUSIBLE_B ? value : undefined;
}

interface CachedHints {
  modelId: string;
  family: string | undefined;
  parameterCountB: number | undefined;
  thinking: boolean | undefined;
  hints: ModelHints;
}
const hintCache = new WeakMap<object, CachedHints>();

/**
 * Hints for a model, cached per model object. The cache entry remembers the fields it was built
 * from, so a snapshot object updated in place (a new size, a renamed model) is re-read, not stale.
 */
export function modelHints(model: PriorSource): ModelHints {
  const cached = hintCache.get(model);
  if (
    cached !== undefined &&
    cached.modelId === model.modelId &&
    cached.family === model.family &&
    cached.parameterCountB === model.parameterCountB &&
    cached.thinking === model.capabilities.thinking
  ) {
    return cached.hints;
  }
  const hints = computeHints(model);
  hintCache.set(model, {
    modelId: model.modelId,
    family: model.family,
    parameterCountB: model.parameterCountB,
    thinking: model.capabilities.thinking,
    hints,
  });
  return hints;
}

function computeHints(model: PriorSource): ModelHints {
  const name = model.family === undefined ? model.modelId.toLowerCase() : `${model.modelId} ${model.family}`.toLowerCase();
  const reported = model.parameterCountB;
  const reportedValid = reported !== undefined && Number.isFinite(reported) && reported > 0;
  const parsed = reportedValid ? undefined : parseParameterCountB(model.modelId);
  return {
    parameterCountB: reportedValid ? reported : parsed,
    sizeFromName: !reportedValid && parsed !== undefined,
    coding: CODING_RE.test(name),
    reasoning: model.capabilities.thinking === true || REASONING_RE.test(name),
    visionFirst: VISION_FIRST_RE.test(name),
  };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
