/**
 * The bundled dataset as BenchmarkRows (normalised, with source URLs) and its catalogue.
 */
import { BUNDLED_ROWS, BUNDLED_TRANSCRIBED_AT, BUNDLED_VERSION, SOURCES, type BundledSource } from './data/bundled.js';
import { Catalogue } from './match.js';
import { canonicalBenchmark, normalizeScore } from './normalize.js';
import type { BenchmarkRow } from './types.js';

export { BUNDLED_VERSION };

const SOURCE_BY_ID = new Map<string, BundledSource>(Object.values(SOURCES).map((s) => [s.id, s]));

let rows: readonly BenchmarkRow[] | undefined;
let catalogue: Catalogue | undefined;

/** Every bundled figure as a BenchmarkRow (a fresh copy each call; callers may keep or change it). */
export function bundledRows(): BenchmarkRow[] {
  rows ??= Object.freeze(
    BUNDLED_ROWS.map((r) => {
      const benchmark = canonicalBenchmark(r.benchmark) ?? r.benchmark;
      const source = SOURCE_BY_ID.get(r.source);
      if (source === undefined) throw new Error(`bundled benchmarks: unknown source ${r.source} for ${r.entry}`);
      return Object.freeze({
        entry: r.entry,
        benchmark,
        score: r.score,
        normalized: normalizeScore(benchmark, r.score) ?? 0,
        source: source.id,
        sourceUrl: source.url,
        fetchedAt: new Date(BUNDLED_TRANSCRIBED_AT),
      });
    }),
  );
  return rows.map((r) => ({ ...r, fetchedAt: new Date(r.fetchedAt!.getTime()) }));
}

/** The catalogue of bundled entries (shared, immutable). */
export function bundledCatalogue(): Catalogue {
  catalogue ??= new Catalogue(BUNDLED_ROWS.map((r) => r.entry));
  return catalogue;
}

/** The sources of the bundled dataset, with titles and URLs. */
export function bundledSources(): BundledSource[] {
  return [...SOURCE_BY_ID.values()].map((s) => ({ ...s }));
}
