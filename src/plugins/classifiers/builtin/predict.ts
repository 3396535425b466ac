/**
 * The last user turn and the context are scored separately by the same linear model; mixing.ts
 * combines them. Shared by classify() and the training script, so what is measured is what runs.
 */
import { countWords, type WeightedConversation } from './conversation.js';
import { featurizeLastTurn, featurizeSegments } from './features.js';
import type { LinearModel } from './model.js';
import { continuationCue, SHORT_TURN_WORDS } from './mixing.js';

export interface ConversationScores {
  /** Probabilities of the last user turn alone (null when there is none). */
  last: Float64Array | null;
  /** Probabilities of the context alone (null when there is none). */
  context: Float64Array | null;
  lastWords: number;
  /** continuationCue() of the last turn. */
  cue: number;
}

export function scoreParts(model: LinearModel, conversation: WeightedConversation): ConversationScores {
  const { last, context } = conversation;
  return {
    last: last.text.trim() ? model.predict(featurizeLastTurn(conversation)) : null,
    context: context.length > 0 ? model.predict(featurizeSegments(context)) : null,
    // shortness() in mixing.ts only tells apart turns of up to 12 words.
    lastWords: countWords(last.text, SHORT_TURN_WORDS + 1),
    cue: context.length > 0 ? continuationCue(last.text) : 0,
  };
}
