/**
 * Benchmark scores in the benchmark_scores table (unique entry + benchmark + source: a re-import
 * updates the figure in place), and the start-up sync that fills it: the bundled dataset first,
 * then each configured source. A source that fails is reported and logged, never thrown, because
 * the bundled figures always serve.
 */
import type { FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import { BenchmarkSourceError, type BenchmarkRow } from '../core/benchmarks/types.js';
import { bundledRows, bundledSources, BUNDLED_VERSION } from '../core/benchmarks/dataset.js';
import { loadSource, type LoadOptions } from '../core/benchmarks/importers.js';
import { matchModel } from '../core/benchmarks/match.js';
import { canonicalBenchmark } from '../core/benchmarks/normalize.js';
import type { Database } from './index.js';
import { BenchmarkEntity, type BenchmarkRecord } from './entities.js';
import { dbTime, likeOperator, readTime } from './dialect.js';

export type BenchmarkSortField = 'entry' | 'benchmark' | 'score' | 'source' | 'fetched_at';

export interface BenchmarkQuery {
  /** A backend model name ("qwen2.5-coder:7b") or part of an entry id ("qwen2.5"). */
  model?: string;
  /** A benchmark id or alias ("MMLU-Pro", "gsm-8k"). */
  benchmark?: string;
  sortBy: BenchmarkSortField;
  descending: boolean;
  limit: number;
  offset: number;
}

export interface StoredBenchmarkRow extends BenchmarkRow {
  id: number;
  fetchedAt: Date;
}

const SORT_PROPERTY: Record<BenchmarkSortField, keyof BenchmarkRecord> = {
  entry: 'entry',
  benchmark: 'benchmark',
  score: 'score',
  source: 'source',
  fetched_at: 'fetchedAt',
};
const UPSERT_BATCH = 200;
const MAX_PAGE = 1000;
/** A model filter that reads as a full backend name ("qwen2.5-coder:7b", not "qwen2.5") is resolved to its entry. */
const MODEL_FILTER_MIN_CONFIDENCE = 0.9;

export class BenchmarkStore {
  constructor(private readonly db: Database) {}

  /** Inserts new rows and updates existing ones (same entry, benchmark and source). Returns the rows written. */
  async upsert(rows: readonly BenchmarkRow[]): Promise<number> {
    // The last figure for a key wins, and a batch never carries the same key twice.
    const unique = new Map<string, Omit<BenchmarkRecord, 'id'>>();
    const now = new Date();
    for (const row of rows) {
      if (!Number.isFinite(row.score) || !Number.isFinite(row.normalized)) continue;
      unique.set(`${row.entry}\u0000${row.benchmark}\u0000${row.source}`, {
        entry: row.entry,
        benchmark: row.benchmark,
        score: row.score,
        normalized: row.normalized,
        source: row.source,
        sourceUrl: row.sourceUrl ?? null,
        fetchedAt: row.fetchedAt ?? now,
      });
    }
    const data = [...unique.values()];
    if (data.length === 0) return 0;
    // Plain multi-row INSERT ... ON CONFLICT from cached SQL text: em.upsertMany() made a managed
    // entity of every row, which kept the event loop busy for ~1.5 s on a 27,000-row leaderboard.
    // Every batch is its own await, so requests are served between batches. Both engines take
    // `on conflict (...) do update` with `excluded.` (SQLite 3.24+, PostgreSQL 9.5+).
    const knex = this.db.em.getKnex();
    await knex.transaction(async (trx) => {
      for (let i = 0; i < data.length; i += UPSERT_BATCH) {
        const rows = data.slice(i, i + UPSERT_BATCH);
        const bindings: unknown[] = [];
        for (const r of rows) bindings.push(r.entry, r.benchmark, r.score, r.normalized, r.source, r.sourceUrl, dbTime(this.db, r.fetchedAt));
        await trx.raw(upsertSql(rows.length), bindings as never);
      }
    });
    return data.length;
  }

  /** One page of rows with the total count, filtered, sorted (ties by id). */
  async list(query: BenchmarkQuery): Promise<{ rows: StoredBenchmarkRow[]; total: number }> {
    const em = this.db.em.fork();
    const where: FilterQuery<BenchmarkRecord> = {};
    if (query.benchmark !== undefined && query.benchmark.trim() !== '') {
      where.benchmark = canonicalBenchmark(query.benchmark) ?? query.benchmark.trim();
    }
    if (query.model !== undefined && query.model.trim() !== '') {
      const model = query.model.trim();
      const entries = (await em.getConnection().execute<{ entry: string }[]>('select distinct entry from benchmark_scores')).map((r) => r.entry);
      const match = matchModel(model, entries);
      if (match !== undefined && match.confidence >= MODEL_FILTER_MIN_CONFIDENCE) where.entry = match.entry;
      else where.entry = { [likeOperator(this.db)]: `%${model.toLowerCase().replace(/%/g, '')}%` };
    }
    const direction = query.descending ? 'desc' : 'asc';
    const orderBy = { [SORT_PROPERTY[query.sortBy] ?? 'entry']: direction, id: 'asc' } as QueryOrderMap<BenchmarkRecord>;
    const limit = Math.min(Math.max(Math.trunc(query.limit) || 0, 1), MAX_PAGE);
    const offset = Math.max(Math.trunc(query.offset) || 0, 0);
    // Not em.findAndCount: it enters an AsyncLocalStorage (see src/db/index.ts).
    const [records, total] = await Promise.all([em.find(BenchmarkEntity, where, { orderBy, limit, offset }), em.count(BenchmarkEntity, where)]);
    return { rows: records.map(toRow), total };
  }

  /** Every stored row (for building BenchmarkKnowledge). */
  async all(): Promise<StoredBenchmarkRow[]> {
    // A raw select: hydrating tens of thousands of entities blocked the event loop for no use.
    const records = await this.db.em
      .getConnection()
      .execute<RawBenchmarkRow[]>('select id, entry, benchmark, score, normalized, source, source_url, fetched_at from benchmark_scores order by id');
    return records.map((r) => {
      const row: StoredBenchmarkRow = { id: Number(r.id), entry: r.entry, benchmark: r.benchmark, score: Number(r.score), normalized: Number(r.normalized), source: r.source, fetchedAt: readTime(r.fetched_at) };
      if (r.source_url) row.sourceUrl = r.source_url;
      return row;
    });
  }

  /**
   * Every stored source with its row and model counts: what an admin looks at to find an import
   * that should not be there. Imported rows carry the path or URL they came from (source_url).
   */
  async sources(): Promise<StoredSource[]> {
    const rows = await this.db.em.getConnection().execute<RawSourceRow[]>(
      'select source, source_url, count(*) as n, count(distinct entry) as entries, max(fetched_at) as fetched_at from benchmark_scores group by source, source_url order by source, source_url',
    );
    const bundled = new Set(bundledSources().map((s) => s.id));
    return rows.map((r) => ({
      source: r.source,
      sourceUrl: r.source_url ?? undefined,
      rows: Number(r.n),
      entries: Number(r.entries),
      fetchedAt: readTime(r.fetched_at),
      bundled: bundled.has(r.source),
    }));
  }

  /**
   * Deletes the rows of one imported source, named by the path or URL it was imported from or by
   * its source id ("lmarena"). Bundled figures are refused (every start stores them again).
   * Returns the rows deleted; throws SourceRemovalError when nothing matches.
   */
  async deleteSource(name: string): Promise<number> {
    const wanted = name.trim();
    if (bundledSources().some((s) => s.id === wanted)) {
      throw new SourceRemovalError('bundled', `"${wanted}" is a bundled source: its figures ship with the router and are stored again at every start`);
    }
    const knex = this.db.em.getKnex();
    const deleted = await knex('benchmark_scores')
      .where((q) => q.where('source_url', wanted).orWhere('source', wanted))
      .whereNotIn('source', bundledSources().map((s) => s.id))
      .delete();
    if (deleted === 0) throw new SourceRemovalError('not_found', `no imported benchmark rows come from "${wanted.slice(0, 256)}" (see the sources listing)`);
    return deleted;
  }

  /**
   * Deletes rows of the given sources whose key is not in `keep` (figures a newer bundled dataset
   * no longer carries). Returns the number deleted.
   */
  async prune(sources: readonly string[], keep: readonly BenchmarkRow[]): Promise<number> {
    if (sources.length === 0) return 0;
    const em = this.db.em.fork();
    const kept = new Set(keep.map((r) => `${r.entry}\u0000${r.benchmark}\u0000${r.source}`));
    const stored = await em.find(BenchmarkEntity, { source: { $in: [...sources] } }, { fields: ['id', 'entry', 'benchmark', 'source'] });
    const stale = stored.filter((r) => !kept.has(`${r.entry}\u0000${r.benchmark}\u0000${r.source}`)).map((r) => r.id);
    if (stale.length === 0) return 0;
    return em.nativeDelete(BenchmarkEntity, { id: { $in: stale } });
  }
}

export interface StoredSource {
  /** Source id ("lmarena", "open-llm-leaderboard", a bundled report id). */
  source: string;
  /** The path or URL the rows came from (for bundled figures, the report they cite). */
  sourceUrl?: string;
  rows: number;
  /** Distinct model entries. */
  entries: number;
  /** When its newest row was fetched. */
  fetchedAt: Date;
  bundled: boolean;
}

/** Why a source could not be removed: unknown, or bundled with the router. */
export class SourceRemovalError extends Error {
  constructor(
    readonly code: 'not_found' | 'bundled',
    message: string,
  ) {
    super(message);
    this.name = 'SourceRemovalError';
  }
}

interface RawSourceRow {
  source: string;
  source_url: string | null;
  n: number | string;
  entries: number | string;
  fetched_at: number | string | Date;
}

interface RawBenchmarkRow {
  id: number | string;
  entry: string;
  benchmark: string;
  score: number | string;
  normalized: number | string;
  source: string;
  source_url: string | null;
  fetched_at: number | string | Date;
}

const UPSERT_COLUMNS = ['entry', 'benchmark', 'score', 'normalized', 'source', 'source_url', 'fetched_at'] as const;
const upsertSqlByRows = new Map<number, string>();

/** `INSERT ... VALUES (...), ... ON CONFLICT (entry, benchmark, source) DO UPDATE ...`, built once per row count. */
function upsertSql(rows: number): string {
  let sql = upsertSqlByRows.get(rows);
  if (!sql) {
    const tuple = `(${UPSERT_COLUMNS.map(() => '?').join(', ')})`;
    sql =
      `insert into benchmark_scores (${UPSERT_COLUMNS.join(', ')}) values ${Array.from({ length: rows }, () => tuple).join(', ')} ` +
      'on conflict (entry, benchmark, source) do update set score = excluded.score, normalized = excluded.normalized, source_url = excluded.source_url, fetched_at = excluded.fetched_at';
    upsertSqlByRows.set(rows, sql);
  }
  return sql;
}

function toRow(r: BenchmarkRecord): StoredBenchmarkRow {
  const row: StoredBenchmarkRow = { id: r.id, entry: r.entry, benchmark: r.benchmark, score: r.score, normalized: r.normalized, source: r.source, fetchedAt: r.fetchedAt };
  if (r.sourceUrl) row.sourceUrl = r.sourceUrl;
  return row;
}

// ---------------------------------------------------------------------------------------------
// Sync

export interface SyncLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface SyncResult {
  /** "bundled@<version>" or the configured path / URL. */
  source: string;
  ok: boolean;
  /** Rows written. */
  rows: number;
  error?: string;
}

/**
 * Loads the bundled dataset, then each source in order, into the store. Never throws: a failed
 * source is a result with ok false and a logged warning (the bundled figures still serve).
 */
export async function syncBenchmarks(
  store: BenchmarkStore,
  sources: readonly string[],
  fetchImpl: typeof fetch,
  logger: SyncLogger,
  options: LoadOptions = {},
): Promise<SyncResult[]> {
  const results: SyncResult[] = [];
  const bundledLabel = `bundled@${BUNDLED_VERSION}`;
  try {
    const rows = bundledRows();
    const written = await store.upsert(rows);
    await store.prune(bundledSources().map((s) => s.id), rows);
    results.push({ source: bundledLabel, ok: true, rows: written });
    logger.info?.({ source: bundledLabel, rows: written }, 'bundled benchmark scores loaded');
  } catch (error) {
    const message = (error as Error).message;
    logger.warn({ source: bundledLabel, err: message }, 'could not store the bundled benchmark scores');
    results.push({ source: bundledLabel, ok: false, rows: 0, error: message });
  }
  for (const raw of sources) {
    const source = raw.trim();
    if (source === '') continue;
    try {
      const rows = await loadSource(source, fetchImpl, options);
      const written = await store.upsert(rows);
      results.push({ source, ok: true, rows: written });
      logger.info?.({ source, rows: written }, 'benchmark source imported');
    } catch (error) {
      const message = (error as Error).message;
      const code = BenchmarkSourceError.is(error) ? error.code : 'store';
      logger.warn({ source, code, err: message }, 'benchmark source skipped; bundled and previously imported scores still serve');
      results.push({ source, ok: false, rows: 0, error: message });
    }
  }
  return results;
}
