/**
 * The statistics behind AdminService.GetStats and GET /admin/stats, read from the metric registry
 * (the numbers /metrics shows) plus the health prober and the circuit breakers for backend health.
 */
import type { BackendHealth } from '../../core/backend-health.js';
import type { CircuitBreakers } from '../../core/circuit-breaker.js';
import type { CacheKind } from '../../core/events.js';
import type { Category } from '../../plugin-api/index.js';
import { CACHE_KINDS, type MetricsSources, type RouterMetrics } from './registry.js';

/** The endpoints that are "chat and embedding requests" in the stats (REST and RPC). */
export const SERVING_ENDPOINTS: ReadonlySet<string> = new Set([
  '/v1/chat/completions',
  '/v1/embeddings',
  '/smarterrouter.v1.RouterService/Chat',
  '/smarterrouter.v1.RouterService/ChatStream',
  '/smarterrouter.v1.RouterService/Embed',
]);

export interface RouterStats {
  startedAt: Date;
  uptimeSeconds: number;
  requestsTotal: number;
  errorsTotal: number;
  selections: Array<{ model: string; category: Category; count: number }>;
  caches: Array<{ kind: CacheKind; hits: number; misses: number; entries: number }>;
  backends: Array<{ name: string; provider: string; healthy: boolean; latencyMs: number; message: string; checkedAt: Date | null }>;
}

export interface StatsDeps {
  metrics: RouterMetrics;
  health?: () => BackendHealth[];
  circuits?: CircuitBreakers;
  cacheEntries?: MetricsSources['cacheEntries'];
}

type Labelled = { value: number; labels: Record<string, string | number | undefined> };

async function values(metric: { get(): Promise<{ values: Labelled[] }> }): Promise<Labelled[]> {
  return (await metric.get()).values;
}

export async function collectStats(deps: StatsDeps): Promise<RouterStats> {
  const { metrics } = deps;
  const sum = (rows: Labelled[]) => rows.filter((r) => SERVING_ENDPOINTS.has(String(r.labels.endpoint))).reduce((n, r) => n + r.value, 0);
  const perCache = async (counter: RouterMetrics['cacheHits']) => {
    const out = new Map<string, number>();
    for (const r of await values(counter)) out.set(String(r.labels.cache_type), r.value);
    return out;
  };
  const hits = await perCache(metrics.cacheHits);
  const misses = await perCache(metrics.cacheMisses);
  const entries = deps.cacheEntries?.() ?? {};
  const now = Date.now();

  return {
    startedAt: metrics.startedAt,
    uptimeSeconds: Math.round((now - metrics.startedAt.getTime()) / 10) / 100,
    requestsTotal: sum(await values(metrics.requests)),
    errorsTotal: sum(await values(metrics.errors)),
    selections: (await values(metrics.selections))
      .map((r) => ({ model: String(r.labels.selected_model), category: r.labels.category as Category, count: r.value }))
      .sort((a, b) => b.count - a.count || a.model.localeCompare(b.model) || a.category.localeCompare(b.category)),
    caches: CACHE_KINDS.map((kind) => ({ kind, hits: hits.get(kind) ?? 0, misses: misses.get(kind) ?? 0, entries: entries[kind] ?? 0 })),
    backends: (deps.health?.() ?? []).map((h) => {
      // Healthy means the prober reached it AND requests are not skipping it.
      const open = (deps.circuits?.state('backend', h.name) ?? 'closed') !== 'closed';
      const circuit = open ? deps.circuits?.snapshot().find((c) => c.scope === 'backend' && c.name === h.name) : undefined;
      return {
        name: h.name,
        provider: h.provider,
        healthy: h.ok && !open,
        latencyMs: h.latencyMs,
        message: circuit ? `circuit ${circuit.state.replace('_', '-')} after ${circuit.consecutiveFailures} failures in a row (last: ${circuit.lastError})` : h.ok ? '' : (h.message ?? ''),
        checkedAt: h.checkedAt,
      };
    }),
  };
}

/** The REST shape (snake_case, like the rest of /admin). */
export function statsJson(s: RouterStats): Record<string, unknown> {
  return {
    started_at: s.startedAt.toISOString(),
    uptime_seconds: s.uptimeSeconds,
    requests_total: s.requestsTotal,
    errors_total: s.errorsTotal,
    selections: s.selections,
    caches: s.caches,
    backends: s.backends.map((b) => ({
      name: b.name,
      provider: b.provider,
      healthy: b.healthy,
      latency_ms: b.latencyMs,
      message: b.message,
      checked_at: b.checkedAt ? b.checkedAt.toISOString() : null,
    })),
  };
}
