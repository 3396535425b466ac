/**
 * Worker-thread task: parses one benchmark source's text (see benchmark-parser.ts). A leaderboard
 * export of thousands of models takes hundreds of milliseconds to parse and match to catalogue
 * names; here that time is spent off the event loop that serves requests.
 */
import { parseSourceText } from '../core/benchmarks/importers.js';
import { BenchmarkSourceError, type BenchmarkRow } from '../core/benchmarks/types.js';

export interface ParseTask {
  text: string;
  source: string;
}

/** Plain data only: an Error does not cross the thread boundary with its code and source. */
export type ParseReply = { ok: true; rows: BenchmarkRow[] } | { ok: false; code: BenchmarkSourceError['code']; message: string };

export default function parse(task: ParseTask): ParseReply {
  try {
    return { ok: true, rows: parseSourceText(task.text, task.source) };
  } catch (error) {
    return BenchmarkSourceError.is(error)
      ? { ok: false, code: error.code, message: error.message }
      : { ok: false, code: 'malformed', message: `${task.source}: ${(error as Error).message}` };
  }
}
