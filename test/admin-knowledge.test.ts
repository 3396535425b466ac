/**
 * "Know the models", seen from outside: a fresh router in front of a simulated fleet (Ollama and
 * llama-swap simulators whose models differ in quality and speed) profiles every chat model in the
 * background, skips the embedding-only one, and serves the results on both doors:
 * GET /admin/profiles and AdminService.ListProfiles (differentiated per-category scores),
 * GET /admin/benchmarks and AdminService.ListBenchmarks (public figures matched to well-known
 * models, with their source). The routing score reads them, and a restart keeps them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { Category } from '../gen/smarterrouter/v1/common_pb.js';
import { PROMPT_SET_VERSION } from '../src/core/profiling/index.js';
import { startLlamaCppSimulator, startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const OLLAMA_FLEET: SimModel[] = [
  { id: 'qwen2.5-coder:7b', parameterSizeB: 7.6, quality: { coding: 0.95, reasoning: 0.5, creativity: 0.25, general: 0.4 }, tokensPerSecond: 1500, firstTokenMs: 5 },
  { id: 'llama3.1:8b', parameterSizeB: 8, quality: { coding: 0.25, reasoning: 0.45, creativity: 0.95, general: 0.9 }, tokensPerSecond: 300, firstTokenMs: 150 },
  { id: 'nomic-embed-text:latest', parameterSizeB: 0.137, capabilities: { embeddings: true } },
];
const SWAP_FLEET: SimModel[] = [{ id: 'gemma-2-9b-it', parameterSizeB: 9, quality: { coding: 0.5, reasoning: 0.95, creativity: 0.5, general: 0.6 } }];
const CHAT_MODELS = ['gemma-2-9b-it', 'llama3.1:8b', 'qwen2.5-coder:7b'];

let ollama: RunningSimulator;
let swap: RunningSimulator;
let router: TestRouter;
let dir: string;

function env(): Record<string, string> {
  return {
    ROUTER_BACKENDS: `gpu=ollama:${ollama.url},swap=llama.cpp:${swap.url}`,
    ROUTER_DATABASE_URL: join(dir, 'router.db'),
    ROUTER_PROFILE_ON_STARTUP: 'true',
    ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1',
    ROUTER_PROFILE_TIMEOUT: '20',
  };
}

/** Waits for background profiling to settle (the run discovery started, and any queued after it). */
async function profilingSettled(r: TestRouter): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const run = r.core.knowledge.coordinator.current();
    if (run) await run.done;
    else if (r.core.knowledge.coordinator.status().completedCount > 0 || i > 20) return;
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function getJson(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${router.url}${path}`);
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sr-knowledge-'));
  ollama = await startOllamaSimulator({ models: OLLAMA_FLEET });
  swap = await startLlamaCppSimulator({ models: SWAP_FLEET, mode: 'swap' });
  router = await startTestRouter(env());
  await profilingSettled(router);
});

afterAll(async () => {
  await router?.stop();
  await ollama?.close();
  await swap?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a fresh start against a simulated fleet', () => {
  it('profiles every chat model of every backend, skips the embedding-only one, and records the models', async () => {
    const { status, body } = await getJson('/admin/profiles');
    expect(status).toBe(200);
    expect(body.data.map((p: { model: string }) => p.model)).toEqual(CHAT_MODELS);
    expect(body.total).toBe(3);
    const profiled = new Set(ollama.requests.flatMap((r) => (r.path === '/api/chat' && (r.body as { messages?: unknown[] })?.messages?.length ? [(r.body as { model: string }).model] : [])));
    expect(profiled.has('nomic-embed-text:latest')).toBe(false);
    for (const p of body.data) {
      expect(Object.keys(p.scores).sort()).toEqual(['coding', 'creativity', 'general', 'reasoning']);
      expect(p).toMatchObject({ available: true, failures: 0, timeouts: 0, judge: 'heuristic', prompt_set_version: PROMPT_SET_VERSION });
      expect(p.profiled_at).toEqual(expect.any(String));
    }
    const byModel = Object.fromEntries(body.data.map((p: { model: string }) => [p.model, p]));
    expect(byModel['qwen2.5-coder:7b'].backend).toBe('gpu');
    expect(byModel['gemma-2-9b-it'].backend).toBe('swap');
    // Ollama reports the VRAM of a loaded model (/api/ps size_vram): measured while profiling.
    expect(byModel['qwen2.5-coder:7b'].vram_bytes).toBeGreaterThan(0);

    // The models table keeps every model, the embedding one included.
    const rows = await router.db.em.getKnex()('models').select('key', 'available');
    expect(rows.map((r: { key: string }) => r.key).sort()).toEqual([...CHAT_MODELS, 'nomic-embed-text:latest'].sort());
  });

  it('ranks the models per category as the simulator defines them', async () => {
    const best = async (category: string) => (await getJson(`/admin/profiles?sort=-${category}&limit=1`)).body.data[0].model;
    expect(await best('coding')).toBe('qwen2.5-coder:7b');
    expect(await best('creativity')).toBe('llama3.1:8b');
    expect(await best('reasoning')).toBe('gemma-2-9b-it');
    const slowest = await getJson('/admin/profiles?sort=-ttft_ms&limit=1');
    expect(slowest.body.data[0].model).toBe('llama3.1:8b');
    expect(slowest.body).toMatchObject({ total: 3, limit: 1, offset: 0, has_more: true });
    const tps = (await getJson('/admin/profiles?sort=-tokens_per_second')).body.data.map((p: { model: string }) => p.model);
    expect(tps.indexOf('qwen2.5-coder:7b')).toBeLessThan(tps.indexOf('llama3.1:8b'));
  });

  it('feeds the routing score: explain uses the measured scores, not priors', async () => {
    const model = router.core.registry.snapshot().find((m) => m.key === 'qwen2.5-coder:7b')!;
    expect(model.profile?.scores.coding).toBeGreaterThan(model.profile!.scores.creativity!);
    expect(model.profile?.tokensPerSecond).toBeGreaterThan(0);
    expect(model.benchmark?.byCategory?.coding).toBeGreaterThan(0);
    const { body } = await getJson(`/admin/explain?prompt=${encodeURIComponent('Write a Python function that merges two sorted lists, with unit tests.')}`);
    expect(body.category).toBe('coding');
    expect(body.selected_model).toBe('qwen2.5-coder:7b');
    const qwen = body.candidates.find((c: { model: string }) => c.model === 'qwen2.5-coder:7b');
    // Measured, not estimated: the capability and speed factors come from the profile.
    expect(qwen.estimated).not.toContain('capability');
    expect(qwen.estimated).not.toContain('speed');
  });

  it('GET /admin/benchmarks shows matched public scores for well-known models, with their source', async () => {
    const { status, body } = await getJson('/admin/benchmarks?model=qwen2.5-coder&benchmark=humaneval');
    expect(status).toBe(200);
    expect(body.total).toBeGreaterThan(0);
    expect(body.data[0]).toMatchObject({ model: 'qwen2.5-coder:7b', backend: 'gpu', matched_entry: 'qwen2.5-coder-7b-instruct', benchmark: 'HumanEval', scale: 100 });
    expect(body.data[0].source).toEqual(expect.any(String));
    expect(body.data[0].source_url).toMatch(/^https?:\/\//);
    expect(body.data[0].normalized_score).toBeCloseTo(body.data[0].score / 100, 5);
    const all = await getJson('/admin/benchmarks?limit=500');
    const models = new Set(all.body.data.map((r: { model: string }) => r.model));
    expect([...models].sort()).toEqual(CHAT_MODELS);
    const page = await getJson('/admin/benchmarks?sort=-score&limit=2&offset=1');
    expect(page.body.data).toHaveLength(2);
    expect(page.body.data[0].score).toBeGreaterThanOrEqual(page.body.data[1].score);
  });

  it('refuses sort fields outside the whitelist, unknown parameters and bad limits with 400', async () => {
    for (const path of ['/admin/profiles?sort=score;drop', '/admin/profiles?sort=-id', '/admin/benchmarks?sort=entry', '/admin/profiles?limit=0', '/admin/benchmarks?limit=501', '/admin/profiles?color=red']) {
      const { status, body } = await getJson(path);
      expect(status, path).toBe(400);
      expect(body.error.type).toBe('invalid_request_error');
    }
    const { body } = await getJson('/admin/profiles?sort=speed');
    expect(body.error).toMatchObject({ param: 'sort' });
    expect(body.error.message).toContain('tokens_per_second');
    // Schema violations name the parameter in the facade's words, never fastify's FST_ERR_VALIDATION.
    for (const path of ['/admin/profiles?limit=abc', '/admin/benchmarks?offset=-1', '/admin/decisions?limit=x']) {
      const res = await getJson(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toMatchObject({ param: expect.stringMatching(/^(limit|offset)$/), code: expect.stringMatching(/^invalid_(type|value)$/) });
    }
  });

  it('AdminService.ListProfiles and ListBenchmarks page with tokens and check their sort field', async () => {
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: router.url }));
    const first = await admin.listProfiles({ pageSize: 2, sortBy: 'coding', descending: true });
    expect(first.profiles.map((p) => p.model)).toHaveLength(2);
    expect(first.profiles[0].model).toBe('qwen2.5-coder:7b');
    const coding = first.profiles[0].scores.find((s) => s.category === Category.CODING)!;
    expect(coding).toMatchObject({ promptCount: 1 });
    expect(first.profiles[0]).toMatchObject({ backend: 'gpu', promptSetVersion: PROMPT_SET_VERSION });
    expect(first.profiles[0].vramBytes).toBeGreaterThan(0n);
    expect(first.nextPageToken).not.toBe('');
    const second = await admin.listProfiles({ pageSize: 2, sortBy: 'coding', descending: true, pageToken: first.nextPageToken });
    expect(second.profiles).toHaveLength(1);
    expect(second.nextPageToken).toBe('');

    const invalid = async (call: Promise<unknown>) => {
      const error = await call.then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(error?.code).toBe(Code.InvalidArgument);
      return error!;
    };
    expect((await invalid(admin.listProfiles({ sortBy: 'score' }))).rawMessage).toMatch(/sort_by must be one of/);
    await invalid(admin.listProfiles({ pageSize: 2, sortBy: 'model', pageToken: first.nextPageToken }));
    await invalid(admin.listProfiles({ pageToken: 'not-a-token' }));
    await invalid(admin.listBenchmarks({ sortBy: 'entry' }));
    await invalid(admin.listBenchmarks({ pageSize: 501 }));

    const bench = await admin.listBenchmarks({ model: 'llama3.1', benchmark: 'mmlu', sortBy: 'normalized_score', descending: true });
    expect(bench.rows.length).toBeGreaterThan(0);
    expect(bench.rows[0]).toMatchObject({ model: 'llama3.1:8b', matchedEntry: 'llama-3.1-8b-instruct' });
    expect(bench.rows[0].source).not.toBe('');
    expect(bench.rows[0].fetchedAt).toBeDefined();
  });

  it('keeps everything across a restart and profiles nothing that is unchanged', async () => {
    const before = ollama.requests.length;
    await router.stop();
    router = await startTestRouter(env());
    // Loaded from SQLite at start-up, before any profiling.
    const { body } = await getJson('/admin/profiles');
    expect(body.data.map((p: { model: string }) => p.model)).toEqual(CHAT_MODELS);
    expect(router.core.registry.snapshot().find((m) => m.key === 'llama3.1:8b')?.profile?.scores.creativity).toBeGreaterThan(0);
    await profilingSettled(router);
    const chats = ollama.requests.slice(before).filter((r) => r.path === '/api/chat' && (r.body as { messages?: unknown[] })?.messages?.length);
    expect(chats).toEqual([]);
    expect(router.core.knowledge.coordinator.status()).toMatchObject({ running: false, completedCount: 0 });
    expect(router.core.knowledge.coordinator.status().lastRunAt).toBeInstanceOf(Date);
  });
});
