/**
 * Recall of the semantic index's binary first pass (src/workers/vector-scan.ts) on embeddings shaped
 * like real ones (test/support/realistic-vectors.ts: shared offset, uneven dimensions, dense topics,
 * paraphrases), against an exact float32 brute-force scan (InlineSemanticIndex):
 * - every match returned has a true cosine >= threshold (scores are exact, never estimated);
 * - the best match above the threshold is the exact scan's, for hits, misses and borderline queries;
 * - the first pass really prunes (most rows are never rescored), so the checks above test it;
 * - an exact top-k with no similarity floor (the embedding classifier's query) is the brute-force
 *   top-k while rescoring a fraction of the rows (the walk stops on the k-th best exact score).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_PARTITION, InlineSemanticIndex } from '../src/core/cache/inline-index.js';
import { VectorPool } from '../src/workers/pool.js';
import { SharedVectorStore } from '../src/workers/shared-store.js';
import { MAX_CANDIDATES, MIN_CANDIDATES, scanRows } from '../src/workers/vector-scan.js';
import { WorkerSemanticIndex } from '../src/workers/worker-index.js';
import { cosine, RealisticEmbeddings } from './support/realistic-vectors.js';

const DIMS = 768;
const THRESHOLD = 0.85;

let pool: VectorPool;

beforeAll(() => {
  pool = new VectorPool({ threads: 2 });
});

afterAll(async () => {
  await pool.close();
});

describe('binary first pass + exact rescoring on realistic embeddings', () => {
  it('finds the exact scan\'s best match for hits, misses and borderline queries, and only true matches', async () => {
    const rows = 20_000;
    const model = new RealisticEmbeddings(DIMS, 100);
    const vectors = Array.from({ length: rows }, () => model.text());
    // Chunks of 1024 rows: the running cut-off is exercised across many blocks.
    const worker = new WorkerSemanticIndex({ pool, inlineBelow: 0, chunkRows: 1024 });
    const exact = new InlineSemanticIndex({ dimensions: DIMS });
    vectors.forEach((v, i) => {
      worker.add(`v${i}`, v);
      exact.add(`v${i}`, v);
    });

    const queries: Float32Array[] = [];
    for (let i = 0; i < 160; i++) {
      const cached = vectors[Math.floor(model.next() * rows)]!;
      if (i % 4 === 0) queries.push(model.paraphrase(cached, 0.2 + 0.6 * model.next())); // cosine ~0.8-0.98
      else if (i % 4 === 1) queries.push(model.text()); // a new prompt on a cached topic: a miss
      else queries.push(model.atCosine(cached, 0.83 + 0.04 * model.next())); // right at the threshold
    }

    let hits = 0;
    const options = { threshold: THRESHOLD, limit: 4 };
    for (const query of queries) {
      const [want, got] = await Promise.all([exact.search(query, options), worker.search(query, options)]);
      expect(got[0]?.id).toBe(want[0]?.id);
      expect(got.map((m) => m.id)).toEqual(want.map((m) => m.id));
      for (const match of got) {
        const truth = cosine(query, vectors[Number(match.id.slice(1))]!);
        expect(truth).toBeGreaterThanOrEqual(THRESHOLD - 1e-6);
        expect(match.similarity).toBeCloseTo(truth, 5);
      }
      if (want.length > 0) hits++;
    }
    // Both outcomes are well represented, so agreement is not trivial.
    expect(hits).toBeGreaterThan(30);
    expect(queries.length - hits).toBeGreaterThan(30);
    // The first pass pruned: well under a tenth of the rows were scored exactly.
    expect(worker.stats.rescored / (queries.length * rows)).toBeLessThan(0.1);
    expect(worker.stats.pooledScans).toBeGreaterThanOrEqual(queries.length);
    await Promise.all([worker.close(), exact.close()]);
  });

  it('keeps the best rows of a dense neighbourhood larger than the rescoring cap', () => {
    // A popular question: thousands of cached paraphrases between cosine 0.75 and 0.9 of the query,
    // more than MAX_CANDIDATES, among unrelated texts. One range (no split) so the cap applies.
    const model = new RealisticEmbeddings(DIMS, 50, 11);
    const query = model.text();
    const store = new SharedVectorStore({ dims: DIMS, chunkRows: 1024, scratchSlots: 2 });
    const vectors: Float32Array[] = [];
    for (let i = 0; i < 12_000; i++) {
      const v = i % 4 === 0 ? model.atCosine(query, 0.75 + 0.15 * model.next()) : model.text();
      vectors.push(v);
      store.add(`v${i}`, v, undefined);
    }
    const request = { query, partition: ANY_PARTITION, threshold: THRESHOLD, limit: 10, start: 0, end: store.rows, scratch: 1 };
    const raw = scanRows(store.views, request);
    const want = vectors
      .map((v, i) => ({ id: `v${i}`, similarity: cosine(query, v) }))
      .filter((m) => m.similarity >= THRESHOLD)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, 10);
    const got = store.resolve(raw);
    expect(got.map((m) => m.id)).toEqual(want.map((m) => m.id));
    got.forEach((m, i) => expect(m.similarity).toBeCloseTo(want[i]!.similarity, 5));
    // The cap held (ties at the cut-off distance may add a few) and still pruned most rows.
    expect(raw.rescored).toBeGreaterThan(256);
    expect(raw.rescored).toBeLessThan(MAX_CANDIDATES * 1.2);
  });

  it('gives every candidate place to the searched partition, even when it is a small minority', () => {
    // A cache split by parameters: the query's partition holds 5% of the rows, and the other
    // partitions hold rows nearer to the query. Free rows (removed entries) are mixed in too.
    const model = new RealisticEmbeddings(DIMS, 40, 5);
    const query = model.text();
    const store = new SharedVectorStore({ dims: DIMS, chunkRows: 512, scratchSlots: 2 });
    const wanted: Array<{ id: string; v: Float32Array }> = [];
    for (let i = 0; i < 8000; i++) {
      const mine = i % 20 === 0;
      // Other partitions: many rows at cosine 0.9-0.97, nearer than anything in the searched one.
      const v = mine ? model.atCosine(query, 0.8 + 0.1 * model.next()) : i % 3 === 0 ? model.atCosine(query, 0.9 + 0.07 * model.next()) : model.text();
      store.add(`v${i}`, v, mine ? 'temperature=0' : `temperature=0.${i % 7}`);
      if (mine) wanted.push({ id: `v${i}`, v });
      if (i % 11 === 0 && !mine) store.remove(`v${i}`);
    }
    const code = store.codes.lookup('temperature=0', false)!;
    const raw = scanRows(store.views, { query, partition: code, threshold: THRESHOLD, limit: 5, start: 0, end: store.rows, scratch: 1 });
    const want = wanted
      .map((m) => ({ id: m.id, similarity: cosine(query, m.v) }))
      .filter((m) => m.similarity >= THRESHOLD)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, 5);
    expect(want.length).toBe(5);
    expect(store.resolve(raw).map((m) => m.id)).toEqual(want.map((m) => m.id));
    // Only rows of the partition were rescored (all 400 of them fit under the cap; the walk may stop
    // before the last of them once the top 5 is settled).
    expect(raw.rescored).toBeGreaterThanOrEqual(MIN_CANDIDATES);
    expect(raw.rescored).toBeLessThanOrEqual(wanted.length);
  });

  it('stays exact when the threshold admits everything, scoring only what the k-th best needs', () => {
    const model = new RealisticEmbeddings(DIMS, 10, 3);
    const store = new SharedVectorStore({ dims: DIMS, chunkRows: 256, scratchSlots: 2 });
    const exact = new InlineSemanticIndex({ dimensions: DIMS });
    const vectors = Array.from({ length: 1500 }, () => model.text());
    vectors.forEach((v, i) => {
      store.add(`v${i}`, v, undefined);
      exact.add(`v${i}`, v);
    });
    const query = model.text();
    const scan = (limit: number) => scanRows(store.views, { query, partition: ANY_PARTITION, threshold: -1, limit, start: 0, end: store.rows, scratch: 1 });
    const few = scan(3);
    expect(store.resolve(few)).toEqual(exact.searchNow(query, { threshold: -1, limit: 3 }));
    expect(few.rescored).toBeGreaterThanOrEqual(MIN_CANDIDATES);
    expect(few.rescored).toBeLessThan(1500);
    // A top-k that never fills (k = every row) scores every row, in the exact scan's order.
    const all = scan(1500);
    expect(all.rescored).toBe(1500);
    expect(store.resolve(all)).toEqual(exact.searchNow(query, { threshold: -1, limit: 1500 }));
  });

  it('returns the brute-force top-10 for the classifier\'s query (3,716 exemplars, threshold -1) from a fraction of the rows', async () => {
    // The embedding classifier (src/plugins/classifiers/embedding/knn.ts): an exact top-10 with no
    // similarity floor, on the calling thread. Queries: new prompts on known topics and paraphrases
    // of exemplars, near and far (far ones have a loose neighbourhood, the hard case).
    const rows = 3716;
    const model = new RealisticEmbeddings(DIMS, 60, 11);
    const vectors = Array.from({ length: rows }, () => model.text());
    const index = new WorkerSemanticIndex({ dimensions: DIMS, inlineBelow: Number.POSITIVE_INFINITY });
    const exact = new InlineSemanticIndex({ dimensions: DIMS });
    vectors.forEach((v, i) => {
      index.add(String(i), v);
      exact.add(String(i), v);
    });
    const queries = Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? model.paraphrase(vectors[Math.floor(model.next() * rows)]!, 0.6 + model.next()) : model.text()));
    const options = { threshold: -1, limit: 10 };
    for (const query of queries) {
      const got = await index.search(query, options);
      expect(got.map((m) => m.id)).toEqual(exact.searchNow(query, options).map((m) => m.id));
    }
    expect(index.stats.inlineSearches).toBe(queries.length);
    // Before the walk stopped on the 10th best score, every query rescored the ~2,080 rows nearest by
    // Hamming distance (the threshold's radius at -1 is every row, cut at MAX_CANDIDATES).
    expect(index.stats.rescored / queries.length).toBeLessThan(rows * 0.25);
    await Promise.all([index.close(), exact.close()]);
  });

  it('orders equal exact scores by row, whatever their Hamming distances', async () => {
    // 600 rows with exactly the same cosine with the query (c·e0 + s·e_i) but different codes: the
    // walk meets them in distance order, the result must still be the lowest rows, as a full scan's.
    const c = 0.6;
    const s = 0.8;
    const store = new SharedVectorStore({ dims: DIMS, chunkRows: 256, scratchSlots: 2 });
    const exact = new InlineSemanticIndex({ dimensions: DIMS });
    for (let i = 0; i < 600; i++) {
      const v = new Float32Array(DIMS);
      v[0] = c;
      v[1 + i] = s;
      store.add(`v${i}`, v, undefined);
      exact.add(`v${i}`, v);
    }
    const query = new Float32Array(DIMS);
    query[0] = 1;
    for (const [threshold, limit] of [[-1, 5], [0.5, 7], [0.5, 1]] as const) {
      const raw = scanRows(store.views, { query, partition: ANY_PARTITION, threshold, limit, start: 0, end: store.rows, scratch: 1 });
      const got = store.resolve(raw);
      expect(new Set(got.map((m) => m.similarity)).size).toBe(1);
      expect(got.map((m) => m.id)).toEqual(Array.from({ length: limit }, (_, i) => `v${i}`));
      expect(got).toEqual(exact.searchNow(query, { threshold, limit }));
    }
    await exact.close();
  });
});
