/**
 * GET /health: liveness (200 whenever the process serves requests) plus readiness details — the
 * database and every backend with its latest probe, summed up as `status` ok | degraded | unavailable. Backends are probed in the background
 * (BackendHealthMonitor), so /health never waits on a slow backend.
 */
import type { FastifyInstance } from 'fastify';
import type { BackendHealthMonitor } from '../../core/backend-health.js';
import { pingDatabase, type Database } from '../../db/index.js';

export interface HealthDeps {
  db: Database;
  health: BackendHealthMonitor;
  /** Available chat models the router can route to now (from the last discovery round). */
  chatModels: () => number;
  startedAt: number;
  version: string;
}

const backendSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    provider: { type: 'string' },
    ok: { type: 'boolean' },
    latency_ms: { type: 'number' },
    message: { type: 'string' },
    checked_at: { type: ['string', 'null'] },
  },
  required: ['name', 'provider', 'ok', 'latency_ms'],
} as const;

const healthSchema = {
  response: {
    200: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok', 'degraded', 'unavailable'] },
        version: { type: 'string' },
        uptime_seconds: { type: 'number' },
        database: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        backends: { type: 'array', items: backendSchema },
        chat_models: { type: 'integer' },
        ready: { type: 'boolean' },
      },
      required: ['status', 'version', 'uptime_seconds', 'database', 'backends', 'chat_models', 'ready'],
    },
  },
} as const;

export function healthRoutes(deps: HealthDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/health', { schema: healthSchema }, async () => {
      const dbOk = await pingDatabase(deps.db);
      const backends = deps.health.snapshot().map((b) => ({
        name: b.name,
        provider: b.provider,
        ok: b.ok,
        latency_ms: b.latencyMs,
        message: b.message,
        checked_at: b.checkedAt?.toISOString() ?? null,
      }));
      // Ready = the store works, at least one backend answers and it has listed a chat model (a
      // backend whose listing failed, or one with nothing pulled, cannot answer a chat); still 200
      // (liveness) either way. The status says more: ok (everything answers), degraded (serving, but
      // a backend is down), unavailable (not ready).
      const chatModels = deps.chatModels();
      const ready = dbOk && backends.some((b) => b.ok) && chatModels > 0;
      return {
        status: !ready ? 'unavailable' : backends.every((b) => b.ok) ? 'ok' : 'degraded',
        version: deps.version,
        uptime_seconds: Math.round((Date.now() - deps.startedAt) / 1000),
        database: { ok: dbOk },
        backends,
        chat_models: chatModels,
        ready,
      };
    });
  };
}
