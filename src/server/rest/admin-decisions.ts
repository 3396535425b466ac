/**
 * GET /admin/decisions: recent routing decisions, newest first, with their candidates and attempts.
 * The AdminService twin is ListDecisions (connect/admin-decisions.ts); both read the same store.
 */
import type { FastifyInstance } from 'fastify';
import { whitelistedQuery } from './query.js';
import type { DecisionData, DecisionStore } from '../../core/decisions.js';
import { CATEGORIES } from '../../plugin-api/index.js';
import type { ScoringWeights } from '../../core/scoring.js';
import { candidatesJson, weightedCandidates } from './explain-json.js';

export const MAX_DECISIONS = 500;
export const DEFAULT_DECISIONS = 50;

/** A stored decision; its candidates' factors weighted as at its quality preference (see explain-json.ts). */
export function decisionJson(d: DecisionData, weights: ScoringWeights) {
  return {
    response_id: d.responseId,
    request_id: d.requestId ?? null,
    created_at: d.createdAt.toISOString(),
    protocol: d.protocol,
    category: d.category,
    complexity: d.complexity,
    complexity_score: d.complexityScore,
    selected_model: d.selectedModel,
    status: d.status,
    routed: d.routed,
    quality_preference: d.qualityPreference,
    latency_ms: d.latencyMs,
    cache: d.cache,
    attempts: d.attempts.map((a) => ({ model: a.model, backend: a.backend, ok: a.ok, duration_ms: a.durationMs, error: a.error ?? null })),
    candidates: candidatesJson(weightedCandidates(d.candidates, weights, d.qualityPreference)),
  };
}

export function adminDecisionRoutes(deps: { store: DecisionStore; weights: ScoringWeights }) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { limit?: number; model?: string; category?: string } }>(
      '/admin/decisions',
      // Whitelisted parameters only: anything else is a 400, never passed to the database.
      whitelistedQuery({
        limit: { type: 'integer', minimum: 1, maximum: MAX_DECISIONS },
        model: { type: 'string', minLength: 1, maxLength: 256 },
        category: { type: 'string', enum: [...CATEGORIES] },
      }),
      async (request) => {
        const { limit = DEFAULT_DECISIONS, model, category } = request.query;
        const decisions = await deps.store.list({ limit, model, category });
        return { decisions: decisions.map((d) => decisionJson(d, deps.weights)) };
      },
    );
  };
}
