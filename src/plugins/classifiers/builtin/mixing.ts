/**
 * Mixes the category probabilities of the last user turn with those of the earlier conversation.
 *
 * The context's share grows when the last turn is unsure of itself and when it is very short: "why?"
 * or "now make it faster" inherit the discussion's category, while "write a poem about autumn" after
 * an hour of debugging is a poem. The two parameters are fitted by the training script on
 * multi-turn conversations and stored with the weights.
 */
export interface MixingParams {
  /** Context share per unit of the last turn's uncertainty (1 - its top probability). */
  alpha: number;
  /** Extra context share for a very short last turn. */
  beta: number;
}

export const DEFAULT_MIXING: MixingParams = { alpha: 0.8, beta: 0.3 };
/** The last turn always keeps some say. */
const MAX_CONTEXT_SHARE = 0.85;

export function shortness(words: number): number {
  if (words <= 3) return 1;
  if (words <= 6) return 0.6;
  if (words <= 12) return 0.25;
  return 0;
}

export function contextShare(lastProbabilities: Float64Array, lastWords: number, params: MixingParams): number {
  let top = 0;
  for (const p of lastProbabilities) if (p > top) top = p;
  const share = params.alpha * (1 - top) + params.beta * shortness(lastWords);
  return Math.max(0, Math.min(MAX_CONTEXT_SHARE, share));
}

/** Probabilities for the whole conversation. Either side may be missing (no context, or no user turn). */
export function mix(
  last: Float64Array | null,
  context: Float64Array | null,
  lastWords: number,
  params: MixingParams,
): Float64Array {
  if (!context) return last ?? new Float64Array(0);
  if (!last) return context;
  const share = contextShare(last, lastWords, params);
  const out = new Float64Array(last.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - share) * last[i] + share * context[i];
  return out;
}
