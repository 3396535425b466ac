/**
 * Recall of the semantic index's binary first pass (src/workers/vector-scan.ts) on embeddings shaped
 * like real ones (test/support/realistic-vectors.ts: shared offset, uneven dimensions, dense topics,
 * paraphrases), against an exact float32 brute-force scan (InlineSemanticIndex):
 * - every match returned has a true cosine >= threshold (scores are exact, never estimated);
 * - the best match above the threshold is the exact scan's, for hits, misses and borderline queries;
 * - the first pass really prunes (most rows are never rescored), so the checks above test it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_PARTITION, InlineSemanticIndex } from '../src/core/cache/inline-index.js';
import { VectorPool } from '../src/workers/pool.js';
import { SharedVectorStore } from '../src/workers/shared-store.js';
import { MAX_CANDIDATES, scanRows } from '../src/workers/vector-scan.js';
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
    // Only rows of the partition were rescored: all 400 of them fit under the cap.
    expect(raw.rescored).toBe(wanted.length);
  });

  it('scores every row when the threshold admits everything (low thresholds stay exact)', () => {
    const model = new RealisticEmbeddings(DIMS, 10, 3);
    const store = new SharedVectorStore({ dims: DIMS, chunkRows: 256, scratchSlots: 2 });
    const vectors = Array.from({ length: 1500 }, () => model.text());
    vectors.forEach((v, i) => store.add(`v${i}`, v, undefined));
    const query = model.text();
    const raw = scanRows(store.views, { query, partition: ANY_PARTITION, threshold: -1, limit: 3, start: 0, end: store.rows, scratch: 1 });
    expect(raw.rescored).toBe(1500);
    const want = vectors.map((v, i) => ({ id: `v${i}`, s: cosine(query, v) })).sort((a, b) => b.s - a.s).slice(0, 3);
    expect(store.resolve(raw).map((m) => m.id)).toEqual(want.map((m) => m.id));
  });
});
