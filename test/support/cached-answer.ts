/** A small cached answer (one text delta, then a finish) for cache tests. */
import type { CachedAnswer } from '../../src/core/cache/answer.js';

export const cachedAnswer = (model = 'm1', text = 'hi'): CachedAnswer => ({
  parts: [
    { type: 'text-delta', delta: text },
    { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } },
  ],
  model,
  backend: 'b',
  category: 'general',
  complexity: 'simple',
  complexityScore: 0.1,
});
