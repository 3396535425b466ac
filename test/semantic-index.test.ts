/**
 * The semantic index contract (src/core/cache/semantic-index.ts), run against the inline
 * implementation and the worker implementation (real Piscina threads over shared memory), plus what
 * only the worker one has: splitting across threads, growth seen by workers, crash recovery, and
 * consistency with writes made while a search is in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_PARTITION, InlineSemanticIndex } from '../src/core/cache/inline-index.js';
import type { SemanticIndex } from '../src/core/cache/semantic-index.js';
import { VectorPool } from '../src/workers/pool.js';
import { SharedVectorStore } from '../src/workers/shared-store.js';
import { scanRows } from '../src/workers/vector-scan.js';
import { WorkerSemanticIndex } from '../src/workers/worker-index.js';
import { cosine } from './support/realistic-vectors.js';

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomVector(next: () => number, dims: number): number[] {
  return Array.from({ length: dims }, () => next() * 2 - 1);
}

/** `base` nudged by a little noise: similar, not identical. */
function near(base: number[], next: () => number, amount: number): number[] {
  return base.map((x) => x + (next() * 2 - 1) * amount);
}

let pool: VectorPool;

beforeAll(() => {
  pool = new VectorPool({ threads: 2 });
});

afterAll(async () => {
  await pool.close();
});

const implementations: Array<[string, (options?: { dimensions?: number }) => SemanticIndex]> = [
  ['inline', (options) => new InlineSemanticIndex({ initialCapacity: 2, ...options })],
  // inlineBelow 1: every search goes to the pool; chunks of 8 rows: growth happens constantly.
  ['worker', (options) => new WorkerSemanticIndex({ pool, inlineBelow: 1, chunkRows: 8, ...options })],
];

describe.each(implementations)('%s index', (_name, make) => {
  it('finds an exact match with similarity 1, best first', async () => {
    const index = make();
    const next = random(1);
    const vectors = Array.from({ length: 20 }, () => randomVector(next, 32));
    vectors.forEach((v, i) => index.add(`v${i}`, v));
    expect(index.size).toBe(20);
    const matches = await index.search(vectors[7]!, { threshold: 0.99, limit: 5 });
    expect(matches.map((m) => m.id)).toEqual(['v7']);
    expect(matches[0]!.similarity).toBeCloseTo(1, 5);
    // Scale does not matter: cosine similarity.
    const scaled = await index.search(vectors[7]!.map((x) => x * 40), { threshold: 0.99, limit: 5 });
    expect(scaled.map((m) => m.id)).toEqual(['v7']);
    await index.close();
  });

  it('applies the threshold and the limit, best first', async () => {
    const index = make();
    const next = random(2);
    const base = randomVector(next, 64);
    const others = [0.02, 0.1, 0.3, 0.6, 1.5].map((amount) => near(base, next, amount));
    others.forEach((v, i) => index.add(`n${i}`, v));
    const expected = others.map((v, i) => ({ id: `n${i}`, similarity: cosine(base, v) })).sort((a, b) => b.similarity - a.similarity);

    const all = await index.search(base, { threshold: -1, limit: 10 });
    expect(all.map((m) => m.id)).toEqual(expected.map((m) => m.id));
    all.forEach((m, i) => expect(m.similarity).toBeCloseTo(expected[i]!.similarity, 5));

    const threshold = (expected[2]!.similarity + expected[3]!.similarity) / 2;
    const above = await index.search(base, { threshold, limit: 10 });
    expect(above.map((m) => m.id)).toEqual(expected.slice(0, 3).map((m) => m.id));

    const two = await index.search(base, { threshold: -1, limit: 2 });
    expect(two.map((m) => m.id)).toEqual(expected.slice(0, 2).map((m) => m.id));
    expect(await index.search(base, { threshold: -1, limit: 0 })).toEqual([]);
    await index.close();
  });

  it('searches one partition, or all when none is given', async () => {
    const index = make();
    const v = [1, 0, 0, 0];
    index.add('a', v, 'model=x');
    index.add('b', [1, 0.01, 0, 0], 'model=y');
    index.add('c', [1, 0.02, 0, 0]);
    expect((await index.search(v, { threshold: 0.9, limit: 5, partition: 'model=x' })).map((m) => m.id)).toEqual(['a']);
    expect((await index.search(v, { threshold: 0.9, limit: 5, partition: 'model=y' })).map((m) => m.id)).toEqual(['b']);
    expect((await index.search(v, { threshold: 0.9, limit: 5 })).map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(await index.search(v, { threshold: 0.9, limit: 5, partition: 'model=z' })).toEqual([]);
    // Replacing an entry can move it to another partition.
    index.add('a', v, 'model=y');
    expect(await index.search(v, { threshold: 0.9, limit: 5, partition: 'model=x' })).toEqual([]);
    expect((await index.search(v, { threshold: 0.9, limit: 5, partition: 'model=y' })).map((m) => m.id)).toEqual(['a', 'b']);
    await index.close();
  });

  it('removes and replaces entries, reusing freed slots', async () => {
    const index = make();
    index.add('a', [1, 0, 0]);
    index.add('b', [0, 1, 0]);
    index.add('c', [0, 0, 1]);
    index.remove('b');
    index.remove('missing');
    expect(index.size).toBe(2);
    expect(await index.search([0, 1, 0], { threshold: 0.5, limit: 5 })).toEqual([]);
    index.add('a', [0, 1, 0]);
    expect(index.size).toBe(2);
    expect((await index.search([0, 1, 0], { threshold: 0.5, limit: 5 })).map((m) => m.id)).toEqual(['a']);
    expect(await index.search([1, 0, 0], { threshold: 0.5, limit: 5 })).toEqual([]);
    index.add('d', [1, 0, 0]); // takes b's freed slot
    expect((await index.search([1, 0, 0], { threshold: 0.5, limit: 5 })).map((m) => m.id)).toEqual(['d']);
    index.clear();
    expect(index.size).toBe(0);
    expect(await index.search([1, 0, 0], { threshold: -1, limit: 5 })).toEqual([]);
    index.add('e', [1, 0, 0]);
    expect((await index.search([1, 0, 0], { threshold: 0.5, limit: 5 })).map((m) => m.id)).toEqual(['e']);
    await index.close();
  });

  it('grows past its initial capacity and agrees with a brute-force scan', async () => {
    const index = make();
    const next = random(3);
    const dims = 96;
    const vectors = Array.from({ length: 300 }, () => randomVector(next, dims));
    vectors.forEach((v, i) => index.add(`v${i}`, v, i % 3 === 0 ? 'p' : undefined));
    for (let q = 0; q < 5; q++) {
      const query = q < 2 ? near(vectors[q * 50]!, next, 0.3) : randomVector(next, dims);
      const expected = vectors
        .map((v, i) => ({ id: `v${i}`, similarity: cosine(query, v) }))
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, 4);
      const got = await index.search(query, { threshold: -1, limit: 4 });
      expect(got.map((m) => m.id)).toEqual(expected.map((m) => m.id));
      got.forEach((m, i) => expect(m.similarity).toBeCloseTo(expected[i]!.similarity, 5));
    }
    await index.close();
  });

  it('rejects vectors of the wrong dimension and other bad input with a RangeError', async () => {
    const index = make();
    expect(() => index.add('zero', [0, 0, 0])).toThrow(RangeError);
    expect(index.size).toBe(0);
    index.add('a', [1, 2, 3]);
    expect(() => index.add('b', [1, 2])).toThrow(/3-dimensional/);
    expect(() => index.add('c', [1, Number.NaN, 3])).toThrow(RangeError);
    await expect(index.search([1, 2, 3, 4], { threshold: 0.5, limit: 1 })).rejects.toThrow(RangeError);
    await expect(index.search([1, 2, 3], { threshold: 0.5, limit: -1 })).rejects.toThrow(/limit/);
    await expect(index.search([1, 2, 3], { threshold: Number.NaN, limit: 1 })).rejects.toThrow(/threshold/);
    expect(index.size).toBe(1);
    await index.close();
  });

  it('fixes the dimension up front when told, and searches an empty index', async () => {
    const index = make({ dimensions: 4 });
    expect(await index.search([1, 0, 0, 0], { threshold: 0, limit: 3 })).toEqual([]);
    expect(() => index.add('a', [1, 0, 0])).toThrow(RangeError);
    await index.close();
  });

  it('refuses work after close()', async () => {
    const index = make();
    index.add('a', [1, 0]);
    await index.close();
    await index.close();
    expect(() => index.add('b', [0, 1])).toThrow(/closed/);
    await expect(index.search([1, 0], { threshold: 0, limit: 1 })).rejects.toThrow(/closed/);
  });
});

describe('worker index', () => {
  it('splits a large index across the threads and finds the same matches as the inline index', async () => {
    const worker = new WorkerSemanticIndex({ pool, inlineBelow: 256, chunkRows: 64 });
    const inline = new InlineSemanticIndex();
    const next = random(4);
    const dims = 768;
    const vectors = Array.from({ length: 1500 }, () => randomVector(next, dims));
    vectors.forEach((v, i) => {
      worker.add(`v${i}`, v, `p${i % 2}`);
      inline.add(`v${i}`, v, `p${i % 2}`);
    });
    for (let q = 0; q < 6; q++) {
      const query = q % 2 === 0 ? near(vectors[q * 200]!, next, 0.5) : randomVector(next, dims);
      const options = { threshold: q < 4 ? -1 : 0.5, limit: 5, partition: q === 3 ? 'p1' : undefined };
      const [a, b] = await Promise.all([worker.search(query, options), inline.search(query, options)]);
      expect(a.map((m) => m.id)).toEqual(b.map((m) => m.id));
      a.forEach((m, i) => expect(m.similarity).toBeCloseTo(b[i]!.similarity, 6));
    }
    expect(worker.stats.pooledScans).toBeGreaterThanOrEqual(12); // 6 searches × 2 threads
    expect(worker.stats.layoutMisses).toBeGreaterThan(0); // growth after the first task
    expect(worker.stats.inlineSearches).toBe(0);
    await Promise.all([worker.close(), inline.close()]);
  });

  it('scans small indexes inline, without the thread hop', async () => {
    const index = new WorkerSemanticIndex({ pool, inlineBelow: 100 });
    index.add('a', [1, 0, 0]);
    expect((await index.search([1, 0, 0], { threshold: 0.5, limit: 1 })).map((m) => m.id)).toEqual(['a']);
    expect(index.stats).toMatchObject({ inlineSearches: 1, pooledScans: 0 });
    await index.close();
  });

  it('survives a worker that dies mid-search: retried, nothing lost', async () => {
    const index = new WorkerSemanticIndex({ pool, inlineBelow: 1, chunkRows: 16 });
    const next = random(5);
    const vectors = Array.from({ length: 100 }, () => randomVector(next, 48));
    vectors.forEach((v, i) => index.add(`v${i}`, v));
    pool.failNextTaskForTest();
    const matches = await index.search(vectors[42]!, { threshold: 0.99, limit: 1 });
    expect(matches.map((m) => m.id)).toEqual(['v42']);
    expect(index.stats.retries).toBe(1);
    expect(index.stats.inlineFallbacks).toBe(0);
    // The pool replaced the thread; later searches run on workers again.
    const before = index.stats.pooledScans;
    expect((await index.search(vectors[7]!, { threshold: 0.99, limit: 1 })).map((m) => m.id)).toEqual(['v7']);
    expect(index.stats.pooledScans).toBeGreaterThan(before);
    await index.close();
  });

  it('never returns an id removed or replaced while the search was in flight', async () => {
    const index = new WorkerSemanticIndex({ pool, inlineBelow: 1, chunkRows: 32 });
    const next = random(6);
    const dims = 64;
    const vectors = Array.from({ length: 400 }, () => randomVector(next, dims));
    vectors.forEach((v, i) => index.add(`v${i}`, v));
    const orthogonalish = randomVector(next, dims);
    for (let round = 0; round < 20; round++) {
      const target = round * 17;
      let settled = false;
      const pending = index.search(vectors[target]!, { threshold: 0.95, limit: 3 }).finally(() => (settled = true));
      // The write lands before the task is posted, or (after a turn of the loop) while a worker
      // scans or after it answered: unless the search had already finished, the old row must not
      // come back.
      if (round % 4 >= 2) await new Promise<void>((resolve) => setImmediate(resolve));
      const finishedBeforeWrite = settled;
      if (round % 2 === 0) index.remove(`v${target}`);
      else index.add(`v${target}`, orthogonalish);
      const matches = await pending;
      expect(matches.some((m) => m.id === `v${target}`)).toBe(finishedBeforeWrite);
      index.add(`v${target}`, vectors[target]!); // restore for the next rounds
    }
    await index.close();
  });

  it('drops scan results for rows written after the scan read them (generation check)', () => {
    const store = new SharedVectorStore({ dims: 4, chunkRows: 4, scratchSlots: 2 });
    store.add('a', [1, 0, 0, 0], undefined);
    store.add('b', [0.9, 0.1, 0, 0], undefined);
    const request = { query: new Float32Array([1, 0, 0, 0]), partition: ANY_PARTITION, threshold: 0.5, limit: 5, start: 0, end: store.rows, scratch: 0 };
    const raw = scanRows(store.views, request);
    expect(store.resolve(raw).map((m) => m.id)).toEqual(['a', 'b']);
    store.remove('a');
    store.add('c', [0, 0, 1, 0], undefined); // reuses a's slot: same row, new generation
    store.add('b', [0.8, 0.2, 0, 0], undefined); // replaced in place
    expect(store.resolve(raw)).toEqual([]);
    expect(store.resolve(scanRows(store.views, { ...request, end: store.rows })).map((m) => m.id)).toEqual(['b']);
  });

  it('starts no worker threads while every search is inline (idle memory), and starts them on the first pooled scan', async () => {
    const index = new WorkerSemanticIndex({ threads: 1, inlineBelow: 3 });
    index.add('a', [1, 0]);
    index.add('b', [0, 1]);
    expect((await index.search([1, 0], { threshold: 0.5, limit: 1 })).map((m) => m.id)).toEqual(['a']);
    expect(index.poolStarted).toBe(false);
    index.add('c', [0.9, 0.1]);
    expect((await index.search([1, 0], { threshold: 0.5, limit: 2 })).map((m) => m.id)).toEqual(['a', 'c']);
    expect(index.poolStarted).toBe(true);
    expect(index.stats.pooledScans).toBeGreaterThan(0);
    await index.close();
  });

  it('closes the pool it started itself, and leaves a shared pool open', async () => {
    const own = new WorkerSemanticIndex({ threads: 1, inlineBelow: 1 });
    own.add('a', [1, 0]);
    expect((await own.search([1, 0], { threshold: 0.5, limit: 1 })).map((m) => m.id)).toEqual(['a']);
    await own.close();
    expect(own.pool.closed).toBe(true);

    const shared = new WorkerSemanticIndex({ pool, inlineBelow: 1 });
    await shared.close();
    expect(pool.closed).toBe(false);
  });
});
