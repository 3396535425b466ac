/**
 * classify(): conversation -> category (linear model over features.ts, mixed over turns) +
 * complexity (complexity.ts). Pure and synchronous; the weights are loaded and every pattern is
 * compiled once, when the module loads.
 */
import type { Category, Classification, ClassificationInput } from '../../../plugin-api/index.js';
import { weightConversation } from './conversation.js';
import { LinearModel, type ModelWeights } from './model.js';
import { DEFAULT_MIXING, mix, type MixingParams } from './mixing.js';
import { scoreParts } from './predict.js';
import { scoreComplexity } from './complexity.js';
import weightsJson from './weights.json' with { type: 'json' };

const weights = weightsJson as unknown as ModelWeights;
const model = new LinearModel(weights);
const mixing: MixingParams = weights.mixing ?? DEFAULT_MIXING;

/** A conversation with no text at all gets the safe default route. */
function emptyClassification(): Classification {
  return {
    category: 'general',
    complexity: 'simple',
    complexityScore: 0.05,
    confidence: 0.4,
    categoryScores: { coding: 0.2, reasoning: 0.2, creativity: 0.2, general: 0.4 },
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

const BACKGROUND_TASK = { complexity: 'simple' as const, complexityScore: 0.1 };

export function classify(input: ClassificationInput): Classification {
  const conversation = weightConversation(input?.messages);
  const { last, context } = conversation;
  if (!last.text.trim() && context.length === 0) return emptyClassification();

  const parts = scoreParts(model, conversation);
  const probabilities = mix(parts.last, parts.context, parts.lastWords, mixing, parts.cue);
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
  const categoryScores: Partial<Record<Category, number>> = {};
  model.classes.forEach((c, i) => {
    categoryScores[c] = round3(probabilities[i]);
  });
  // A background task over a quoted chat (a title, tags, follow-up questions) is labelling: the
  // smallest chat model does it well, and a long template of guidelines must not make it "hard".
  const { complexity, complexityScore } = conversation.quotedHistory ? BACKGROUND_TASK : scoreComplexity(last, context);
  return {
    category: model.classes[best],
    complexity,
    complexityScore,
    confidence: round3(probabilities[best]),
    categoryScores,
  };
}
