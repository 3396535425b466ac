/**
 * The listings behind AdminService.ListProfiles / ListBenchmarks and GET /admin/profiles /
 * /admin/benchmarks: one view per profiled model, one row per public figure matched to a known
 * model, filtered, sorted on whitelisted fields only and paged. One implementation for both doors,
 * so REST and RPC can never disagree; each door only maps ListingError to its own 400 /
 * INVALID_ARGUMENT. The data is small (a fleet, not a log), so this works on in-memory lists.
 */
import { CATEGORIES, type Category } from '../../plugin-api/index.js';
import { ARENA_ELO_RANGE, benchmarkSpec, type BenchmarkKnowledge } from '../benchmarks/index.js';
import type { StoredProfile } from './knowledge.js';

export const PROFILE_SORT_FIELDS = ['model', 'profiled_at', 'ttft_ms', 'tokens_per_second', 'total_latency_ms', ...CATEGORIES] as const;
export type ProfileSortField = (typeof PROFILE_SORT_FIELDS)[number];
export const BENCHMARK_SORT_FIELDS = ['model', 'benchmark', 'score', 'normalized_score', 'source', 'fetched_at'] as const;
export type BenchmarkSortField = (typeof BENCHMARK_SORT_FIELDS)[number];

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Bad listing input; `param` names the offending field so each door can point at it. */
export class ListingError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = 'ListingError';
  }
}

export interface ListQuery<S extends string> {
  /** Case-insensitive substring of the model id. */
  model?: string;
  /** Case-insensitive substring of the benchmark name (benchmarks only). */
  benchmark?: string;
  sortBy: S;
  descending: boolean;
  limit: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  /** Offset of the next page; undefined on the last one. */
  nextOffset?: number;
}

export function parseSort<S extends string>(value: string | undefined, allowed: readonly S[], param: string): S {
  const v = (value ?? '').trim();
  if (v === '') return allowed[0];
  if ((allowed as readonly string[]).includes(v)) return v as S;
  throw new ListingError(`${param} must be one of ${allowed.join(', ')}; got "${v}"`, param);
}

/** 0 or absent: the default page size; otherwise 1..500. */
export function parsePageSize(value: number | undefined, param: string): number {
  if (value === undefined || value === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) throw new ListingError(`${param} must be an integer from 1 to ${MAX_PAGE_SIZE}`, param);
  return value;
}

/** What a page token binds: the next offset and the query it belongs to. */
function tokenKey(query: Omit<ListQuery<string>, 'limit' | 'offset'>): string {
  return JSON.stringify([query.model ?? '', query.benchmark ?? '', query.sortBy, query.descending]);
}

export function encodePageToken(query: Omit<ListQuery<string>, 'limit' | 'offset'>, offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset, q: tokenKey(query) })).toString('base64url');
}

/** The offset a page token stands for; rejects a token from another filter or sort, or a forged one. */
export function decodePageToken(token: string, query: Omit<ListQuery<string>, 'limit' | 'offset'>, param = 'page_token'): number {
  if (token === '') return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ListingError(`${param} is not a token this router issued`, param);
  }
  const { o, q } = (parsed ?? {}) as { o?: unknown; q?: unknown };
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || typeof q !== 'string') throw new ListingError(`${param} is not a token this router issued`, param);
  if (q !== tokenKey(query)) throw new ListingError(`${param} belongs to another filter or sort order: pass the same model, benchmark, sort_by and descending`, param);
  return o;
}

function page<T>(items: T[], query: ListQuery<string>): Page<T> {
  const slice = items.slice(query.offset, query.offset + query.limit);
  const end = query.offset + slice.length;
  return { items: slice, total: items.length, ...(end < items.length ? { nextOffset: end } : {}) };
}

/** Missing values sort last in both directions; ties keep a stable secondary order. */
function compareValues(a: string | number | undefined, b: string | number | undefined, descending: boolean): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const order = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  return descending ? -order : order;
}

const contains = (haystack: string, needle: string | undefined): boolean => !needle || haystack.toLowerCase().includes(needle.trim().toLowerCase());

// ------------------------------------------------------------------------------------- profiles

export interface CategoryView {
  category: Category;
  score: number;
  prompts: number;
  failures: number;
  timeouts: number;
  ttftMs?: number;
  tokensPerSecond?: number;
  totalLatencyMs?: number;
}

export interface ProfileView {
  /** Router-wide id (the backend's own id unless two backends share it). */
  model: string;
  backend: string;
  modelId: string;
  available: boolean;
  categories: CategoryView[];
  ttftMs?: number;
  tokensPerSecond?: number;
  totalLatencyMs?: number;
  failures: number;
  timeouts: number;
  vramBytes?: number;
  judge: string;
  promptSetVersion: string;
  profiledAt?: Date;
}

const numberOrUndefined = (v: number | null | undefined): number | undefined => (v === null || v === undefined || !Number.isFinite(v) ? undefined : v);
const mean = (values: number[]): number | undefined => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined);

export function profileView(key: string, stored: StoredProfile): ProfileView {
  const categories: CategoryView[] = [];
  let profiledAt: Date | undefined;
  let judge = '';
  let promptSetVersion = '';
  for (const category of CATEGORIES) {
    const f = stored.categories[category];
    if (!f) continue;
    const view: CategoryView = { category, score: f.score, prompts: f.prompts, failures: f.failures, timeouts: f.timeouts };
    const ttft = numberOrUndefined(f.ttftMs);
    const tps = numberOrUndefined(f.tokensPerSecond);
    const latency = numberOrUndefined(f.totalLatencyMs);
    if (ttft !== undefined) view.ttftMs = ttft;
    if (tps !== undefined) view.tokensPerSecond = tps;
    if (latency !== undefined) view.totalLatencyMs = latency;
    categories.push(view);
    if (!profiledAt || f.updatedAt > profiledAt) {
      profiledAt = f.updatedAt;
      judge = f.judge;
      promptSetVersion = f.promptSetVersion;
    }
  }
  const view: ProfileView = {
    model: key,
    backend: stored.backend ?? '',
    modelId: stored.modelId ?? key,
    available: stored.available ?? false,
    categories,
    failures: categories.reduce((n, c) => n + c.failures, 0),
    timeouts: categories.reduce((n, c) => n + c.timeouts, 0),
    judge,
    promptSetVersion,
  };
  const ttft = mean(categories.flatMap((c) => (c.ttftMs === undefined ? [] : [c.ttftMs])));
  const tps = mean(categories.flatMap((c) => (c.tokensPerSecond === undefined ? [] : [c.tokensPerSecond])));
  const latency = mean(categories.flatMap((c) => (c.totalLatencyMs === undefined ? [] : [c.totalLatencyMs])));
  if (ttft !== undefined) view.ttftMs = ttft;
  if (tps !== undefined) view.tokensPerSecond = tps;
  if (latency !== undefined) view.totalLatencyMs = latency;
  const vram = numberOrUndefined(stored.vramBytes);
  if (vram !== undefined && vram > 0) view.vramBytes = vram;
  if (profiledAt) view.profiledAt = profiledAt;
  return view;
}

function profileSortValue(view: ProfileView, field: ProfileSortField): string | number | undefined {
  switch (field) {
    case 'model':
      return view.model;
    case 'profiled_at':
      return view.profiledAt?.getTime();
    case 'ttft_ms':
      return view.ttftMs;
    case 'tokens_per_second':
      return view.tokensPerSecond;
    case 'total_latency_ms':
      return view.totalLatencyMs;
    default:
      return view.categories.find((c) => c.category === field)?.score;
  }
}

export function listProfiles(profiles: ReadonlyMap<string, StoredProfile>, query: ListQuery<ProfileSortField>): Page<ProfileView> {
  const views = [...profiles.entries()].filter(([key]) => contains(key, query.model)).map(([key, stored]) => profileView(key, stored));
  views.sort((a, b) => compareValues(profileSortValue(a, query.sortBy), profileSortValue(b, query.sortBy), query.descending) || a.model.localeCompare(b.model));
  return page(views, query);
}

// ----------------------------------------------------------------------------------- benchmarks

export interface BenchmarkView {
  /** Router-wide model id. */
  model: string;
  backend: string;
  /** The catalogue entry matched to the model, e.g. "qwen2.5-coder-7b-instruct". */
  matchedEntry: string;
  /** Match confidence 0..1. */
  confidence: number;
  benchmark: string;
  score: number;
  /** Top of the published scale: 100 for percentages, the top of ARENA_ELO_RANGE for arena ratings. */
  scale: number;
  normalizedScore: number;
  source: string;
  sourceUrl?: string;
  fetchedAt?: Date;
}

export interface KnownModel {
  key: string;
  backend: string;
  modelId: string;
}

/** Every stored figure matched to a known model (with the base-model figures the match borrows). */
export function benchmarkViews(models: readonly KnownModel[], knowledge: BenchmarkKnowledge): BenchmarkView[] {
  const views: BenchmarkView[] = [];
  for (const model of models) {
    const found = knowledge.forModel(model.modelId);
    if (!found) continue;
    for (const entry of found.entries) {
      for (const row of knowledge.rowsFor(entry)) {
        const view: BenchmarkView = {
          model: model.key,
          backend: model.backend,
          matchedEntry: entry,
          confidence: found.confidence,
          benchmark: row.benchmark,
          score: row.score,
          scale: benchmarkSpec(row.benchmark)?.scale === 'elo' ? ARENA_ELO_RANGE.max : 100,
          normalizedScore: row.normalized,
          source: row.source,
        };
        if (row.sourceUrl) view.sourceUrl = row.sourceUrl;
        if (row.fetchedAt) view.fetchedAt = row.fetchedAt;
        views.push(view);
      }
    }
  }
  return views;
}

function benchmarkSortValue(view: BenchmarkView, field: BenchmarkSortField): string | number | undefined {
  switch (field) {
    case 'model':
      return view.model;
    case 'benchmark':
      return view.benchmark;
    case 'score':
      return view.score;
    case 'normalized_score':
      return view.normalizedScore;
    case 'source':
      return view.source;
    case 'fetched_at':
      return view.fetchedAt?.getTime();
  }
}

export function listBenchmarks(views: readonly BenchmarkView[], query: ListQuery<BenchmarkSortField>): Page<BenchmarkView> {
  const filtered = views.filter((v) => contains(v.model, query.model) && contains(v.benchmark, query.benchmark));
  filtered.sort(
    (a, b) =>
      compareValues(benchmarkSortValue(a, query.sortBy), benchmarkSortValue(b, query.sortBy), query.descending) ||
      a.model.localeCompare(b.model) ||
      a.benchmark.localeCompare(b.benchmark) ||
      a.source.localeCompare(b.source),
  );
  return page(filtered, query);
}
