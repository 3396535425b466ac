/**
 * A SourceParser (src/core/benchmarks/importers.ts) that parses each source in a worker thread.
 * Imports are rare (start-up, an admin's SyncBenchmarks), so no thread is kept warm: each parse
 * gets a one-thread Piscina pool that is destroyed once it has answered.
 */
import { Piscina } from 'piscina';
import type { SourceParser } from '../core/benchmarks/importers.js';
import { BenchmarkSourceError } from '../core/benchmarks/types.js';
import type { ParseReply, ParseTask } from './benchmark-parse.js';
import { workerEntry } from './pool.js';

export function workerSourceParser(): SourceParser {
  return async (text, source) => {
    const { filename, execArgv } = workerEntry('benchmark-parse');
    const pool = new Piscina({ filename, execArgv, name: 'default', minThreads: 1, maxThreads: 1 });
    let reply: ParseReply;
    try {
      reply = (await pool.run({ text, source } satisfies ParseTask)) as ParseReply;
    } catch (error) {
      // The thread died (out of memory on an absurd file): the source is skipped, the router goes on.
      throw new BenchmarkSourceError('malformed', source, `${source}: could not be parsed (${(error as Error).message})`, { cause: error });
    } finally {
      void pool.destroy();
    }
    if (!reply.ok) throw new BenchmarkSourceError(reply.code, source, reply.message);
    return reply.rows;
  };
}
