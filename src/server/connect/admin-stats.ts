/**
 * AdminService.GetStats: the same numbers as GET /admin/stats (src/server/metrics/stats.ts), read
 * from the metric registry that /metrics exposes.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  type AdminService,
  BackendHealthSchema,
  CacheStatsSchema,
  GetStatsResponseSchema,
  ModelSelectionsSchema,
} from '../../../gen/smarterrouter/v1/admin_pb.js';
import { CacheKind as ProtoCacheKind, Category as ProtoCategory } from '../../../gen/smarterrouter/v1/common_pb.js';
import type { CacheKind } from '../../core/events.js';
import type { Category } from '../../plugin-api/index.js';
import { collectStats, type StatsDeps } from '../metrics/stats.js';

const CATEGORY: Record<Category, ProtoCategory> = {
  coding: ProtoCategory.CODING,
  reasoning: ProtoCategory.REASONING,
  creativity: ProtoCategory.CREATIVITY,
  general: ProtoCategory.GENERAL,
};
const CACHE: Record<CacheKind, ProtoCacheKind> = { response: ProtoCacheKind.RESPONSE, routing: ProtoCacheKind.ROUTING, semantic: ProtoCacheKind.SEMANTIC };

export function createAdminStats(deps: StatsDeps): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async getStats() {
      const s = await collectStats(deps);
      return create(GetStatsResponseSchema, {
        uptimeSeconds: s.uptimeSeconds,
        startedAt: timestampFromDate(s.startedAt),
        requestsTotal: BigInt(s.requestsTotal),
        errorsTotal: BigInt(s.errorsTotal),
        selections: s.selections.map((x) =>
          create(ModelSelectionsSchema, { model: x.model, category: CATEGORY[x.category] ?? ProtoCategory.UNSPECIFIED, count: BigInt(x.count) }),
        ),
        caches: s.caches.map((c) => create(CacheStatsSchema, { kind: CACHE[c.kind], hits: BigInt(c.hits), misses: BigInt(c.misses), entries: BigInt(c.entries) })),
        backends: s.backends.map((b) =>
          create(BackendHealthSchema, {
            name: b.name,
            provider: b.provider,
            healthy: b.healthy,
            latencyMs: b.latencyMs,
            message: b.message,
            ...(b.checkedAt ? { checkedAt: timestampFromDate(b.checkedAt) } : {}),
          }),
        ),
      });
    },
  };
}
