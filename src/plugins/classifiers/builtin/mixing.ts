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
  /** Extra context share for a turn that opens like a continuation ("and …", "what about …", "why?"); absent = 0. */
  gamma?: number;
}

export const DEFAULT_MIXING: MixingParams = { alpha: 0.8, beta: 0.3 };
/** The last turn always keeps some say. */
const MAX_CONTEXT_SHARE = 0.85;

/** Above this many words a turn gets no extra context share for being short. */
export const SHORT_TURN_WORDS = 12;

export function shortness(words: number): number {
  if (words <= 3) return 1;
  if (words <= 6) return 0.6;
  if (words <= SHORT_TURN_WORDS) return 0.25;
  return 0;
}

/**
 * A turn that opens like this continues the conversation rather than starting a new one, in any of the
 * languages the corpus covers: "and in europe?", "what about for 10 people", "why do you subtract from 1",
 * "und jetzt auf Deutsch", "et divisé par 6 ?". Only the first words are looked at.
 */
const CONTINUATION_RE =
  /^\s*(?:and|but|so|also|now|ok(?:ay)?|then|same|what about|how about|what if|why|why not|and if|und|aber|jetzt|et|mais|y|pero|e|mas|ma|e se|y si|et si)\b(?![\s\S]*\b(?:unrelated|different (?:topic|question|thing)|new (?:topic|question)|btw|by the way)\b)/i;

/** 1 when the last turn opens like a continuation of the conversation, else 0. */
export function continuationCue(text: string): number {
  return CONTINUATION_RE.test(text.slice(0, 300)) ? 1 : 0;
}

export function contextShare(lastProbabilities: Float64Array, lastWords: number, params: MixingParams, cue = 0): number {
  let top = 0;
  for (const p of lastProbabilities) if (p > top) top = p;
  const share = params.alpha * (1 - top) + params.beta * shortness(lastWords) + (params.gamma ?? 0) * cue;
  return Math.max(0, Math.min(MAX_CONTEXT_SHARE, share));
}

/** Probabilities for the whole conversation. Either side may be missing (no context, or no user turn). */
export function mix(
  last: Float64Array | null,
  context: Float64Array | null,
  lastWords: number,
  params: MixingParams,
  cue = 0,
): Float64Array {
  if (!context) return last ?? new Float64Array(0);
  if (!last) return context;
  const share = contextShare(last, lastWords, params, cue);
  const out = new Float64Array(last.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - share) * last[i] + share * context[i];
  return out;
}
