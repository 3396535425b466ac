/**
 * Hit and miss counters per cache kind, read by AdminService.GetStats / /metrics through
 * `ChatCache.stats()`. Plain numbers: counting must cost nothing on the request path.
 */
import type { CacheKind } from '../events.js';

export type { CacheKind };

export interface CacheKindStats {
  kind: CacheKind;
  hits: number;
  misses: number;
  /** Entries held now. */
  entries: number;
}

export class CacheCounters {
  private readonly counts: Record<CacheKind, { hits: number; misses: number }> = {
    response: { hits: 0, misses: 0 },
    routing: { hits: 0, misses: 0 },
    semantic: { hits: 0, misses: 0 },
  };
  /** Requests that joined an identical one in flight instead of calling a model. */
  coalesced = 0;

  constructor(private readonly onLookup?: (kind: CacheKind, hit: boolean) => void) {}

  hit(kind: CacheKind): void {
    this.counts[kind].hits++;
    this.onLookup?.(kind, true);
  }

  miss(kind: CacheKind): void {
    this.counts[kind].misses++;
    this.onLookup?.(kind, false);
  }

  snapshot(entries: Record<CacheKind, number>): CacheKindStats[] {
    return (['response', 'routing', 'semantic'] as const).map((kind) => ({ kind, ...this.counts[kind], entries: entries[kind] }));
  }
}
