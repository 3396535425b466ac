/**
 * Importers for public benchmark exports, so the bundled figures can be refreshed:
 *   - the Open LLM Leaderboard (v2) "contents" dataset: an array of rows, or the HF datasets-server
 *     page shape {rows: [{row: {...}}]}, or JSON Lines;
 *   - LMArena-style CSV: a model column and a rating column (rating / elo / arena score / arena elo),
 *     optional votes;
 *   - a long model-card table in CSV: model, benchmark, score (percentages of known benchmarks).
 * Model names are mapped to the catalogue (the bundled one by default) when the match is certain,
 * otherwise to an entry id derived from the name. Nothing here needs the network unless a URL is given.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledCatalogue } from './dataset.js';
import { entryIdFor, matchModel, type Catalogue } from './match.js';
import { benchmarkSpec, canonicalBenchmark, normalizeScore } from './normalize.js';
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
export const MODEL_CARD_CSV_SOURCE = 'model-card-csv';

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
    const official = record['Official Providers'] === true;
    // A v2 row flagged as not from the model's publisher is a fine-tune, merge or re-upload under
    // another account: kept under its own org-qualified id, never as the original model's figures
    // (someone/Qwen2.5-14B-Instruct scoring half of Qwen's own upload made qwen2.5:14b look weak).
    const thirdParty = record['Official Providers'] === false && name.includes('/');
    const { entry, confidence } = thirdParty ? { entry: entryIdFor(name.replace(/\//g, '-')), confidence: 0 } : mapper(name);
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
  // A one-line .jsonl parses as a single object: that is a one-row export, not another shape.
  else if (isRecord(json) && looksLikeLeaderboardRow(json)) list = [json];
  else throw new BenchmarkSourceError('malformed', label, `${label}: not an Open LLM Leaderboard export: expected an array of rows or {rows: [{row: {...}}]}`);
  return (list as unknown[])
    .map((item) => (isRecord(item) && isRecord(item.row) ? item.row : item))
    .filter(isRecord);
}

/** A named record with at least one leaderboard score column (so {model, results: {...}} is not one). */
function looksLikeLeaderboardRow(record: Record<string, unknown>): boolean {
  return leaderboardName(record) !== undefined && LEADERBOARD_COLUMNS.some((c) => c.score in record || (c.raw !== undefined && c.raw in record));
}

function leaderboardName(record: Record<string, unknown>): string | undefined {
  // model_name_for_query: the v1 leaderboard's plain "org/name", whose Model cell is HTML only.
  for (const field of ['fullname', 'model_name', 'model_name_for_query', 'model']) {
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
    const text = linkText(html);
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
/**
 * A bare "score" is not here: model cards and evaluation dumps use it for percentages (HumanEval
 * 88.4), which read as Elo would rank nothing sensibly. "Arena Elo" is Kaggle's spelling, "Arena Elo
 * rating" FastChat's leaderboard_table_*.csv.
 */
const RATING_COLUMNS = ['rating', 'arena_score', 'arena score', 'arena elo', 'arena_elo', 'arena elo rating', 'arena_elo_rating', 'elo', 'elo rating', 'elo_rating'];
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

/**
 * Arena rows ("Arena" benchmark, Elo-like rating) from LMArena-style CSV text. A table with a
 * benchmark column is refused: its scores belong to many benchmarks (see parseModelCardCsv).
 */
export function parseArenaCsv(text: string, options: ArenaImportOptions = {}): BenchmarkRow[] {
  const label = options.sourceUrl ?? options.source ?? ARENA_SOURCE;
  const table = csvTable(text, label);
  if (isModelCardTable(table.header)) {
    throw new BenchmarkSourceError('malformed', label, `${label}: CSV has a benchmark column: per-benchmark scores (model, benchmark, score), not arena ratings`);
  }
  return arenaRows(table, options);
}

interface CsvTable {
  /** Trimmed, lower-cased column names. */
  header: string[];
  records: string[][];
}

function csvTable(text: string, label: string): CsvTable {
  const table = parseCsv(text);
  if (table.length === 0) throw new BenchmarkSourceError('malformed', label, `${label}: empty CSV`);
  return { header: table[0]!.map((h) => h.trim().toLowerCase()), records: table.slice(1) };
}

function arenaRows({ header, records }: CsvTable, options: ArenaImportOptions): BenchmarkRow[] {
  const source = options.source ?? ARENA_SOURCE;
  const label = options.sourceUrl ?? source;
  const modelAt = findColumn(header, MODEL_COLUMNS);
  const ratingAt = findColumn(header, RATING_COLUMNS);
  const votesAt = findColumn(header, VOTE_COLUMNS);
  if (modelAt < 0 || ratingAt < 0) {
    const bareScore = ratingAt < 0 && header.includes('score') ? ' (a bare score column is not an arena rating)' : '';
    throw new BenchmarkSourceError('malformed', label, `${label}: CSV needs a model column and a rating column (rating, elo, arena score or arena elo)${bareScore}; found ${headerText(header)}`);
  }
  const fetchedAt = options.fetchedAt ?? new Date();
  const mapper = entryMapper(options);
  const minVotes = options.minVotes ?? 0;
  const chosen = new Map<string, { row: BenchmarkRow; confidence: number; votes: number }>();
  let usable = 0;

  for (const record of records) {
    const name = linkText(record[modelAt] ?? '');
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
  if (records.length > 0 && usable === 0) throw new BenchmarkSourceError('malformed', label, `${label}: no rows with a model name and a rating between ${ARENA_PLAUSIBLE_RATING.min} and ${ARENA_PLAUSIBLE_RATING.max}`);
  return [...chosen.values()].map((c) => c.row);
}

/**
 * The name in a model cell. Leaderboard pages export names as links, `<a href=…>name</a>` (the Open
 * LLM Leaderboard v1 adds a second anchor, 📑, to the details page) or `[name](url)`: the first
 * link's text is the name, the rest is page decoration.
 */
function linkText(cell: string): string {
  const anchor = /<a\b[^>]*>([\s\S]*?)<\/a\s*>/i.exec(cell);
  const text = (anchor ? anchor[1]! : cell).replace(/<[^>]*>/g, '');
  const markdown = /\[([^\]]+)\]\([^)]*\)/.exec(text);
  return (markdown ? markdown[1]! : text).trim();
}

// ---------------------------------------------------------------------------------------------
// Model-card CSV (long format)

const BENCHMARK_COLUMN = 'benchmark';
const SCORE_COLUMNS = ['score', 'value', 'accuracy'];

function isModelCardTable(header: readonly string[]): boolean {
  return header.includes(BENCHMARK_COLUMN);
}

/**
 * Rows from a long model-card table, one score per line: `model,benchmark,score`. Imported rather
 * than refused because it is the plainest way to hand-transcribe a card, and every name and figure
 * can be checked: benchmarks must be known ones (canonicalBenchmark) on the percent scale, scores
 * 0..100 as cards print them; other lines are skipped. An arena rating is not taken from such a
 * table: it would be stored under a model-card source, and the arena CSV carries votes with it.
 */
export function parseModelCardCsv(text: string, options: ImportOptions = {}): BenchmarkRow[] {
  return modelCardRows(csvTable(text, options.sourceUrl ?? options.source ?? MODEL_CARD_CSV_SOURCE), options);
}

function modelCardRows({ header, records }: CsvTable, options: ImportOptions): BenchmarkRow[] {
  const source = options.source ?? MODEL_CARD_CSV_SOURCE;
  const label = options.sourceUrl ?? source;
  const modelAt = findColumn(header, MODEL_COLUMNS);
  const benchmarkAt = header.indexOf(BENCHMARK_COLUMN);
  const scoreAt = findColumn(header, SCORE_COLUMNS);
  if (modelAt < 0 || benchmarkAt < 0 || scoreAt < 0) {
    throw new BenchmarkSourceError('malformed', label, `${label}: a benchmark table needs model, benchmark and score columns; found ${headerText(header)}`);
  }
  const fetchedAt = options.fetchedAt ?? new Date();
  const mapper = entryMapper(options);
  const chosen = new Map<string, { row: BenchmarkRow; confidence: number }>();
  const scale = fractionScale(records.map((r) => toNumber(r[scoreAt])));

  for (const record of records) {
    const name = linkText(record[modelAt] ?? '');
    const benchmark = canonicalBenchmark(record[benchmarkAt] ?? '');
    const raw = toNumber(record[scoreAt]);
    const score = raw === undefined ? undefined : raw * scale;
    if (!name || benchmark === undefined || benchmarkSpec(benchmark)?.scale !== 'percent') continue;
    if (score === undefined || score < 0 || score > 100) continue;
    const { entry, confidence } = mapper(name);
    const row: BenchmarkRow = { entry, benchmark, score: round2(score), normalized: normalizeScore(benchmark, score) ?? 0, source, fetchedAt };
    if (options.sourceUrl !== undefined) row.sourceUrl = options.sourceUrl;
    // Two spellings of one model (Qwen/Qwen2.5-7B-Instruct, qwen2.5-7b-instruct): keep the closest name, then the first.
    const key = `${entry}\u0000${benchmark}`;
    const previous = chosen.get(key);
    if (previous === undefined || confidence > previous.confidence) chosen.set(key, { row, confidence });
  }
  if (records.length > 0 && chosen.size === 0) throw new BenchmarkSourceError('malformed', label, `${label}: no rows with a known benchmark and a score between 0 and 100`);
  return [...chosen.values()].map((c) => c.row);
}

/**
 * 100 when a table writes its scores as fractions (0.685 for 68.5%: lm-eval-harness output and many
 * exported sheets do), else 1. Decided for the whole table: every score in 0..1 and at least one
 * above 0. A table of real percentages where every model scored under 1% does not exist.
 */
function fractionScale(scores: ReadonlyArray<number | undefined>): number {
  const known = scores.filter((s): s is number => s !== undefined);
  return known.length > 0 && known.every((s) => s >= 0 && s <= 1) && known.some((s) => s > 0) ? 100 : 1;
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

/**
 * The largest source read, in bytes. The biggest real export (the Open LLM Leaderboard's contents,
 * ~4,500 models) is about 10 MB; a URL or file far beyond that is a mistake or a hostile server, and
 * reading it whole would hold the router's memory hostage.
 */
export const MAX_SOURCE_BYTES = 64 * 1024 * 1024;

export interface LoadOptions {
  /** Abort a URL fetch after this long (default 15 s). */
  timeoutMs?: number;
  /** Refuse sources larger than this many bytes (default MAX_SOURCE_BYTES). */
  maxBytes?: number;
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
 * or model card when it has a benchmark column; .json/.jsonl -> leaderboard), else by content. Throws BenchmarkSourceError: 'unreachable' (network,
 * timeout, HTTP error), 'not_found' (no such file) or 'malformed' (unparseable, or no usable rows).
 */
export async function loadSource(source: string, fetchImpl: typeof fetch = fetch, options: LoadOptions = {}): Promise<BenchmarkRow[]> {
  const maxBytes = options.maxBytes ?? MAX_SOURCE_BYTES;
  const text = /^https?:\/\//i.test(source) ? await fetchText(source, fetchImpl, options, maxBytes) : await readText(checkedFileSource(source), maxBytes);
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
    rows = kind === 'csv' ? parseCsvSource(text, importOptions) : parseOpenLlmLeaderboard(parseJson(text, source), importOptions);
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

/** A CSV source: a long model-card table when it has a benchmark column, else arena ratings. */
function parseCsvSource(text: string, options: ImportOptions): BenchmarkRow[] {
  const table = csvTable(text, options.sourceUrl ?? ARENA_SOURCE);
  return isModelCardTable(table.header) ? modelCardRows(table, options) : arenaRows(table, options);
}

async function fetchText(url: string, fetchImpl: typeof fetch, options: LoadOptions, maxBytes: number): Promise<string> {
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
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(url, maxBytes);
  }
  try {
    return await boundedText(response, maxBytes, url);
  } catch (error) {
    if (BenchmarkSourceError.is(error)) throw error;
    throw new BenchmarkSourceError('unreachable', url, `${url}: body could not be read (${describe(error)})`, { cause: error });
  }
}

/** The body as text, stopping (and cancelling the download) once it passes maxBytes: a server may lie about its length or send none. */
async function boundedText(response: Response, maxBytes: number, url: string): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(url, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function tooLarge(source: string, maxBytes: number): BenchmarkSourceError {
  return new BenchmarkSourceError('too_large', source, `${source}: larger than ${Math.round(maxBytes / (1024 * 1024))} MB, not a benchmark export`);
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

/**
 * A CSV header as an error message may quote it: only when it has at least two cells and every one
 * reads as a column name. The first line of a file that is not a table (a key=value secret, an
 * /etc/passwd line, a sentence) is one cell, or holds '=', ':', '/' or runs of spaces, and is not echoed.
 */
function headerText(header: readonly string[]): string {
  const names = header.filter((h) => h !== '');
  if (names.length === 0) return 'no columns';
  if (names.length < 2 || names.length > 40 || !names.every(looksLikeColumnName)) return `${names.length} column(s), not a benchmark table header`;
  return names.slice(0, 12).join(', ') + (names.length > 12 ? ', …' : '');
}

const COLUMN_NAME = /^[\p{L}\p{N} _().%#*+⬆️-]{1,40}$/u;

function looksLikeColumnName(cell: string): boolean {
  return COLUMN_NAME.test(cell) && !/\s{2}/.test(cell);
}

async function readText(source: string, maxBytes: number): Promise<string> {
  const path = /^file:/i.test(source) ? fileURLToPath(source) : source;
  try {
    if ((await stat(path)).size > maxBytes) throw tooLarge(source, maxBytes);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (BenchmarkSourceError.is(error)) throw error;
    throw new BenchmarkSourceError('not_found', source, `${source}: cannot read (${describe(error)})`, { cause: error });
  }
}

function sourceExtension(source: string): string {
  return extname(source.replace(/[?#].*$/, '')).toLowerCase();
}

function sourceKind(source: string, text: string): 'csv' | 'json' {
  const ext = sourceExtension(source);
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
    if (isJsonLines(body, source)) return parseJsonLines(body, source);
    // V8's message quotes the text it choked on: keep only where.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new BenchmarkSourceError('malformed', source, `${source}: invalid JSON${at ? ` at position ${at}` : ''}`, { cause: error });
  }
}

/**
 * JSON Lines by name (.jsonl, .ndjson) or by a first line that is a whole object on its own; a
 * pretty-printed object (first line "{") is plain JSON and keeps its position in the error.
 */
function isJsonLines(body: string, source: string): boolean {
  const ext = sourceExtension(source);
  if (ext === '.jsonl' || ext === '.ndjson') return true;
  const text = body.trim();
  const first = /^[^\r\n]*/.exec(text)![0];
  // One line only: JSON.parse already refused it whole.
  if (!first.startsWith('{') || first.length === text.length) return false;
  try {
    return isRecord(JSON.parse(first));
  } catch {
    return false;
  }
}

/**
 * One row object per line. A bad line refuses the whole file, naming the line: skipping it would
 * silently drop a model (a truncated download loses its last rows this way).
 */
function parseJsonLines(body: string, source: string): Record<string, unknown>[] {
  const lines = body.split(/\r?\n/);
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new BenchmarkSourceError('malformed', source, `${source}: invalid JSON on line ${i + 1}`, { cause: error });
    }
    if (!isRecord(value)) throw new BenchmarkSourceError('malformed', source, `${source}: invalid JSON Lines: line ${i + 1} is not an object`);
    rows.push(value);
  }
  return rows;
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

/**
 * A number as exports print it: `1257`, `75.8%`, `"117,771"` (thousands separators), or with its
 * confidence interval glued on (`1257±4`, `1257 +5/-4`), which is dropped. Anything else (`1,2`,
 * `n/a`, `12abc`, `+3/-3` alone) is not a number.
 */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  // A number is short; the length cap also keeps the patterns below linear on a huge cell.
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const text = withoutThousands(withoutInterval(value.trim()).replace(/%$/, ''));
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

const INTERVAL = /^(.+?)\s*(?:±\s*\d+(?:\.\d+)?|\+\s*\d+(?:\.\d+)?\s*\/\s*-\s*\d+(?:\.\d+)?)$/;

function withoutInterval(text: string): string {
  return INTERVAL.exec(text)?.[1] ?? text;
}

function withoutThousands(text: string): string {
  return /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(text) ? text.replace(/,/g, '') : text;
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
