/**
 * Benchmark sources parsed in a worker thread (src/workers/benchmark-parser.ts): the same rows and
 * the same errors as parsing on the calling thread.
 */
import { describe, expect, it } from 'vitest';
import { parseSourceText } from '../src/core/benchmarks/importers.js';
import { BenchmarkSourceError } from '../src/core/benchmarks/types.js';
import { workerSourceParser } from '../src/workers/benchmark-parser.js';

describe('workerSourceParser', () => {
  const parse = workerSourceParser();

  it('returns the rows parseSourceText returns', async () => {
    const csv = 'model,rating,votes\nqwen2.5-72b-instruct,1257,5000\ngemma-2-9b-it,1190,300\n';
    const rows = await parse(csv, 'arena.csv');
    const expected = parseSourceText(csv, 'arena.csv');
    expect(rows.map(({ fetchedAt: _f, ...r }) => r)).toEqual(expected.map(({ fetchedAt: _f, ...r }) => r));
    expect(rows[0]!.fetchedAt).toBeInstanceOf(Date);
  });

  it('rejects with a BenchmarkSourceError naming the source', async () => {
    const error = await Promise.resolve(parse('{"rows": 5}', 'board.json')).catch((e: unknown) => e);
    expect(BenchmarkSourceError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'malformed', source: 'board.json', message: expect.stringMatching(/^board\.json: not an Open LLM Leaderboard export/) });
  });
});
