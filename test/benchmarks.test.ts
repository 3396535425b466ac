import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ARENA_ELO_RANGE,
  BenchmarkKnowledge,
  BenchmarkSourceError,
  BUNDLED_VERSION,
  bundledCatalogue,
  bundledRows,
  bundledSources,
  canonicalBenchmark,
  Catalogue,
  categoryScores,
  loadSource,
  matchModel,
  normalizeScore,
  parseArenaCsv,
  parseCsv,
  parseOpenLlmLeaderboard,
  type BenchmarkRow,
} from '../src/core/benchmarks/index.js';
import { MODEL_CARD_CSV_SOURCE, parseModelCardCsv, parseSourceText } from '../src/core/benchmarks/importers.js';
import { BenchmarkStore, syncBenchmarks } from '../src/db/benchmark-store.js';
import { openDatabase, type Database } from '../src/db/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/benchmarks/', import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);
const readFixture = (name: string): string => readFileSync(fixture(name), 'utf8');

function row(entry: string, benchmark: string, score: number, source = 'test'): BenchmarkRow {
  return { entry, benchmark, score, normalized: normalizeScore(benchmark, score)!, source };
}

describe('normalisation', () => {
  it('divides percentages by 100 and maps arena ratings linearly over the documented Elo range', () => {
    expect(normalizeScore('MMLU', 69.4)).toBeCloseTo(0.694, 6);
    expect(normalizeScore('HumanEval', 100)).toBe(1);
    expect(normalizeScore('Arena', ARENA_ELO_RANGE.min)).toBe(0);
    expect(normalizeScore('Arena', 1200)).toBeCloseTo(0.5, 6);
    expect(normalizeScore('Arena', ARENA_ELO_RANGE.max)).toBe(1);
    expect(normalizeScore('Arena', 1500)).toBe(1);
    expect(normalizeScore('Arena', 900)).toBe(0);
    expect(normalizeScore('GSM8K', Number.NaN)).toBeUndefined();
  });

  it('reads benchmark names as spelled by cards, leaderboards and CSV headers', () => {
    expect(canonicalBenchmark('GSM-8K (CoT)')).toBe('GSM8K');
    expect(canonicalBenchmark('MMLU-PRO')).toBe('MMLU-Pro');
    expect(canonicalBenchmark('mmlu_pro')).toBe('MMLU-Pro');
    expect(canonicalBenchmark('arena_score')).toBe('Arena');
    expect(canonicalBenchmark('MATH Lvl 5')).toBe('MATH-Lvl-5');
    expect(canonicalBenchmark('Human Eval')).toBe('HumanEval');
    expect(canonicalBenchmark('TruthfulQA')).toBeUndefined();
  });
});

describe('categoryScores', () => {
  it('maps coding to HumanEval/MBPP, reasoning to GSM8K/MATH/MMLU-Pro, general to MMLU/MMLU-Pro/arena, creativity to arena', () => {
    const scores = categoryScores([
      row('m', 'HumanEval', 80),
      row('m', 'MBPP', 70),
      row('m', 'GSM8K', 90),
      row('m', 'MATH', 50),
      row('m', 'MMLU-Pro', 40),
      row('m', 'MMLU', 70),
      row('m', 'Arena', 1200),
    ]);
    expect(scores.byCategory.coding).toBeCloseTo(0.75, 4);
    // (0.9 + 0.5 + 0.5 * 0.4) / 2.5
    expect(scores.byCategory.reasoning).toBeCloseTo(0.64, 4);
    // (0.7 + 0.4 + 0.5) / 3
    expect(scores.byCategory.general).toBeCloseTo(0.5333, 4);
    expect(scores.byCategory.creativity).toBeCloseTo(0.5, 4);
    expect(scores.overall).toBeCloseTo((0.75 + 0.64 + 0.5333 + 0.5) / 4, 3);
  });

  it('averages one benchmark across sources before weighting, and ignores stored-only benchmarks', () => {
    const scores = categoryScores([row('m', 'HumanEval', 80, 'a'), row('m', 'HumanEval', 60, 'b'), row('m', 'MBPP', 70), row('m', 'LiveCodeBench', 10), row('m', 'GPQA', 20)]);
    expect(scores.byCategory.coding).toBeCloseTo(0.7, 4);
    expect(scores.byCategory.reasoning).toBeUndefined();
  });

  it('leaves creativity and overall out when nothing supports them', () => {
    const reasoningOnly = categoryScores([row('m', 'MATH-500', 92.8), row('m', 'AIME-2024', 55.5)]);
    expect(reasoningOnly).toEqual({ byCategory: { reasoning: 0.928 } });
    expect(categoryScores([])).toEqual({ byCategory: {} });
    const general = categoryScores([row('m', 'MMLU', 60)]);
    expect(general.byCategory.creativity).toBeUndefined();
    expect(general.overall).toBeCloseTo(0.6, 4);
  });
});

describe('bundled dataset', () => {
  const rows = bundledRows();

  it('has a version, named sources with URLs, and normalised figures for the listed families', () => {
    expect(BUNDLED_VERSION).toMatch(/^\d{4}\.\d{2}-\d+$/);
    const sources = new Map(bundledSources().map((s) => [s.id, s]));
    for (const r of rows) {
      expect(sources.has(r.source), r.source).toBe(true);
      expect(r.sourceUrl).toMatch(/^https:\/\//);
      expect(r.normalized).toBeGreaterThanOrEqual(0);
      expect(r.normalized).toBeLessThanOrEqual(1);
      expect(canonicalBenchmark(r.benchmark), r.benchmark).toBe(r.benchmark);
    }
    const entries = new Set(rows.map((r) => r.entry));
    for (const entry of [
      'llama-3.2-1b-instruct', 'llama-3.2-3b-instruct', 'llama-3.1-8b-instruct', 'llama-3.1-70b-instruct', 'llama-3.2-11b-vision-instruct',
      'qwen2.5-0.5b-instruct', 'qwen2.5-72b-instruct', 'qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-32b-instruct',
      'qwen3-0.6b-base', 'qwen3-32b-base', 'qwen3-30b-a3b-base', 'gemma-2-2b-it', 'gemma-3-27b-it', 'mistral-7b-base-v0.1',
      'mistral-nemo-12b-base-2407', 'mistral-small-24b-instruct-2501', 'mixtral-8x7b-instruct-v0.1', 'phi-3-mini-4k-instruct',
      'phi-3.5-mini-instruct', 'phi-4', 'phi-3-medium-4k-instruct', 'deepseek-r1-distill-qwen-1.5b', 'deepseek-r1-distill-llama-70b',
      'deepseek-coder-v2-lite-instruct', 'codellama-7b-instruct', 'starcoder2-15b', 'llava-v1.6-34b', 'gpt-4o-mini', 'gpt-4o',
    ]) {
      expect(entries.has(entry), entry).toBe(true);
    }
    const benchmarks = new Set(rows.map((r) => r.benchmark));
    for (const b of ['MMLU', 'MMLU-Pro', 'GSM8K', 'MATH', 'HumanEval', 'MBPP', 'Arena']) expect(benchmarks.has(b), b).toBe(true);
  });

  it('has one figure per entry, benchmark and source', () => {
    const keys = rows.map((r) => `${r.entry}|${r.benchmark}|${r.source}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('names every bundled entry in a way the matcher reads back to itself', () => {
    const catalogue = bundledCatalogue();
    for (const entry of new Set(rows.map((r) => r.entry))) {
      expect(catalogue.get(entry)?.parsed.family, entry).not.toBe('');
      expect(matchModel(entry, catalogue)?.entry, entry).toBe(entry);
    }
  });
});

describe('matchModel', () => {
  const table = JSON.parse(readFixture('names.json')) as { name: string; entry: string | null; min?: number; max?: number }[];
  const catalogue = bundledCatalogue();

  it('has at least 30 tricky names', () => {
    expect(table.length).toBeGreaterThanOrEqual(30);
  });

  it.each(table)('$name -> $entry', ({ name, entry, min, max }) => {
    const match = matchModel(name, catalogue);
    if (entry === null) {
      expect(match).toBeUndefined();
      return;
    }
    expect(match?.entry).toBe(entry);
    expect(match!.reason.length).toBeGreaterThan(0);
    if (min !== undefined) expect(match!.confidence).toBeGreaterThanOrEqual(min);
    if (max !== undefined) expect(match!.confidence).toBeLessThanOrEqual(max);
  });

  it('never gives a base model the instruct figures at full confidence, nor a coder the general model', () => {
    const onlyInstruct = ['qwen2.5-7b-instruct', 'qwen2.5-coder-7b-instruct'];
    const base = matchModel('Qwen/Qwen2.5-7B', onlyInstruct);
    expect(base?.entry).toBe('qwen2.5-7b-instruct');
    expect(base!.confidence).toBeLessThan(0.5);
    expect(base!.reason).toMatch(/base model/);
    expect(matchModel('qwen2.5-coder:7b', ['qwen2.5-7b-instruct'])).toBeUndefined();
    expect(matchModel('qwen2.5:7b', ['qwen2.5-coder-7b-instruct', 'qwen2.5-72b-instruct'])).toBeUndefined();
  });

  it('reads a name without a version as the newest release (mistral:latest is v0.3), comparing versions as numbers', () => {
    const match = matchModel('mistral:latest', ['mistral-7b-instruct-v0.1', 'mistral-7b-instruct-v0.3', 'mistral-7b-instruct-v0.2']);
    expect(match?.entry).toBe('mistral-7b-instruct-v0.3');
    expect(match!.reason).toContain('no version in the name, the newest (0.3) taken over mistral-7b-instruct-v0.1, mistral-7b-instruct-v0.2');
    // A named version still wins outright, and any listing order gives the same answer.
    expect(matchModel('mistral:7b-instruct-v0.2', ['mistral-7b-instruct-v0.3', 'mistral-7b-instruct-v0.2'])?.entry).toBe('mistral-7b-instruct-v0.2');
    expect(matchModel('mistral', ['mistral-7b-instruct-v0.3', 'mistral-7b-instruct-v0.1'])?.entry).toBe('mistral-7b-instruct-v0.3');
  });

  it('accepts a plain list of entry ids as the catalogue', () => {
    expect(matchModel('llama3.1:70b', ['llama-3.1-8b-instruct', 'llama-3.1-70b-instruct'])?.entry).toBe('llama-3.1-70b-instruct');
  });
});

describe('BenchmarkKnowledge', () => {
  it('scores a backend model from its entry, filling gaps from the base model of the same size', () => {
    const knowledge = BenchmarkKnowledge.bundled();
    const gemma = knowledge.forModel('gemma2:9b')!;
    expect(gemma.entry).toBe('gemma-2-9b-it');
    expect(gemma.entries).toEqual(['gemma-2-9b-it', 'gemma-2-9b-base']);
    expect(gemma.sources).toEqual(['gemma-2-model-card', 'gemma-2-report']);
    expect(gemma.byCategory.coding).toBeCloseTo((0.402 + 0.524) / 2, 4);
    expect(gemma.byCategory.creativity).toBeCloseTo((1187 - 1000) / 400, 4);
    expect(gemma.overall).toBeGreaterThan(0);
    const coder = knowledge.forModel('qwen2.5-coder:32b')!;
    expect(coder.byCategory.coding).toBeCloseTo((0.927 + 0.902) / 2, 4);
    expect(coder.overall).toBeUndefined();
  });

  it('caches per name, ignores weak matches and unknown names', () => {
    const knowledge = BenchmarkKnowledge.bundled();
    expect(knowledge.forModel('llama3.1:8b')).toBe(knowledge.forModel('llama3.1:8b'));
    expect(knowledge.forModel('dolphin-mistral:7b')).toBeUndefined();
    expect(knowledge.forModel('not-a-model')).toBeUndefined();
    expect(BenchmarkKnowledge.bundled({ minConfidence: 0.3 }).forModel('dolphin-mistral:7b')?.entry).toBe('mistral-7b-base-v0.1');
  });

  it('merges imported rows with the bundled ones', () => {
    const imported = parseArenaCsv('model,rating\nqwen2.5-7b-instruct,1200\n');
    const knowledge = new BenchmarkKnowledge([...bundledRows(), ...imported]);
    const qwen = knowledge.forModel('qwen2.5:7b')!;
    expect(qwen.sources).toEqual(['lmarena', 'qwen2.5-report']);
    expect(qwen.byCategory.creativity).toBeCloseTo(0.5, 4);
  });
});

describe('parseOpenLlmLeaderboard', () => {
  it('reads raw accuracies, maps names to catalogue entries and prefers the official upload', () => {
    const rows = parseOpenLlmLeaderboard(JSON.parse(readFixture('open-llm-leaderboard.json')), { fetchedAt: new Date('2026-01-01') });
    const get = (entry: string, benchmark: string) => rows.find((r) => r.entry === entry && r.benchmark === benchmark);
    expect(get('qwen2.5-7b-instruct', 'MMLU-Pro')).toMatchObject({ score: 42.55, source: 'open-llm-leaderboard' });
    expect(get('qwen2.5-7b-instruct', 'MMLU-Pro')!.normalized).toBeCloseTo(0.4255, 6);
    expect(get('qwen2.5-7b-instruct', 'IFEval')!.score).toBe(75.85);
    expect(get('qwen2.5-7b-instruct', 'MATH-Lvl-5')!.score).toBe(50);
    expect(get('qwen2.5-7b-instruct', 'MuSR')!.score).toBe(40.2);
    expect(get('qwen2.5-7b-base', 'BBH')!.score).toBe(54.16);
    // No raw column: the leaderboard's own 0..100 score; unknown family keeps a name-derived entry.
    expect(get('yi-1.5-9b-chat', 'IFEval')!.score).toBe(60.46);
    expect(rows.filter((r) => r.entry === 'qwen2.5-7b-instruct')).toHaveLength(6);
    expect(rows.every((r) => r.fetchedAt?.toISOString() === '2026-01-01T00:00:00.000Z')).toBe(true);
  });

  it('accepts the datasets-server page shape and JSON Lines', async () => {
    const page = parseOpenLlmLeaderboard(JSON.parse(readFixture('open-llm-leaderboard-api.json')));
    expect(page.find((r) => r.benchmark === 'IFEval')).toMatchObject({ entry: 'qwen2.5-7b-instruct', score: 75.85 });
    const lines = await loadSource(fixture('open-llm-leaderboard.jsonl'));
    expect(lines.some((r) => r.entry === 'qwen2.5-7b-base')).toBe(true);
  });

  it('rejects other shapes with a typed error', () => {
    expect(() => parseOpenLlmLeaderboard({ data: [] })).toThrow(BenchmarkSourceError);
    try {
      parseOpenLlmLeaderboard([{ hello: 'world' }]);
      expect.unreachable();
    } catch (error) {
      expect(BenchmarkSourceError.is(error)).toBe(true);
      expect((error as BenchmarkSourceError).code).toBe('malformed');
    }
  });
});

describe('third-party uploads in the Open LLM Leaderboard', () => {
  const row = (fullname: string, official: boolean, ifeval: number) => ({ fullname, 'Official Providers': official, 'IFEval Raw': ifeval, 'MMLU-PRO Raw': ifeval / 2 });

  it('keeps a re-upload under its own org-qualified id, never as the original model', () => {
    const rows = parseOpenLlmLeaderboard([row('Qwen/Qwen2.5-14B-Instruct', true, 0.82), row('someone/Qwen2.5-14B-Instruct', false, 0.41)]);
    const ifeval = (entry: string) => rows.find((r) => r.entry === entry && r.benchmark === 'IFEval')?.score;
    expect(ifeval('qwen2.5-14b-instruct')).toBe(82);
    expect(ifeval('someone-qwen2.5-14b-instruct')).toBe(41);
    // Alone in the file, the re-upload still does not speak for the original.
    expect(parseOpenLlmLeaderboard([row('someone/Qwen2.5-14B-Instruct', false, 0.41)]).map((r) => r.entry)).not.toContain('qwen2.5-14b-instruct');
  });

  it('exports without the flag (v1) map names as before', () => {
    expect(parseOpenLlmLeaderboard([{ fullname: 'Qwen/Qwen2.5-14B-Instruct', 'IFEval Raw': 0.8 }]).map((r) => r.entry)).toEqual(['qwen2.5-14b-instruct']);
  });
});

describe('parseArenaCsv', () => {
  it('reads a BOM, CRLF and quoted fields with commas; keeps the best-named snapshot per entry', () => {
    const rows = parseArenaCsv(readFixture('arena.csv'));
    const byEntry = new Map(rows.map((r) => [r.entry, r]));
    expect(byEntry.get('gemma-2-27b-it')).toMatchObject({ benchmark: 'Arena', score: 1218.3, source: 'lmarena' });
    expect(byEntry.get('gemma-2-27b-it')!.normalized).toBeCloseTo((1218.3 - 1000) / 400, 6);
    expect(byEntry.get('llama-3.1-8b-instruct')!.score).toBe(1175.9);
    expect(byEntry.get('mixtral-8x7b-instruct-v0.1')!.score).toBe(1114);
    // Two dated gpt-4o snapshots: the one with more votes wins.
    expect(byEntry.get('gpt-4o')!.score).toBe(1285.7);
    expect(byEntry.get('claude-3-5-sonnet-20241022')!.score).toBe(1283.4);
    expect(byEntry.get('some-"quoted"-model')!.score).toBe(1050);
    expect(rows).toHaveLength(6);
  });

  it('applies a vote threshold and skips rows without a numeric rating', () => {
    expect(parseArenaCsv(readFixture('arena.csv'), { minVotes: 1000 }).some((r) => r.score === 1050)).toBe(false);
    expect(parseArenaCsv(readFixture('arena-minimal.csv'))).toEqual([expect.objectContaining({ entry: 'qwen2.5-72b-instruct', score: 1257 })]);
  });

  it('parses RFC 4180 quoting', () => {
    expect(parseCsv('a,"b,c","d ""e"""\r\n"multi\nline",2,3\n\n')).toEqual([
      ['a', 'b,c', 'd "e"'],
      ['multi\nline', '2', '3'],
    ]);
  });

  it('rejects a CSV without a rating column', () => {
    expect(() => parseArenaCsv(readFixture('malformed-arena.csv'))).toThrow(/rating column/);
  });

  it('skips ratings no arena publishes (negative, six figures) instead of clamping them into a rank', () => {
    const rows = parseArenaCsv('model,rating\nqwen2.5-72b-instruct,-999999\nllama-3.1-8b-instruct,999999\ngemma-2-9b-it,1190\n');
    expect(rows.map((r) => r.entry)).toEqual(['gemma-2-9b-it']);
    expect(() => parseArenaCsv('model,rating\nqwen2.5-72b-instruct,-5\n')).toThrow(/rating between 100 and 4000/);
  });
});

describe('loadSource', () => {
  it('chooses the parser by extension or content', async () => {
    expect((await loadSource(fixture('arena.csv'))).every((r) => r.benchmark === 'Arena' && r.sourceUrl === fixture('arena.csv'))).toBe(true);
    expect((await loadSource(fixture('open-llm-leaderboard.json'))).some((r) => r.benchmark === 'MMLU-Pro')).toBe(true);
    const csvByContent = await loadSource('https://example.test/export', async () => new Response('model,elo\ngemma-2-9b-it,1190\n'));
    expect(csvByContent).toEqual([expect.objectContaining({ entry: 'gemma-2-9b-it', score: 1190, sourceUrl: 'https://example.test/export' })]);
  });

  it('throws typed errors: missing file, malformed file, unreachable URL, HTTP error', async () => {
    const expectCode = async (promise: Promise<unknown>, code: string) => {
      const error = await promise.then(() => undefined, (e: unknown) => e);
      expect(BenchmarkSourceError.is(error), String(error)).toBe(true);
      expect((error as BenchmarkSourceError).code).toBe(code);
      return error as BenchmarkSourceError;
    };
    await expectCode(loadSource(fixture('does-not-exist.csv')), 'not_found');
    const malformed = await expectCode(loadSource(fixture('malformed.json')), 'malformed');
    expect(malformed.source).toBe(fixture('malformed.json'));
    await expectCode(loadSource(fixture('malformed-arena.csv')), 'malformed');
    // Nothing listens on port 1: the real fetch fails fast without any network.
    await expectCode(loadSource('http://127.0.0.1:1/leaderboard.json', fetch, { timeoutMs: 5000 }), 'unreachable');
    await expectCode(loadSource('https://example.test/x.json', async () => { throw new TypeError('fetch failed'); }), 'unreachable');
    await expectCode(loadSource('https://example.test/x.json', async () => new Response('nope', { status: 503 })), 'unreachable');
    await expectCode(loadSource('https://example.test/x.json', (_url, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))), { timeoutMs: 50 }), 'unreachable');
  });
});

describe('exports as published', () => {
  const errorOf = (fn: () => unknown): BenchmarkSourceError => {
    try {
      fn();
    } catch (error) {
      expect(BenchmarkSourceError.is(error), String(error)).toBe(true);
      expect((error as BenchmarkSourceError).code).toBe('malformed');
      return error as BenchmarkSourceError;
    }
    return expect.unreachable() as never;
  };
  const failure = (promise: Promise<unknown>): Promise<BenchmarkSourceError> =>
    promise.then(
      () => expect.unreachable() as never,
      (error: unknown) => {
        expect(BenchmarkSourceError.is(error), String(error)).toBe(true);
        return error as BenchmarkSourceError;
      },
    );

  it('never reads a bare score column as an arena rating; a long model-card table imports as percentages', async () => {
    const card = 'model,benchmark,score\nqwen2.5-coder-7b-instruct,HumanEval,88.4\nllama-3.1-8b-instruct,MMLU,69.4\n';
    expect(errorOf(() => parseArenaCsv(card)).message).toMatch(/benchmark column: per-benchmark scores .*not arena ratings/);
    expect(errorOf(() => parseArenaCsv('model,score\nllama-3.1-8b-instruct,1175\n')).message).toMatch(/rating column .*bare score column is not an arena rating/);
    const rows = await loadSource(fixture('model-card-long.csv'));
    const get = (entry: string, benchmark: string) => rows.find((r) => r.entry === entry && r.benchmark === benchmark);
    expect(get('qwen2.5-coder-7b-instruct', 'HumanEval')).toMatchObject({ score: 88.4, normalized: 0.884, source: MODEL_CARD_CSV_SOURCE, sourceUrl: fixture('model-card-long.csv') });
    expect(get('qwen2.5-coder-7b-instruct', 'MBPP')!.score).toBe(83.5);
    expect(get('llama-3.1-8b-instruct', 'MMLU')!.normalized).toBeCloseTo(0.694, 6);
    expect(get('llama-3.1-8b-instruct', 'GSM8K')!.score).toBe(84.5);
    // Unknown benchmark, an arena rating, a score above 100 and a non-number are skipped.
    expect(rows).toHaveLength(4);
    expect(rows.some((r) => r.benchmark === 'Arena')).toBe(false);
    // By content too (a URL without an extension), and the function on its own.
    expect(parseSourceText(card, 'https://example.test/card').map((r) => [r.entry, r.benchmark, r.score])).toEqual([
      ['qwen2.5-coder-7b-instruct', 'HumanEval', 88.4],
      ['llama-3.1-8b-instruct', 'MMLU', 69.4],
    ]);
    expect(parseModelCardCsv(card, { source: 'qwen-card' }).every((r) => r.source === 'qwen-card')).toBe(true);
    expect(errorOf(() => parseModelCardCsv('model,benchmark,score\nx-7b,TruthfulQA,50\n')).message).toMatch(/no rows with a known benchmark/);
    expect(errorOf(() => parseSourceText('Benchmark,Qwen2.5-7B-Instruct\nMMLU,74.2\n', 'wide.csv')).message).toMatch(/needs model, benchmark and score columns/);
  });

  it('reads a model-card table written as fractions (lm-eval style 0.884) as percentages, decided per table', () => {
    const fractions = parseModelCardCsv('model,benchmark,score\nqwen2.5-coder-7b-instruct,HumanEval,0.884\nllama-3.1-8b-instruct,MMLU,0.694\nllama-3.1-8b-instruct,GSM8K,0\n');
    expect(fractions.map((r) => [r.entry, r.benchmark, r.score, r.normalized])).toEqual([
      ['qwen2.5-coder-7b-instruct', 'HumanEval', 88.4, 0.884],
      ['llama-3.1-8b-instruct', 'MMLU', 69.4, 0.694],
      ['llama-3.1-8b-instruct', 'GSM8K', 0, 0],
    ]);
    // One score above 1 makes the whole table percentages: 0.9 stays 0.9%.
    const mixed = parseModelCardCsv('model,benchmark,score\nqwen2.5-coder-7b-instruct,HumanEval,0.9\nllama-3.1-8b-instruct,MMLU,69.4\n');
    expect(mixed.map((r) => r.score)).toEqual([0.9, 69.4]);
  });

  it('accepts the Kaggle "Arena Elo" and FastChat "Arena Elo rating" headers', () => {
    const kaggle = parseArenaCsv('Model,Arena Elo,95% CI,Votes\nGPT-4o-mini-2024-07-18,1272,+3/-3,63012\nMeta-Llama-3.1-8B-Instruct,1175,+3/-3,52584\n');
    expect(kaggle.map((r) => [r.entry, r.score])).toEqual([
      ['gpt-4o-mini', 1272],
      ['llama-3.1-8b-instruct', 1175],
    ]);
    // MT-bench (score) and MMLU sit beside the rating and are not it.
    const fastchat = parseArenaCsv('key,Model,Arena Elo rating,MT-bench (score),MMLU,License\nmistral-7b-instruct,Mistral-7B-Instruct-v0.1,1008,6.84,55.4,Apache 2.0\n');
    expect(fastchat).toEqual([expect.objectContaining({ entry: 'mistral-7b-instruct-v0.1', benchmark: 'Arena', score: 1008 })]);
  });

  it('reads the link text of HTML and markdown model cells', () => {
    const rows = parseArenaCsv(readFixture('arena-links.csv'));
    expect(rows.map((r) => [r.entry, r.score])).toEqual([
      ['gpt-4o-mini', 1272],
      ['llama-3.1-8b-instruct', 1175],
      ['gemma-2-9b-it', 1190],
    ]);
  });

  it('names v1 leaderboard rows by model_name_for_query or the first anchor, never the 📑 details link', () => {
    const rows = parseOpenLlmLeaderboard(JSON.parse(readFixture('open-llm-leaderboard-v1.json')));
    expect(rows.map((r) => [r.entry, r.benchmark, r.score])).toEqual([
      ['mistral-7b-instruct-v0.2', 'MMLU', 60.78],
      ['mistral-7b-instruct-v0.2', 'GSM8K', 40.03],
      ['gemma-7b-it', 'MMLU', 53.52],
      ['gemma-7b-it', 'GSM8K', 29.19],
    ]);
    // The query name wins over the HTML cell.
    const renamed = parseOpenLlmLeaderboard([{ Model: '<a href="x">old/name-7b</a>', model_name_for_query: 'google/gemma-7b-it', MMLU: 50 }]);
    expect(renamed[0]!.entry).toBe('gemma-7b-it');
  });

  it('quotes a CSV header only when its cells read as column names', async () => {
    const fetchText = (body: string) => async () => new Response(body);
    const secret = await failure(loadSource('https://example.test/export', fetchText('aws_secret=abcd, root:x:0:0\nmore\n')));
    expect(secret.message).toBe('https://example.test/export: CSV needs a model column and a rating column (rating, elo, arena score or arena elo); found 2 column(s), not a benchmark table header');
    for (const body of ['password hunter2\n', 'model,see  http://x\n', 'model,/etc/passwd\n']) {
      const error = await failure(loadSource('https://example.test/export', fetchText(body)));
      expect(error.message).toMatch(/found \d column\(s\), not a benchmark table header$/);
      expect(error.message).not.toMatch(/hunter2|http:\/\/x|passwd/);
    }
    expect(errorOf(() => parseArenaCsv('Rank* (UB),Model,95% CI,Votes,Average ⬆️\n1,gpt-4o,+3/-3,100,1\n')).message).toContain('found rank* (ub), model, 95% ci, votes, average ⬆️');
  });

  it('reads a one-line .jsonl as one row and names the first bad line of JSON Lines', async () => {
    const one = await loadSource(fixture('one-row.jsonl'));
    expect(one.map((r) => [r.entry, r.benchmark, r.score])).toEqual([
      ['qwen2.5-7b-instruct', 'IFEval', 75.85],
      ['qwen2.5-7b-instruct', 'MMLU-Pro', 42.87],
    ]);
    expect(parseOpenLlmLeaderboard({ fullname: 'Qwen/Qwen2.5-7B', 'BBH Raw': 0.5416 })).toEqual([expect.objectContaining({ entry: 'qwen2.5-7b-base', benchmark: 'BBH' })]);
    // A lone object that is no leaderboard row is still another shape.
    expect(errorOf(() => parseOpenLlmLeaderboard({ model: 'Qwen/Qwen2.5-7B-Instruct', results: { mmlu: { acc: 0.742 } } })).message).toMatch(/not an Open LLM Leaderboard export/);
    // Line 4 is cut short; the blank line 2 still counts.
    const bad = await failure(loadSource(fixture('bad-line.jsonl')));
    expect(bad).toMatchObject({ code: 'malformed', message: `${fixture('bad-line.jsonl')}: invalid JSON on line 4` });
    const lines = '{"fullname": "Qwen/Qwen2.5-7B", "BBH Raw": 0.5}\n{"fullname": "Qwen/Qwen2.5-7B-Instruct", "BBH Raw": 0.\n';
    expect(errorOf(() => parseSourceText(lines, 'https://example.test/board')).message).toBe('https://example.test/board: invalid JSON on line 2');
    expect(errorOf(() => parseSourceText('{"fullname": "a-7b", "BBH Raw": 0.5}\n[1, 2]\n', 'board.ndjson')).message).toBe('board.ndjson: invalid JSON Lines: line 2 is not an object');
    // A pretty-printed object is plain JSON: its error keeps the position.
    expect(errorOf(() => parseSourceText('{\n  "rows": [1,\n', 'board.json')).message).toMatch(/^board\.json: invalid JSON( at position \d+)?$/);
  });

  it('reads thousands separators and a trailing confidence interval, and still rejects garbage', () => {
    const csv = [
      'model,rating,votes',
      'llama-3.1-8b-instruct,"1,175","52,584"',
      'qwen2.5-72b-instruct,1257±4,"41,519"',
      'gemma-2-9b-it,1190 +5/-4,"1,000"',
      'gemma-2-27b-it,1218 ± 3.5,2000',
      'mistral-7b-instruct-v0.3,"1,07",5000',
      'phi-3-mini-4k-instruct,1066abc,5000',
      'qwen2.5-7b-instruct,+3/-3,5000',
      'gemma-2-2b-it,1137±x,5000',
    ].join('\n');
    const rows = parseArenaCsv(csv);
    expect(rows.map((r) => [r.entry, r.score])).toEqual([
      ['llama-3.1-8b-instruct', 1175],
      ['qwen2.5-72b-instruct', 1257],
      ['gemma-2-9b-it', 1190],
      ['gemma-2-27b-it', 1218],
    ]);
    // Votes with separators count: "1,000" is below the threshold, "41,519" above it.
    expect(parseArenaCsv(csv, { minVotes: 2000 }).map((r) => r.entry)).toEqual(['llama-3.1-8b-instruct', 'qwen2.5-72b-instruct', 'gemma-2-27b-it']);
  });
});

describe('BenchmarkStore (SQLite)', () => {
  const opened: Database[] = [];
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
  });
  async function store(): Promise<BenchmarkStore> {
    const db = await openDatabase('sqlite:///bench.db', mkdtempSync(join(tmpdir(), 'sr-bench-')));
    opened.push(db);
    return new BenchmarkStore(db);
  }

  it('upserts without duplicates: a second import updates the figure in place', async () => {
    const s = await store();
    const rows = [row('a-7b-instruct', 'MMLU', 60), row('a-7b-instruct', 'GSM8K', 70), row('b-7b-instruct', 'MMLU', 50)];
    expect(await s.upsert(rows)).toBe(3);
    expect(await s.upsert([...rows.slice(0, 2), { ...row('b-7b-instruct', 'MMLU', 55), sourceUrl: 'https://x.test' }])).toBe(3);
    const all = await s.all();
    expect(all).toHaveLength(3);
    expect(all.find((r) => r.entry === 'b-7b-instruct')).toMatchObject({ score: 55, normalized: 0.55, sourceUrl: 'https://x.test' });
    expect(all.every((r) => r.fetchedAt instanceof Date)).toBe(true);
    // Same entry and benchmark from another source is another row.
    await s.upsert([row('a-7b-instruct', 'MMLU', 61, 'other')]);
    expect(await s.all()).toHaveLength(4);
  });

  it('paginates, sorts and filters', async () => {
    const s = await store();
    await s.upsert([row('qwen2.5-7b-instruct', 'MMLU-Pro', 56.3), row('qwen2.5-coder-7b-instruct', 'HumanEval', 88.4), row('llama-3.1-8b-instruct', 'HumanEval', 72.6), row('llama-3.1-8b-instruct', 'MMLU', 69.4), row('gemma-2-9b-it', 'Arena', 1187)]);
    const page1 = await s.list({ sortBy: 'score', descending: true, limit: 2, offset: 0 });
    expect(page1.total).toBe(5);
    expect(page1.rows.map((r) => r.score)).toEqual([1187, 88.4]);
    const page3 = await s.list({ sortBy: 'score', descending: true, limit: 2, offset: 4 });
    expect(page3.rows.map((r) => r.score)).toEqual([56.3]);
    const byEntry = await s.list({ sortBy: 'entry', descending: false, limit: 10, offset: 0 });
    expect(byEntry.rows.map((r) => r.entry)).toEqual(['gemma-2-9b-it', 'llama-3.1-8b-instruct', 'llama-3.1-8b-instruct', 'qwen2.5-7b-instruct', 'qwen2.5-coder-7b-instruct']);
    expect((await s.list({ benchmark: 'humaneval', sortBy: 'entry', descending: true, limit: 10, offset: 0 })).rows.map((r) => r.entry)).toEqual(['qwen2.5-coder-7b-instruct', 'llama-3.1-8b-instruct']);
    // A backend name resolves to its entry; a fragment matches entries containing it.
    expect((await s.list({ model: 'qwen2.5-coder:7b', sortBy: 'benchmark', descending: false, limit: 10, offset: 0 })).rows.map((r) => r.entry)).toEqual(['qwen2.5-coder-7b-instruct']);
    expect((await s.list({ model: 'qwen2.5', sortBy: 'fetched_at', descending: false, limit: 10, offset: 0 })).total).toBe(2);
    expect((await s.list({ model: 'llama', benchmark: 'MMLU', sortBy: 'source', descending: false, limit: 10, offset: 0 })).total).toBe(1);
  });

  it('sync loads the bundled dataset first and reports a missing source without throwing', async () => {
    const s = await store();
    const warnings: object[] = [];
    const logger = { warn: (obj: object) => warnings.push(obj) };
    const results = await syncBenchmarks(s, [fixture('missing.csv'), fixture('arena.csv'), 'http://127.0.0.1:1/x.json'], fetch, logger);
    expect(results.map((r) => [r.ok, r.source])).toEqual([
      [true, `bundled@${BUNDLED_VERSION}`],
      [false, fixture('missing.csv')],
      [true, fixture('arena.csv')],
      [false, 'http://127.0.0.1:1/x.json'],
    ]);
    expect(results[0]!.rows).toBe(bundledRows().length);
    expect(results[1]!.error).toMatch(/missing\.csv/);
    expect(warnings).toHaveLength(2);
    const all = await s.all();
    expect(all).toHaveLength(bundledRows().length + 6);
    // Knowledge from the store sees bundled and imported figures together.
    const knowledge = new BenchmarkKnowledge(all);
    expect(knowledge.forModel('gemma2:27b')!.sources).toContain('lmarena');
    // A second sync is idempotent.
    await syncBenchmarks(s, [fixture('arena.csv')], fetch, logger);
    expect(await s.all()).toHaveLength(all.length);
  });

  it('prunes bundled rows a newer dataset no longer carries', async () => {
    const s = await store();
    const source = bundledSources()[0]!.id;
    await s.upsert([row('retired-1b-instruct', 'MMLU', 10, source), row('kept-1b-instruct', 'MMLU', 20, source), row('imported-1b', 'MMLU', 30, 'lmarena')]);
    expect(await s.prune([source], [row('kept-1b-instruct', 'MMLU', 20, source)])).toBe(1);
    expect((await s.all()).map((r) => r.entry).sort()).toEqual(['imported-1b', 'kept-1b-instruct']);
  });
});

describe('BenchmarkKnowledge.build', () => {
  it('builds the same knowledge as the constructor', async () => {
    const rows: BenchmarkRow[] = [...bundledRows()];
    for (let i = 0; i < 3000; i++) rows.push({ entry: `org-model-${i}-7b-instruct`, benchmark: 'MMLU', score: 50, normalized: 0.5, source: 'test' });
    const built = await BenchmarkKnowledge.build(rows);
    const direct = new BenchmarkKnowledge(rows);
    expect(built.entryCount).toBe(direct.entryCount);
    for (const name of ['qwen2.5-coder:7b', 'llama3.1:8b', 'gemma2:9b', 'hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M']) {
      expect(built.forModel(name), name).toEqual(direct.forModel(name));
    }
  });

  it('Catalogue.build lets timers run between slices and gives the catalogue the constructor gives', async () => {
    const ids = Array.from({ length: 400 }, (_, i) => `vendor-${i}/model-${i}-13b-chat`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    // A slice of 0 ms yields after every name: deterministic, whatever the machine's speed.
    const built = await Catalogue.build(ids, 0);
    clearInterval(timer);
    const direct = new Catalogue(ids);
    expect(built.size).toBe(direct.size);
    for (const id of ids.slice(0, 20)) expect(built.get(id)).toEqual(direct.get(id));
    expect(ticks).toBeGreaterThan(0);
  });
});
