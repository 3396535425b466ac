/** RouterSettings for tests that build the core Router directly (no config, no server). */
import type { RouterSettings } from '../../src/core/router.js';

export const TEST_ROUTER_SETTINGS: RouterSettings = {
  externalModelName: 'smarterrouter/main',
  aliases: [],
  qualityPreference: 0.5,
  weights: { capability: 0.4, benchmark: 0.3, speed: 0.2, recency: 0.1 },
  cascadingEnabled: true,
  cascadingMaxAttempts: 3,
  feedbackEnabled: true,
  firstTokenTimeoutMs: 5000,
  generationTimeoutMs: 10_000,
};
