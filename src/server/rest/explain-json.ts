/**
 * The JSON shape of explanations and decision candidates (snake_case like the rest of the REST API).
 * Factors are shown weighted, as RouterService.Explain and AdminService.ListDecisions show them: each
 * the amount it adds to total_score, so they sum to it (weightedFactors, one weighting for every door).
 */
import { effectiveWeights, weightedFactors, type ScoringWeights } from '../../core/scoring.js';
import type { CandidateExplanation, Explanation } from '../../core/types.js';

/** Candidates with their factors weighted by the configured weights at the request's quality preference. */
export function weightedCandidates(candidates: readonly CandidateExplanation[], weights: ScoringWeights, qualityPreference: number): CandidateExplanation[] {
  const w = effectiveWeights(weights, qualityPreference);
  return candidates.map((c) => (c.factors ? { ...c, factors: weightedFactors(c.factors, w) } : c));
}

export function explanationJson(e: Explanation, weights: ScoringWeights) {
  return {
    category: e.category,
    complexity: e.complexity,
    complexity_score: e.complexityScore,
    confidence: e.confidence,
    classifier: e.classifier,
    needs: { vision: e.needs.vision, tools: e.needs.tools, json: e.needs.json, min_context_tokens: e.needs.minContextTokens ?? null },
    quality_preference: e.qualityPreference,
    selected_model: e.selectedModel,
    candidates: candidatesJson(weightedCandidates(e.candidates, weights, e.qualityPreference)),
  };
}

/** Candidates in snake_case, factors as given (callers pass them through weightedCandidates). */
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
