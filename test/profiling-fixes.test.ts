/**
 * Profiling fixes found by a black-box review, each through the real thing:
 * - a backend failing during a run fails the model's run instead of storing its errors as score 0
 *   (which made the next run skip a good model as "unchanged");
 * - Reprofile refuses an empty model id (it used to mean "every model");
 * - a judge plugin loaded through ROUTER_PLUGINS judges profiling answers, with the heuristic
 *   standing in when it throws or hangs;
 * - a classifier or judge plugin whose create() throws stops start-up with a PluginLoadError naming it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { ProfilerService } from '../gen/smarterrouter/v1/profiler_pb.js';
import { PluginLoadError, type PluginContext } from '../src/plugin-api/index.js';
import { ollamaBackendDefinition } from '../src/plugins/backends/ollama/index.js';
import { createHeuristicJudge } from '../src/plugins/judges/index.js';
import { startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { openDatabase } from '../src/db/index.js';
import { ProfileStore } from '../src/db/profile-store.js';
import { PROMPT_SET_VERSION, Profiler, ProfilingCoordinator, type ProfileEntry, type ProgressEvent } from '../src/core/profiling/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const context: PluginContext = { logger: silent, fetch: globalThis.fetch, signal: new AbortController().signal };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(models: SimModel[]): Promise<{ sim: RunningSimulator; store: ProfileStore; entries: ProfileEntry[] }> {
  const sim = await startOllamaSimulator({ models });
  cleanups.push(() => sim.close());
  const backend = await ollamaBackendDefinition.create({ name: 'gpu', location: sim.url, keepAlive: '10m' }, context);
  cleanups.push(async () => backend.dispose?.());
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'sr-profiling-fixes-')), 'router.db'));
  cleanups.push(() => db.close());
  const infos = await backend.listModels({ signal: AbortSignal.timeout(5000) });
  return { sim, store: new ProfileStore(db), entries: infos.map((info) => ({ key: info.id, backend, info })) };
}

const GOOD: SimModel = { id: 'good:7b', quality: { coding: 0.9, reasoning: 0.9, creativity: 0.9, general: 0.9 } };
const options = (onProgress?: (e: ProgressEvent) => void) => ({
  promptsPerCategory: 3,
  timeoutMs: 10_000,
  judge: createHeuristicJudge(),
  signal: new AbortController().signal,
  onProgress,
});

/** Generating chat requests to the simulator (load/unload requests carry no messages). */
function chats(sim: RunningSimulator, from = 0): number {
  return sim.requests.slice(from).filter((r) => r.path === '/api/chat' && (r.body as { messages?: unknown[] } | undefined)?.messages?.length).length;
}

describe('a backend failure during profiling', () => {
  it('fails the run, keeps the earlier profile, and the next run profiles the model again', async () => {
    const h = await harness([GOOD]);
    const profiler = new Profiler({ store: h.store });
    const first = await profiler.profileAll(h.entries, options());
    expect(first.profiled.map((r) => r.model)).toEqual(['good:7b']);
    const before = await h.store.profileFor('good:7b');
    expect(before?.categories.general?.score).toBeGreaterThan(0.5);

    // A forced run whose backend starts answering HTTP 500 after the first prompt.
    let done = 0;
    const events: ProgressEvent[] = [];
    const broken = await profiler.profileAll(h.entries, {
      ...options((e) => {
        events.push(e);
        if (e.state === 'prompt_done' && ++done === 1) h.sim.setFailure('http500', 'good:7b');
      }),
      force: true,
    });
    expect(broken.profiled).toEqual([]);
    expect(broken.failed.map((r) => r.model)).toEqual(['good:7b']);
    expect(events.some((e) => e.state === 'model_done')).toBe(false);
    expect(events.find((e) => e.state === 'model_failed')?.error).toMatch(/no prompt of .* got an answer|prompts failed/);
    // The earlier, good profile still serves; nothing says the model is finished.
    expect(await h.store.profileFor('good:7b')).toEqual(before);
    expect((await h.store.modelState('good:7b'))?.finishedAt).toBeNull();
    expect(await profiler.needsProfiling(h.entries[0], { promptsPerCategory: 3 })).toMatchObject({ needed: true });

    // The backend recovers: a run without force profiles the model again, only the prompts that failed.
    h.sim.setFailure('none');
    const from = h.sim.requests.length;
    const again = await profiler.profileAll(h.entries, options());
    expect(again.profiled.map((r) => r.model)).toEqual(['good:7b']);
    expect(chats(h.sim, from)).toBeGreaterThanOrEqual(11);
    const after = await h.store.profileFor('good:7b');
    for (const category of ['coding', 'reasoning', 'creativity', 'general'] as const) {
      expect(after?.categories[category]).toMatchObject({ failures: 0 });
      expect(after?.categories[category]?.score).toBeGreaterThan(0.5);
    }
    expect((await h.store.modelState('good:7b'))?.finishedAt).toBeInstanceOf(Date);
  });

  it('a failed model is queued again by itself after a delay, and profiled once its backend answers', async () => {
    const h = await harness([GOOD]);
    h.sim.setFailure('http500', 'good:7b');
    const coordinator = new ProfilingCoordinator({
      profiler: new Profiler({ store: h.store }),
      promptsPerCategory: 1,
      timeoutMs: 10_000,
      concurrency: 1,
      createJudge: () => createHeuristicJudge(),
      retryDelayMs: 200,
    });
    cleanups.push(() => coordinator.close());
    coordinator.enqueue(h.entries);
    // The first run fails (HTTP 500); the backend recovers; nobody triggers anything.
    const firstRunOver = () => coordinator.status().lastRunAt !== undefined && !coordinator.status().running;
    for (let i = 0; i < 200 && !firstRunOver(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(firstRunOver()).toBe(true);
    expect(await h.store.profileFor('good:7b')).toBeUndefined();
    h.sim.setFailure('none');
    for (let i = 0; i < 150 && !(await h.store.profileFor('good:7b')); i++) await new Promise((r) => setTimeout(r, 20));
    expect((await h.store.profileFor('good:7b'))?.categories.general?.score).toBeGreaterThan(0.5);
  });

  it('leaves one backend error out of the score instead of counting it as 0', async () => {
    const h = await harness([GOOD]);
    let done = 0;
    let failedCategory: string | undefined;
    const run = await new Profiler({ store: h.store }).profileAll(
      h.entries,
      options((e) => {
        if (e.state !== 'prompt_done') return;
        done++;
        if (done === 4) h.sim.setFailure('http500', 'good:7b');
        if (done === 5) {
          failedCategory = e.category;
          h.sim.setFailure('none');
        }
      }),
    );
    expect(run.profiled.map((r) => r.model)).toEqual(['good:7b']);
    const outcomes = run.profiled[0].outcomes;
    expect(outcomes.filter((o) => o.failed)).toHaveLength(1);
    const category = failedCategory as 'reasoning';
    const answered = outcomes.filter((o) => o.category === category && !o.failed);
    const stored = await h.store.profileFor('good:7b');
    expect(stored?.categories[category]).toMatchObject({ prompts: 3, failures: 1, timeouts: 0 });
    expect(stored?.categories[category]?.score).toBeCloseTo(answered.reduce((n, o) => n + o.score, 0) / answered.length, 6);
    expect(stored?.categories[category]?.score).toBeGreaterThan(0.5);
    expect((await h.store.modelState('good:7b'))?.finishedAt).toBeInstanceOf(Date);
    expect(PROMPT_SET_VERSION).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('Reprofile with an empty model id', () => {
  it('is INVALID_ARGUMENT naming the field, over gRPC and Connect, and profiles nothing', async () => {
    const sim = await startOllamaSimulator({ models: [GOOD] });
    cleanups.push(() => sim.close());
    const router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1' });
    cleanups.push(() => router.stop());
    for (const transport of [createGrpcTransport({ baseUrl: router.url }), createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' })]) {
      const client = createClient(ProfilerService, transport);
      for (const models of [[''], ['  '], ['good:7b', '']]) {
        const error = await (async () => {
          for await (const _ of client.reprofile({ models })) void _;
        })().then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(error?.code, JSON.stringify(models)).toBe(Code.InvalidArgument);
        expect(error?.rawMessage).toMatch(/models must not contain empty ids/);
      }
    }
    expect(router.core.knowledge.coordinator.status().completedCount).toBe(0);
    expect(chats(sim)).toBe(0);
  });
});

function pluginFile(dir: string, file: string, source: string): string {
  const path = join(dir, file);
  writeFileSync(path, source);
  return path;
}

const judgePlugin = (name: string, body: string): string => `
export default {
  manifest: { name: ${JSON.stringify(name)}, version: '1.0.0', kind: 'judge', specificationVersion: 'v1' },
  create(options) {
    return {
      specificationVersion: 'v1',
      name: options.name,
      async judge(input, { signal }) {
        (globalThis.__judgeCalls ??= []).push({ judge: options.name, category: input.category });
        ${body}
      },
    };
  },
};
`;

async function profileWithPlugin(source: string, env: Record<string, string> = {}): Promise<{ router: TestRouter; message: string }> {
  const sim = await startOllamaSimulator({ models: [GOOD] });
  cleanups.push(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'sr-judge-plugin-'));
  const router = await startTestRouter({
    ROUTER_OLLAMA_URL: sim.url,
    ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1',
    ROUTER_PLUGINS: pluginFile(dir, 'judge.mjs', source),
    ...env,
  });
  cleanups.push(() => router.stop());
  const run = router.core.knowledge.coordinator.start({ entries: router.core.registry.entriesList(), force: true });
  let message = '';
  for await (const event of run.events()) if (event.state === 'finished') message = event.message;
  return { router, message };
}

describe('judge plugins', () => {
  afterEach(() => {
    delete (globalThis as { __judgeCalls?: unknown }).__judgeCalls;
  });
  const calls = () => ((globalThis as { __judgeCalls?: Array<{ judge: string }> }).__judgeCalls ?? []);

  it('a judge plugin from ROUTER_PLUGINS judges profiling answers and profiles record its name', async () => {
    const { router, message } = await profileWithPlugin(judgePlugin('acme-judge', 'return { score: 0.42, reasoning: "acme" };'));
    expect(message).toBe('1 profiled, 0 failed, 0 skipped');
    expect(calls().length).toBeGreaterThanOrEqual(4);
    expect(new Set(calls().map((c) => c.judge))).toEqual(new Set(['acme-judge']));
    const profile = router.core.knowledge.knowledge.profile('good:7b');
    for (const category of ['coding', 'reasoning', 'creativity', 'general'] as const) {
      expect(profile?.categories[category]?.judge).toBe('acme-judge');
      expect(profile?.scores[category]).toBeCloseTo(0.42, 6);
    }
  });

  it('a throwing judge plugin costs its opinion, never the run: the heuristic scores instead', async () => {
    const { router, message } = await profileWithPlugin(judgePlugin('broken-judge', 'throw new Error("judge exploded");'));
    expect(calls().length).toBeGreaterThanOrEqual(4);
    expect(message).toMatch(/^1 profiled, 0 failed, 0 skipped, "broken-judge" judge failed \d+ times \(heuristic used\)$/);
    expect(router.core.knowledge.coordinator.status().judgeFallbacks).toBeGreaterThanOrEqual(4);
    const profile = router.core.knowledge.knowledge.profile('good:7b');
    expect(profile?.scores.general).toBeGreaterThan(0.5);
  });

  it('a judge plugin that never answers is given up on after the profiling timeout', async () => {
    const { router, message } = await profileWithPlugin(judgePlugin('hung-judge', 'return new Promise(() => {});'), { ROUTER_PROFILE_TIMEOUT: '1' });
    expect(message).toMatch(/^1 profiled, 0 failed, 0 skipped, "hung-judge" judge failed \d+ times/);
    expect(router.core.knowledge.knowledge.profile('good:7b')?.scores.coding).toBeGreaterThan(0.5);
  }, 30_000);
});

describe('a plugin whose create() throws', () => {
  for (const kind of ['classifier', 'judge'] as const) {
    it(`stops start-up with a PluginLoadError naming the ${kind} plugin`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sr-bad-plugin-'));
      const file = pluginFile(
        dir,
        'bad.mjs',
        `export default { manifest: { name: 'exploding-${kind}', version: '1.0.0', kind: '${kind}', specificationVersion: 'v1' }, create() { throw new Error('create exploded'); } };`,
      );
      const error = await startTestRouter({ ROUTER_PLUGINS: file }).then(
        async (router) => {
          await router.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(PluginLoadError.isInstance(error)).toBe(true);
      expect((error as PluginLoadError).plugin).toBe(`exploding-${kind}`);
      expect((error as Error).message).toBe(`plugin "exploding-${kind}": create() failed for the ${kind}: create exploded`);
    });
  }
});
