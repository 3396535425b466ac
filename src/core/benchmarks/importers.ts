/**
 * Importers for public benchmark exports, so the bundled figures can be refreshed:
 *   - the Open LLM Leaderboard (v2) "contents" dataset: an array of rows, or the HF datasets-server
 *     page shape {rows: [{row: {...}}]}, or JSON Lines;
 *   - LMArena-style CSV: a model column and a rating column (rating / elo / arena_score), optional votes.
 * Model names are mapped to the catalogue (the bundled one by default) when the match is certain,
 * otherwise to an entry id derived from the name. Nothing here needs the network unless a URL is given.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledCatalogue } from './dataset.js';
import { entryIdFor, matchModel, type Catalogue } from './match.js';
import { normalizeScore } from './normalize.js';
import { BenchmarkSourceError, type BenchmarkRow } from './types.js';

export interface ImportOptions {
  /** Source id stored with each row (default: "open-llm-leaderboard" / "lmarena"). */
  source?: string;
  sourceUrl?: string;
  fetchedAt?: Date;
  /** Catalogue names are mapped to (default: the bundled catalogue). */
  catalogue?: Catalogue | Iterable<string>;
  /** A name maps to a catalogue entry only at or above this confidence (default 0.95). */
  minMatchConfidence?: number;
}

export const OPEN_LLM_LEADERBOARD_SOURCE = 'open-llm-leaderboard';
export const ARENA_SOURCE = 'lmarena';

const DEFAULT_MIN_MATCH = 0.95;

// ---------------------------------------------------------------------------------------------
// Open LLM Leaderboard

/**
 * Leaderboard columns: the raw accuracy (0..1, preferred) and the leaderboard's own score (0..100,
 * rescaled above chance, used only when the raw column is missing). v1 columns (MMLU, GSM8K) too.
 */
const LEADERBOARD_COLUMNS: ReadonlyArray<{ raw?: string; score: string; benchmark: string }> = [
  { raw: 'IFEval Raw', score: 'IFEval', benchmark: 'IFEval' },
  { raw: 'BBH Raw', score: 'BBH', benchmark: 'BBH' },
  { raw: 'MATH Lvl 5 Raw', score: 'MATH Lvl 5', benchmark: 'MATH-Lvl-5' },
  { raw: 'GPQA Raw', score: 'GPQA', benchmark: 'GPQA' },
  { raw: 'MUSR Raw', score: 'MUSR', benchmark: 'MuSR' },
  { raw: 'MMLU-PRO Raw', score: 'MMLU-PRO', benchmark: 'MMLU-Pro' },
  { score: 'MMLU', benchmark: 'MMLU' },
  { score: 'GSM8K', benchmark: 'GSM8K' },
];

/** Rows of an Open LLM Leaderboard export. Throws BenchmarkSourceError('malformed') on an unknown shape. */
export function parseOpenLlmLeaderboard(json: unknown, options: ImportOptions = {}): BenchmarkRow[] {
  const source = options.source ?? OPEN_LLM_LEADERBOARD_SOURCE;
  const label = options.sourceUrl ?? source;
  const records = leaderboardRecords(json, label);
  const fetchedAt = options.fetchedAt ?? new Date();
  const mapper = entryMapper(options);
  const chosen = new Map<string, { row: BenchmarkRow; official: boolean; confidence: number }>();
  let usable = 0;

  for (const record of records) {
    const name = leaderboardName(record);
    if (name === undefined) continue;
    const { entry, confidence } = mapper(name);
    const official = record['Official Providers'] === true;
    for (const column of LEADERBOARD_COLUMNS) {
      const score = leaderboardScore(record, column);
      if (score === undefined) continue;
      usable++;
      const row: BenchmarkRow = {
        entry,
        benchmark: column.benchmark,
        score: round2(score),
        normalized: normalizeScore(column.benchmark, score) ?? 0,
        source,
        fetchedAt,
      };
      if (options.sourceUrl !== undefined) row.sourceUrl = options.sourceUrl;
      // Several uploads can map to one entry: keep the publisher's own, then the closest name.
      const key = `${entry}\u0000${column.benchmark}`;
      const previous = chosen.get(key);
      if (previous === undefined || (official && !previous.official) || (official === previous.official && confidence > previous.confidence)) {
        chosen.set(key, { row, official, confidence });
      }
    }
  }
  if (records.length > 0 && usable === 0) {
    throw new BenchmarkSourceError('malformed', label, `${label}: no leaderboard rows with a model name and a score (expected fields like "fullname", "IFEval Raw", "MMLU-PRO Raw")`);
  }
  return [...chosen.values()].map((c) => c.row);
}

function leaderboardRecords(json: unknown, label: string): Record<string, unknown>[] {
  let list: unknown;
  if (Array.isArray(json)) list = json;
  else if (isRecord(json) && Array.isArray(json.rows)) list = json.rows;
  else throw new BenchmarkSourceError('malformed', label, `${label}: not an Open LLM Leaderboard export: expected an array of rows or {rows: [{row: {...}}]}`);
  return (list as unknown[])
    .map((item) => (isRecord(item) && isRecord(item.row) ? item.row : item))
    .filter(isRecord);
}

function leaderboardName(record: Record<string, unknown>): string | undefined {
  for (const field of ['fullname', 'model_name', 'model']) {
    const value = record[field];
    if (typeof value === 'string' && value.trim() !== '' && !value.includes('<')) return value.trim();
  }
  const evalName = record.eval_name;
  if (typeof evalName === 'string' && evalName.includes('_')) {
    // "Qwen_Qwen2.5-7B-Instruct_bfloat16" -> "Qwen/Qwen2.5-7B-Instruct"
    const withoutPrecision = evalName.replace(/_(?:bfloat16|float16|float32|8bit|4bit|GPTQ)$/i, '');
    const cut = withoutPrecision.indexOf('_');
    return `${withoutPrecision.slice(0, cut)}/${withoutPrecision.slice(cut + 1)}`;
  }
  const html = record.Model;
  if (typeof html === 'string') {
    const text = html.replace(/<[^>]*>/g, '').trim();
    if (text !== '') return text;
  }
  return undefined;
}

function leaderboardScore(record: Record<string, unknown>, column: { raw?: string; score: string }): number | undefined {
  if (column.raw !== undefined) {
    const raw = toNumber(record[column.raw]);
    if (raw !== undefined && raw >= 0 && raw <= 1) return raw * 100;
  }
  const score = toNumber(record[column.score]);
  return score !== undefined && score >= 0 && score <= 100 ? score : undefined;
}

// ---------------------------------------------------------------------------------------------
// Arena CSV

const MODEL_COLUMNS = ['model', 'model_name', 'name', 'key', 'model name'];
const RATING_COLUMNS = ['rating', 'arena_score', 'arena score', 'elo', 'arena_elo', 'elo rating', 'score'];
const VOTE_COLUMNS = ['votes', 'num_battles', 'battles', 'num_votes'];
/**
 * Ratings outside this band are not arena ratings (published ones sit between ~800 and ~1,500): a
 * negative or six-figure value is a broken export, and clamping it to 0 or 1 would still let it
 * rank a model. Such rows are skipped like a rating that is not a number.
 */
export const ARENA_PLAUSIBLE_RATING = Object.freeze({ min: 100, max: 4000 });

export interface ArenaImportOptions extends ImportOptions {
  /** Skip models with fewer votes than this when a votes column exists (default 0). */
  minVotes?: number;
}

/** Arena rows ("Arena" benchmark, Elo-like rating) from LMArena-style CSV text. */
export function parseArenaCsv(text: string, options: ArenaImportOptions = {}): BenchmarkRow[] {
  const source = options.source ?? ARENA_SOURCE;
  const label = options.sourceUrl ?? source;
  const table = parseCsv(text);
  if (table.length === 0) throw new BenchmarkSourceError('malformed', label, `${label}: empty CSV`);
  const header = table[0]!.map((h) => h.trim().toLowerCase());
  const modelAt = findColumn(header, MODEL_COLUMNS);
  const ratingAt = findColumn(header, RATING_COLUMNS);
  const votesAt = findColumn(header, VOTE_COLUMNS);
  if (modelAt < 0 || ratingAt < 0) {
    throw new BenchmarkSourceError('malformed', label, `${label}: CSV needs a model column and a rating column (rating, elo or arena_score); found ${headerText(header)}`);
  }
  const fetchedAt = options.fetchedAt ?? new Date();
  const mapper = entryMapper(options);
  const minVotes = options.minVotes ?? 0;
  const chosen = new Map<string, { row: BenchmarkRow; confidence: number; votes: number }>();
  let usable = 0;

  for (const record of table.slice(1)) {
    const name = record[modelAt]?.trim();
    const rating = toNumber(record[ratingAt]);
    if (!name || rating === undefined || rating < ARENA_PLAUSIBLE_RATING.min || rating > ARENA_PLAUSIBLE_RATING.max) continue;
    const votes = votesAt < 0 ? 0 : (toNumber(record[votesAt]) ?? 0);
    if (votesAt >= 0 && votes < minVotes) continue;
    usable++;
    const { entry, confidence } = mapper(name);
    const row: BenchmarkRow = { entry, benchmark: 'Arena', score: round2(rating), normalized: normalizeScore('Arena', rating) ?? 0, source, fetchedAt };
    if (options.sourceUrl !== undefined) row.sourceUrl = options.sourceUrl;
    // Dated snapshots of one model (gpt-4o-2024-05-13, -08-06) map to one entry: keep the closest name, then the most votes.
    const previous = chosen.get(entry);
    if (previous === undefined || confidence > previous.confidence || (confidence === previous.confidence && votes > previous.votes)) {
      chosen.set(entry, { row, confidence, votes });
    }
  }
  if (table.length > 1 && usable === 0) throw new BenchmarkSourceError('malformed', label, `${label}: no rows with a model name and a rating between ${ARENA_PLAUSIBLE_RATING.min} and ${ARENA_PLAUSIBLE_RATING.max}`);
  return [...chosen.values()].map((c) => c.row);
}

function findColumn(header: readonly string[], names: readonly string[]): number {
  for (const name of names) {
    const i = header.indexOf(name);
    if (i >= 0) return i;
  }
  return -1;
}

/**
 * RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks; CRLF or LF; a UTF-8
 * BOM is dropped; blank lines are skipped.
 */
export function parseCsv(text: string): string[][] {
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = (): void => {
    row.push(field);
    field = '';
    if (!(row.length === 1 && row[0]!.trim() === '')) rows.push(row);
    row = [];
  };
  while (i < input.length) {
    const ch = input[i]!;
    if (quoted) {
      if (ch === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      endRow();
      if (ch === '\r' && input[i + 1] === '\n') i++;
    } else {
      field += ch;
    }
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Loading a source

export interface LoadOptions {
  /** Abort a URL fetch after this long (default 15 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  catalogue?: Catalogue | Iterable<string>;
  /**
   * Turns a source's text into rows (default: parseSourceText on this thread). The server hands a
   * worker-thread parser here so a large export never stalls requests (src/workers/benchmark-parse.ts).
   */
  parse?: SourceParser;
}

/** Parses one source's text; throws (or rejects with) BenchmarkSourceError. */
export type SourceParser = (text: string, source: string) => BenchmarkRow[] | Promise<BenchmarkRow[]>;

/**
 * Rows from a file path, file: URL or http(s) URL. The parser is chosen by extension (.csv -> arena,
 * .json/.jsonl -> leaderboard), else by content. Throws BenchmarkSourceError: 'unreachable' (network,
 * timeout, HTTP error), 'not_found' (no such file) or 'malformed' (unparseable, or no usable rows).
 */
export async function loadSource(source: string, fetchImpl: typeof fetch = fetch, options: LoadOptions = {}): Promise<BenchmarkRow[]> {
  const text = /^https?:\/\//i.test(source) ? await fetchText(source, fetchImpl, options) : await readText(checkedFileSource(source));
  if (options.parse) return options.parse(text, source);
  return parseSourceText(text, source, options.catalogue === undefined ? {} : { catalogue: options.catalogue });
}

/**
 * The rows of a source's text (the CPU-bound half of loadSource, safe to run in a worker thread:
 * plain data in, plain data out). Throws BenchmarkSourceError('malformed') with the source named.
 */
export function parseSourceText(text: string, source: string, options: Pick<ImportOptions, 'catalogue'> = {}): BenchmarkRow[] {
  const kind = sourceKind(source, text);
  const importOptions: ImportOptions = { sourceUrl: source, fetchedAt: new Date() };
  if (options.catalogue !== undefined) importOptions.catalogue = options.catalogue;
  let rows: BenchmarkRow[];
  try {
    rows = kind === 'csv' ? parseArenaCsv(text, importOptions) : parseOpenLlmLeaderboard(parseJson(text, source), importOptions);
  } catch (error) {
    if (BenchmarkSourceError.is(error)) {
      if (error.source === source) throw error;
      throw new BenchmarkSourceError(error.code, source, `${source}: ${error.message}`, { cause: error });
    }
    throw new BenchmarkSourceError('malformed', source, `${source}: ${(error as Error).message}`, { cause: error });
  }
  if (rows.length === 0) throw new BenchmarkSourceError('malformed', source, `${source}: no benchmark rows`);
  return rows;
}

async function fetchText(url: string, fetchImpl: typeof fetch, options: LoadOptions): Promise<string> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  let response: Response;
  try {
    response = await fetchImpl(url, { signal, headers: { accept: 'application/json, text/csv, text/plain, */*' } });
  } catch (error) {
    const why = timeout.aborted ? `timed out after ${options.timeoutMs ?? 15_000} ms` : describe(error);
    throw new BenchmarkSourceError('unreachable', url, `${url}: unreachable (${why})`, { cause: error });
  }
  if (!response.ok) {
    throw new BenchmarkSourceError('unreachable', url, `${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  try {
    return await response.text();
  } catch (error) {
    throw new BenchmarkSourceError('unreachable', url, `${url}: body could not be read (${describe(error)})`, { cause: error });
  }
}

/**
 * A local source must be a benchmark file by its name (.csv, .json, .jsonl, .ndjson) and a path or
 * file: URL: an admin call naming /proc/self/environ or /etc/passwd must not get a line of it back in
 * an error message, and ftp: or data: are not files.
 */
function checkedFileSource(source: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(source)?.[1];
  // One letter is a Windows drive (C:\scores.csv), not a scheme.
  if (scheme && scheme.length > 1 && scheme.toLowerCase() !== 'file') {
    throw new BenchmarkSourceError('not_found', source, `${source}: unsupported source (use an http(s) URL, a file path or a file: URL)`);
  }
  if (!LOCAL_EXTENSIONS.has(extname(source.replace(/[?#].*$/, '')).toLowerCase())) {
    throw new BenchmarkSourceError('not_found', source, `${source}: a local benchmark file must end in .csv, .json, .jsonl or .ndjson`);
  }
  return source;
}

const LOCAL_EXTENSIONS = new Set(['.csv', '.json', '.jsonl', '.ndjson']);

/** A CSV header as an error message may quote it: short column names only, never a long first line. */
function headerText(header: readonly string[]): string {
  const names = header.filter((h) => h !== '');
  if (names.length === 0) return 'no columns';
  if (names.some((h) => h.length > 40) || names.length > 40) return `${names.length} column(s), not a benchmark table header`;
  return names.slice(0, 12).join(', ') + (names.length > 12 ? ', …' : '');
}

async function readText(source: string): Promise<string> {
  const path = /^file:/i.test(source) ? fileURLToPath(source) : source;
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new BenchmarkSourceError('not_found', source, `${source}: cannot read (${describe(error)})`, { cause: error });
  }
}

function sourceKind(source: string, text: string): 'csv' | 'json' {
  const ext = extname(source.replace(/[?#].*$/, '')).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'json';
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '[' || first === '{' ? 'json' : 'csv';
}

function parseJson(text: string, source: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(body);
  } catch (error) {
    // JSON Lines: one row object per line.
    const lines = body.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (lines.length > 1 && lines.every((l) => l.trimStart().startsWith('{'))) {
      try {
        return lines.map((l) => JSON.parse(l) as unknown);
      } catch {
        // fall through to the original error
      }
    }
    // V8's message quotes the text it choked on: keep only where.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new BenchmarkSourceError('malformed', source, `${source}: invalid JSON${at ? ` at position ${at}` : ''}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function entryMapper(options: ImportOptions): (name: string) => { entry: string; confidence: number } {
  const catalogue = options.catalogue ?? bundledCatalogue();
  const min = options.minMatchConfidence ?? DEFAULT_MIN_MATCH;
  const cache = new Map<string, { entry: string; confidence: number }>();
  return (name) => {
    let mapped = cache.get(name);
    if (mapped === undefined) {
      const match = matchModel(name, catalogue);
      mapped = match !== undefined && match.confidence >= min ? { entry: match.entry, confidence: match.confidence } : { entry: entryIdFor(name), confidence: 0 };
      cache.set(name, mapped);
    }
    return mapped;
  };
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim().replace(/%$/, '');
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const code = typeof cause === 'object' && cause !== null && 'code' in cause ? ` ${String((cause as { code: unknown }).code)}` : '';
    return `${error.message}${code}`;
  }
  return String(error);
}
