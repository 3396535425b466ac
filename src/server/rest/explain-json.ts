/** The JSON shape of an explanation (snake_case like the rest of the REST API). */
import type { CandidateExplanation, Explanation } from '../../core/types.js';

export function explanationJson(e: Explanation) {
  return {
    category: e.category,
    complexity: e.complexity,
    complexity_score: e.complexityScore,
    confidence: e.confidence,
    classifier: e.classifier,
    needs: { vision: e.needs.vision, tools: e.needs.tools, json: e.needs.json, min_context_tokens: e.needs.minContextTokens ?? null },
    quality_preference: e.qualityPreference,
    selected_model: e.selectedModel,
    candidates: candidatesJson(e.candidates),
  };
}

/**
 * Candidates in snake_case. The factors are shown as given: /admin/explain passes them weighted (they
 * sum to total_score, as RouterService.Explain shows them); the REST decision log still shows the raw
 * 0..1 values it stored.
 */
export function candidatesJson(candidates: readonly CandidateExplanation[]) {
  return candidates.map((c) => ({
    model: c.model,
    backend: c.backend,
    total_score: c.total ?? null,
    factors: c.factors
      ? {
          capability: c.factors.capability,
          benchmark: c.factors.benchmark,
          speed: c.factors.speed,
          recency: c.factors.recency,
          feedback: c.factors.feedback,
          size_penalty: c.factors.sizePenalty,
          vram: c.factors.vram,
        }
      : null,
    estimated: c.estimated ?? [],
    excluded: c.excluded,
    reason: c.reason ?? null,
  }));
}
