/**
 * Benchmark knowledge for routing: public scores (bundled, then imported) matched to backend model
 * names and turned into the per-category 0..1 benchmark factor the scorer reads.
 *
 *   const knowledge = new BenchmarkKnowledge(await store.all());   // or BenchmarkKnowledge.bundled()
 *   model.benchmark = knowledge.forModel(model.modelId);             // when building the snapshot
 *
 * Pure: no I/O. Results are cached per model name; build a new instance when the rows change.
 */
import type { Category } from '../../plugin-api/index.js';
import { bundledRows } from './dataset.js';
import { Catalogue, matchModel } from './match.js';
import { categoryScores } from './normalize.js';
import type { BenchmarkRow } from './types.js';

export { BenchmarkSourceError, type BenchmarkRow, type BenchmarkSourceErrorCode } from './types.js';
export { ARENA_ELO_RANGE, BENCHMARKS, benchmarkSpec, canonicalBenchmark, categoryScores, normalizeScore, type BenchmarkSpec, type CategoryScores } from './normalize.js';
export { Catalogue, OLLAMA_DEFAULT_SIZE_B, entryIdFor, matchModel, parseModelName, type CatalogueEntry, type ModelMatch, type ParsedModelName, type Variant } from './match.js';
export { ARENA_SOURCE, OPEN_LLM_LEADERBOARD_SOURCE, loadSource, parseArenaCsv, parseCsv, parseOpenLlmLeaderboard, type ArenaImportOptions, type ImportOptions, type LoadOptions } from './importers.js';
export { BUNDLED_VERSION, bundledCatalogue, bundledRows, bundledSources } from './dataset.js';

export interface ModelBenchmarks {
  /** The catalogue entry the model name matched. */
  entry: string;
  /** Match confidence 0..1 (see matchModel). */
  confidence: number;
  reason: string;
  /** 0..1 broad summary, when general or at least two categories are known. */
  overall?: number;
  /** 0..1 per category, from the benchmarks mapped to it. */
  byCategory: Partial<Record<Category, number>>;
  /** Sources of the figures used, e.g. ["llama-3.1-model-card", "lmarena"]. */
  sources: string[];
  /** Entries whose figures were used: the match and, for benchmarks it lacks, its base model. */
  entries: string[];
}

export interface BenchmarkKnowledgeOptions {
  /** Matches below this confidence are ignored (default 0.5: a base model never borrows chat-model scores). */
  minConfidence?: number;
  /** Names remembered by forModel (default 5000). */
  cacheSize?: number;
}

export const DEFAULT_MIN_CONFIDENCE = 0.5;

export class BenchmarkKnowledge {
  readonly catalogue: Catalogue;
  private readonly rowsByEntry: Map<string, BenchmarkRow[]>;
  private readonly cache = new Map<string, ModelBenchmarks | null>();
  private readonly minConfidence: number;
  private readonly cacheSize: number;

  constructor(rows: readonly BenchmarkRow[], options: BenchmarkKnowledgeOptions = {}, catalogue?: Catalogue) {
    this.rowsByEntry = groupByEntry(rows);
    this.catalogue = catalogue ?? new Catalogue(this.rowsByEntry.keys());
    this.minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
    this.cacheSize = options.cacheSize ?? 5000;
  }

  /** The same knowledge, with the catalogue built in slices so a large import never stalls requests. */
  static async build(rows: readonly BenchmarkRow[], options: BenchmarkKnowledgeOptions = {}): Promise<BenchmarkKnowledge> {
    const catalogue = await Catalogue.build(groupByEntry(rows).keys());
    return new BenchmarkKnowledge(rows, options, catalogue);
  }

  /** Knowledge from the bundled dataset alone (no database, no network). */
  static bundled(options?: BenchmarkKnowledgeOptions): BenchmarkKnowledge {
    return new BenchmarkKnowledge(bundledRows(), options);
  }

  /** Number of catalogue entries with figures. */
  get entryCount(): number {
    return this.rowsByEntry.size;
  }

  rowsFor(entry: string): readonly BenchmarkRow[] {
    return this.rowsByEntry.get(entry) ?? [];
  }

  /** Benchmark factor inputs for a backend model name, or undefined when nothing matches well enough. */
  forModel(name: string): ModelBenchmarks | undefined {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const result = this.compute(name);
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(name, result ?? null);
    return result;
  }

  private compute(name: string): ModelBenchmarks | undefined {
    const match = matchModel(name, this.catalogue);
    if (match === undefined || match.confidence < this.minConfidence) return undefined;
    const rows = [...this.rowsFor(match.entry)];
    const entries = [match.entry];
    const entry = this.catalogue.get(match.entry);
    if (entry?.parsed.variant === 'instruct') {
      // Benchmarks published only for the base model of the same family and size (Gemma 2 and
      // Mixtral publish MMLU/GSM8K for the pretrained model) fill the instruct model's gaps.
      const have = new Set(rows.map((r) => r.benchmark));
      for (const base of this.catalogue.siblings(match.entry, 'base')) {
        const extra = this.rowsFor(base.id).filter((r) => !have.has(r.benchmark));
        if (extra.length === 0) continue;
        rows.push(...extra);
        entries.push(base.id);
        for (const r of extra) have.add(r.benchmark);
      }
    }
    const scores = categoryScores(rows);
    const result: ModelBenchmarks = {
      entry: match.entry,
      confidence: match.confidence,
      reason: match.reason,
      byCategory: scores.byCategory,
      sources: [...new Set(rows.map((r) => r.source))].sort(),
      entries,
    };
    if (scores.overall !== undefined) result.overall = scores.overall;
    return result;
  }
}

function groupByEntry(rows: readonly BenchmarkRow[]): Map<string, BenchmarkRow[]> {
  const byEntry = new Map<string, BenchmarkRow[]>();
  for (const row of rows) {
    if (!Number.isFinite(row.normalized)) continue;
    const list = byEntry.get(row.entry) ?? [];
    list.push(row);
    byEntry.set(row.entry, list);
  }
  return byEntry;
}
