/**
 * A SyncBenchmarks request as both doors take it (ProfilerService.SyncBenchmarks and
 * POST /admin/benchmarks/sync): the sources checked, the sync run, one result per named source.
 */
import type { SyncResult } from '../db/benchmark-store.js';

/** More sources than this in one call is a mistake (or a way to make the router fetch for hours). */
export const MAX_SOURCES_PER_CALL = 32;

/** The request itself is wrong: INVALID_ARGUMENT / 400. */
export class ImportRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRequestError';
  }
}

export interface ImportOutcome {
  /** One per named source, in request order; with no sources named, the bundled refresh and ROUTER_BENCHMARK_SOURCES. */
  results: SyncResult[];
  rowsTotal: number;
}

export async function importBenchmarkSources(sync: (sources?: readonly string[]) => Promise<SyncResult[]>, requested: readonly string[]): Promise<ImportOutcome> {
  const sources = requested.map((s) => s.trim());
  if (sources.some((s) => s === '')) throw new ImportRequestError('sources must not contain empty strings');
  if (sources.length > MAX_SOURCES_PER_CALL) throw new ImportRequestError(`at most ${MAX_SOURCES_PER_CALL} sources per call`);
  const all = await sync(sources.length ? sources : undefined);
  // Named sources: one result per source (the bundled refresh that precedes them is implied).
  const results = sources.length ? all.filter((r) => !r.source.startsWith('bundled@')) : all;
  return { results, rowsTotal: results.reduce((n, r) => n + r.rows, 0) };
}
