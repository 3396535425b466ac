/**
 * AdminService.ListDecisions and WatchDecisions: the routing decision log, listed or followed live.
 * The REST twin is GET /admin/decisions (rest/admin-decisions.ts); both read the same store.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { Category as ProtoCategory } from '../../../gen/smarterrouter/v1/common_pb.js';
import {
  type AdminService,
  type Decision,
  DecisionSchema,
  ListDecisionsResponseSchema,
  WatchDecisionsResponseSchema,
} from '../../../gen/smarterrouter/v1/admin_pb.js';
import { matchesQuery, type DecisionData, type DecisionStore } from '../../core/decisions.js';
import { effectiveWeights, type ScoringWeights } from '../../core/scoring.js';
import type { Category, Complexity } from '../../plugin-api/index.js';
import { DEFAULT_DECISIONS, MAX_DECISIONS } from '../rest/admin-decisions.js';
import { CACHE_STATUSES, CATEGORIES, COMPLEXITIES, toProtoCandidates } from './proto-mapping.js';

/** Decisions waiting for a slow watcher; beyond this the oldest are dropped (a live view, not a log). */
const WATCH_BUFFER = 1000;

const CATEGORY_NAMES = new Map<ProtoCategory, Category>(Object.entries(CATEGORIES).map(([name, value]) => [value, name as Category]));

function categoryFilter(value: ProtoCategory): string | undefined {
  if (value === ProtoCategory.UNSPECIFIED) return undefined;
  const name = CATEGORY_NAMES.get(value);
  if (!name) throw new ConnectError(`unknown category ${value}`, Code.InvalidArgument);
  return name;
}

export function toProtoDecision(d: DecisionData, weights: ScoringWeights): Decision {
  return create(DecisionSchema, {
    responseId: d.responseId,
    requestId: d.requestId ?? '',
    createdAt: timestampFromDate(d.createdAt),
    protocol: d.protocol,
    category: CATEGORIES[d.category as Category] ?? ProtoCategory.UNSPECIFIED,
    complexity: COMPLEXITIES[d.complexity as Complexity] ?? 0,
    complexityScore: d.complexityScore,
    selectedModel: d.selectedModel ?? '',
    status: d.status,
    routed: d.routed,
    qualityPreference: d.qualityPreference,
    latencyMs: d.latencyMs,
    cache: CACHE_STATUSES[d.cache],
    attempts: d.attempts.map((a) => ({
      model: a.model,
      backend: a.backend,
      error: a.ok ? '' : a.error ? `${a.error.code}: ${a.error.message}` : 'failed',
      durationMs: a.durationMs,
    })),
    candidates: toProtoCandidates(d.candidates, effectiveWeights(weights, d.qualityPreference)),
  });
}

export function createDecisionAdmin(deps: { store: DecisionStore; weights: ScoringWeights }): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async listDecisions(req) {
      if (req.limit > MAX_DECISIONS) throw new ConnectError(`limit must be at most ${MAX_DECISIONS}`, Code.InvalidArgument);
      if (req.model.length > 256) throw new ConnectError('model must be at most 256 characters', Code.InvalidArgument);
      const decisions = await deps.store.list({ limit: req.limit || DEFAULT_DECISIONS, model: req.model || undefined, category: categoryFilter(req.category) });
      return create(ListDecisionsResponseSchema, { decisions: decisions.map((d) => toProtoDecision(d, deps.weights)) });
    },

    async *watchDecisions(req, context) {
      const filter = { model: req.model || undefined, category: categoryFilter(req.category) };
      const pending: DecisionData[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = deps.store.subscribe((d) => {
        if (!matchesQuery(d, filter)) return;
        pending.push(d);
        if (pending.length > WATCH_BUFFER) pending.shift();
        wake?.();
      });
      const onAbort = () => wake?.();
      context.signal.addEventListener('abort', onAbort);
      try {
        while (!context.signal.aborted) {
          if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          while (pending.length && !context.signal.aborted) {
            yield create(WatchDecisionsResponseSchema, { decision: toProtoDecision(pending.shift()!, deps.weights) });
          }
        }
      } finally {
        unsubscribe();
        context.signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
