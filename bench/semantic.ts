/**
 * Semantic cache lookups (issue #6 item 6): search latency at 1k, 10k and 100k cached 768-dim
 * vectors inline vs in worker threads, the event loop's delay while lookups run concurrently, the
 * inline/worker crossover for small indexes, and whether moving candidate scoring to the pool pays.
 *
 * Vectors are clustered like real embeddings (texts on one topic share a direction; cosine ~0.55
 * inside a cluster), lookups are half near-duplicates of a cached prompt (cosine ~0.95: a hit at the
 * default 0.85 threshold) and half new prompts on a cached topic (a miss).
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { InlineSemanticIndex } from '../src/core/cache/inline-index.js';
import type { SemanticIndex, SemanticSearchOptions } from '../src/core/cache/semantic-index.js';
import { DEFAULT_WEIGHTS, scoreCandidates } from '../src/core/scoring.js';
import { resolveThreads, VectorPool, workerEntry } from '../src/workers/pool.js';
import type { ScoringTask } from '../src/workers/scoring.js';
import { WorkerSemanticIndex } from '../src/workers/worker-index.js';
import { syntheticFleet } from './decision.js';
import { semanticTables } from './report.js';
import { summarize, timeSync } from './stats.js';

const DIMS = 768;
const SEARCH: SemanticSearchOptions = { threshold: 0.85, limit: 4 };

export interface LookupRow {
  vectors: number;
  mode: string;
  p50_ms: number;
  p99_ms: number;
  hit_rate: number;
}

export interface LoadRow {
  vectors: number;
  mode: string;
  clients: number;
  lookups_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** perf_hooks.monitorEventLoopDelay p99 while the lookups ran. */
  loop_delay_p99_ms: number;
  /** Share of the run the main thread was busy (performance.eventLoopUtilization). */
  loop_utilization: number;
}

export interface CrossoverRow {
  vectors: number;
  inline_p50_ms: number;
  worker_p50_ms: number;
}

export interface SemanticBenchResult {
  threads: number;
  lookups: LookupRow[];
  load: LoadRow[];
  crossover: CrossoverRow[];
  scoring: { inline_p50_us: number; inline_p99_us: number; worker_p50_us: number; worker_p99_us: number; models: number };
}

/** xorshift32: fast, deterministic, good enough for synthetic vectors. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

class Corpus {
  private readonly next = rng(42);
  private readonly centers: Float32Array[];
  readonly vectors: Float32Array[] = [];

  constructor(clusters: number) {
    this.centers = Array.from({ length: clusters }, () => this.unit());
  }

  /** Approximately normal components (sum of uniforms), unit length. */
  unit(): Float32Array {
    const v = new Float32Array(DIMS);
    let sum = 0;
    for (let i = 0; i < DIMS; i++) {
      const x = this.next() + this.next() + this.next() - 1.5;
      v[i] = x;
      sum += x * x;
    }
    const s = 1 / Math.sqrt(sum);
    for (let i = 0; i < DIMS; i++) v[i]! *= s;
    return v;
  }

  /** a·base + b·noise, unit length. */
  mix(base: Float32Array, a: number, b: number): Float32Array {
    const noise = this.unit();
    const v = new Float32Array(DIMS);
    for (let i = 0; i < DIMS; i++) v[i] = a * base[i]! + b * noise[i]!;
    return v;
  }

  grow(count: number): void {
    while (this.vectors.length < count) {
      this.vectors.push(this.mix(this.centers[Math.floor(this.next() * this.centers.length)]!, 0.75, 0.66));
    }
  }

  /** Even: a paraphrase of one of the first `cached` vectors (hit); odd: a new prompt on a cached topic (miss). */
  queries(count: number, cached: number): Float32Array[] {
    return Array.from({ length: count }, (_, i) =>
      i % 2 === 0
        ? this.mix(this.vectors[Math.floor(this.next() * cached)]!, 1, 0.33)
        : this.mix(this.centers[Math.floor(this.next() * this.centers.length)]!, 0.75, 0.66),
    );
  }
}

async function timeLookups(index: SemanticIndex, queries: Float32Array[]): Promise<{ p50: number; p99: number; hits: number }> {
  for (const q of queries.slice(0, 3)) await index.search(q, SEARCH); // warm-up (JIT, worker layout)
  const samples: number[] = [];
  let hits = 0;
  for (const q of queries) {
    const t = performance.now();
    const matches = await index.search(q, SEARCH);
    samples.push(performance.now() - t);
    if (matches.length > 0) hits++;
  }
  const s = summarize(samples);
  return { p50: s.p50, p99: s.p99, hits: hits / queries.length };
}

/** `clients` concurrent lookup loops for `seconds`, with the event loop's delay sampled meanwhile. */
async function loadRun(index: SemanticIndex, queries: Float32Array[], clients: number, seconds: number): Promise<Omit<LoadRow, 'vectors' | 'mode'>> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const elu = performance.eventLoopUtilization();
  histogram.enable();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const q = queries[n++ % queries.length]!;
        const t = performance.now();
        await index.search(q, SEARCH);
        samples.push(performance.now() - t);
        // Yield to the event loop between lookups, as request handlers do.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }),
  );
  histogram.disable();
  const utilization = performance.eventLoopUtilization(elu).utilization;
  const s = summarize(samples);
  return {
    clients,
    lookups_per_s: Math.round(samples.length / seconds),
    p50_ms: round(s.p50),
    p99_ms: round(s.p99),
    loop_delay_p99_ms: round(histogram.percentile(99) / 1e6),
    loop_utilization: round(utilization),
  };
}

function round(x: number, digits = 2): number {
  return Number(x.toFixed(digits));
}

/** Scoring 50 models inline vs the same scoring as a task on a worker (round trip included). */
async function scoringBench(quick: boolean): Promise<SemanticBenchResult['scoring']> {
  const models = syntheticFleet(50);
  const recentShare = Object.fromEntries(models.map((m, i) => [m.key, (i % 5) / 10]));
  const task: ScoringTask = {
    models,
    category: 'coding',
    complexity: 'hard',
    complexityScore: 0.8,
    needs: { vision: false, tools: true, json: false, minContextTokens: 2000 },
    qualityPreference: 0.5,
    weights: DEFAULT_WEIGHTS,
    recentShare,
    feedback: {},
  };
  const inline = summarize(
    timeSync(() => scoreCandidates({ ...task, recentShare: (k) => recentShare[k] ?? 0, feedback: () => undefined }), quick ? 2000 : 20000),
  );
  const pool = new Piscina({ ...workerEntry('scoring'), name: 'score', minThreads: 1, maxThreads: 1 });
  try {
    for (let i = 0; i < 50; i++) await pool.run(task);
    const samples: number[] = [];
    for (let i = 0; i < (quick ? 200 : 2000); i++) {
      const t = process.hrtime.bigint();
      await pool.run(task);
      samples.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    const worker = summarize(samples);
    return { models: 50, inline_p50_us: round(inline.p50), inline_p99_us: round(inline.p99), worker_p50_us: round(worker.p50), worker_p99_us: round(worker.p99) };
  } finally {
    await pool.destroy();
  }
}

export async function semanticBench(options: { quick: boolean; seconds: number }): Promise<SemanticBenchResult> {
  const { quick } = options;
  const sizes = quick ? [1000, 10_000] : [1000, 10_000, 100_000];
  const loadSeconds = Math.min(options.seconds, quick ? 0.5 : 2);
  const threads = resolveThreads(Number(process.env.ROUTER_WORKER_THREADS ?? 0));
  const corpus = new Corpus(200);
  const pool = new VectorPool({ threads });
  const inlineTs = new InlineSemanticIndex({ dimensions: DIMS });
  // One shared store; `inlineBelow` switches the same index between the calling thread and the pool.
  const shared = new WorkerSemanticIndex({ pool, dimensions: DIMS });
  const lookups: LookupRow[] = [];
  const load: LoadRow[] = [];
  const crossover: CrossoverRow[] = [];

  try {
    // Crossover for small indexes: inline scan vs a round trip to an idle worker.
    for (const n of quick ? [512, 4096] : [256, 1024, 2048, 4096, 8192]) {
      corpus.grow(n);
      for (let i = shared.size; i < n; i++) shared.add(`v${i}`, corpus.vectors[i]!);
      const queries = corpus.queries(quick ? 50 : 300, n);
      shared.inlineBelow = Infinity;
      const inline = await timeLookups(shared, queries);
      shared.inlineBelow = 0;
      const worker = await timeLookups(shared, queries);
      crossover.push({ vectors: n, inline_p50_ms: round(inline.p50, 3), worker_p50_ms: round(worker.p50, 3) });
    }
    shared.clear();

    for (const n of sizes) {
      corpus.grow(n);
      for (let i = inlineTs.size; i < n; i++) {
        inlineTs.add(`v${i}`, corpus.vectors[i]!);
        shared.add(`v${i}`, corpus.vectors[i]!);
      }
      // 400 lookups at 100k: enough samples for the p99 to be more than the maximum.
      const count = n >= 100_000 ? (quick ? 20 : 400) : quick ? 50 : 200;
      const qs = corpus.queries(count, n);
      const modes: Array<[string, SemanticIndex, number]> = [
        ['inline, TypeScript float32', inlineTs, Infinity],
        ['inline, binary pass + float32 rescoring', shared, Infinity],
        [`worker (${threads} thread${threads > 1 ? 's' : ''})`, shared, 0],
      ];
      for (const [mode, index, inlineBelow] of modes) {
        shared.inlineBelow = inlineBelow;
        // The TypeScript scan takes ~40 ms at 100k: fewer samples keep the run short (its p99 is then the maximum).
        const r = await timeLookups(index, index === inlineTs && n >= 10_000 ? qs.slice(0, quick ? 10 : 40) : qs);
        lookups.push({ vectors: n, mode, p50_ms: round(r.p50, 3), p99_ms: round(r.p99, 3), hit_rate: round(r.hits) });
      }
      if (n === sizes[sizes.length - 1]) {
        // The TypeScript scan is left out: it blocks the loop for its whole scan time (p50 above).
        for (const [mode, index, inlineBelow] of modes.slice(1)) {
          shared.inlineBelow = inlineBelow;
          load.push({ vectors: n, mode, ...(await loadRun(index, qs, 4, loadSeconds)) });
        }
        const cores = os.availableParallelism();
        if (cores > threads) {
          // One thread per core: the main thread mostly waits, so the scan can use every core.
          const wide = new WorkerSemanticIndex({ threads: cores, dimensions: DIMS, inlineBelow: 0 });
          try {
            for (let i = 0; i < n; i++) wide.add(`v${i}`, corpus.vectors[i]!);
            const mode = `worker (${cores} threads)`;
            const r = await timeLookups(wide, qs);
            lookups.push({ vectors: n, mode, p50_ms: round(r.p50, 3), p99_ms: round(r.p99, 3), hit_rate: round(r.hits) });
            load.push({ vectors: n, mode, ...(await loadRun(wide, qs, 4, loadSeconds)) });
          } finally {
            await wide.close();
          }
        }
      }
    }
  } finally {
    await Promise.all([shared.close(), inlineTs.close()]);
    await pool.close();
  }
  const scoring = await scoringBench(quick);
  return { threads, lookups, load, crossover, scoring };
}

// `npx tsx bench/semantic.ts [--quick]`: this part of `npm run bench` alone (run it on an idle machine).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await semanticBench({ quick: process.argv.includes('--quick'), seconds: 2 });
  console.log(semanticTables(result));
}
