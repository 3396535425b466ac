/**
 * Shapes shared by the benchmark modules: one published score of one catalogue entry, and the
 * error a benchmark source raises when it cannot be read. Pure types, no I/O.
 */

/** One public benchmark score for a catalogue entry (family + size + variant), with its source. */
export interface BenchmarkRow {
  /** Catalogue entry, e.g. "qwen2.5-coder-7b-instruct". */
  entry: string;
  /** Canonical benchmark id (see BENCHMARKS in normalize.ts), e.g. "HumanEval". */
  benchmark: string;
  /** Score as published (a percentage for accuracy benchmarks, an Elo rating for arenas). */
  score: number;
  /** The score scaled to 0..1 for routing. */
  normalized: number;
  /** Short source id, e.g. "llama-3.1-model-card" or "open-llm-leaderboard". */
  source: string;
  /** Where the figure can be checked. */
  sourceUrl?: string;
  /** When the figure was fetched or transcribed. */
  fetchedAt?: Date;
}

export type BenchmarkSourceErrorCode =
  /** The URL could not be reached (DNS, refused, timeout) or answered with an HTTP error. */
  | 'unreachable'
  /** The file does not exist or cannot be read. */
  | 'not_found'
  /** The content is neither a leaderboard export nor an arena CSV, or has no usable rows. */
  | 'malformed'
  /** The file or download is larger than any benchmark export (see MAX_SOURCE_BYTES): refused unread. */
  | 'too_large';

const MARK = Symbol.for('smarterrouter.BenchmarkSourceError');

/**
 * A benchmark source that could not be loaded. The caller logs it as a warning and carries on with
 * what it has (the bundled dataset always serves), so it is never fatal.
 */
export class BenchmarkSourceError extends Error {
  readonly [MARK] = true;
  constructor(
    readonly code: BenchmarkSourceErrorCode,
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BenchmarkSourceError';
  }

  /** True for a BenchmarkSourceError from any copy of this module. */
  static is(value: unknown): value is BenchmarkSourceError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARK] === true;
  }
}
