/**
 * Benchmark sources in a running router: at start-up the bundled figures are stored and each
 * ROUTER_BENCHMARK_SOURCES entry imported in the background; an unreachable source logs a warning
 * and the bundled figures serve. Imported figures reach GET /admin/benchmarks and survive a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const ARENA_CSV = fileURLToPath(new URL('./fixtures/benchmarks/arena.csv', import.meta.url));
const UNREACHABLE = 'http://127.0.0.1:9/open-llm-leaderboard.json';

let sim: RunningSimulator;
let dir: string;
beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: 'llama3.1:8b' }, { id: 'mystery-model:7b' }] });
  dir = mkdtempSync(join(tmpdir(), 'sr-bench-sync-'));
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function arenaRows(router: TestRouter): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${router.url}/admin/benchmarks?model=llama3.1:8b&benchmark=arena&limit=500`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Array<Record<string, unknown>> }).data;
}

describe('benchmark sources at start-up', () => {
  it('imports configured sources in the background, warns about an unreachable one, and keeps the figures across a restart', async () => {
    const lines: string[] = [];
    const logs = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        callback();
      },
    });
    const env = { ROUTER_OLLAMA_URL: sim.url, ROUTER_DATABASE_URL: join(dir, 'router.db'), ROUTER_LOG_LEVEL: 'info', ROUTER_LOG_FORMAT: 'json' };
    let router = await startTestRouter({ ...env, ROUTER_BENCHMARK_SOURCES: `${ARENA_CSV},${UNREACHABLE}` }, { logDestination: logs });
    const imported = async () => (await arenaRows(router)).find((r) => r.source_url === ARENA_CSV);
    for (let i = 0; i < 200 && !(await imported()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await imported()).toMatchObject({ model: 'llama3.1:8b', matched_entry: 'llama-3.1-8b-instruct', source: 'lmarena', score: 1175.9 });
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.source === UNREACHABLE);
    expect(warning).toMatchObject({ level: expect.anything(), code: 'unreachable', msg: expect.stringMatching(/bundled .* still serve/) });

    // Bundled figures are stored and serve; an unknown model simply has none.
    const stored = await router.db.em.getKnex()('benchmark_scores').count({ n: '*' }).first();
    expect(Number((stored as { n: number }).n)).toBeGreaterThan(100);
    const all = (await (await fetch(`${router.url}/admin/benchmarks?limit=500`)).json()) as { data: Array<{ model: string }> };
    expect(new Set(all.data.map((r) => r.model))).toEqual(new Set(['llama3.1:8b']));

    await router.stop();
    router = await startTestRouter(env);
    try {
      expect((await arenaRows(router)).find((r) => r.source_url === ARENA_CSV)).toBeDefined();
    } finally {
      await router.stop();
    }
  });
});
