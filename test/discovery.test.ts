/**
 * Discovery: the registry lists every backend, the models table records what it found (new models
 * added, new weights noticed, vanished models marked unavailable but never deleted), and profiling
 * is queued for what is new or changed. Against the Ollama simulator restarted on the same port
 * with another model list, and a real SQLite file. Then at the router level: a model pulled while
 * the router runs is discovered by polling and profiled, and a run killed mid-profile resumes
 * without re-running finished prompts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Discovery } from '../src/core/discovery.js';
import { PROMPT_SET } from '../src/core/profiling/index.js';
import { ModelRegistry, type RegistryEntry } from '../src/core/registry.js';
import { openDatabase } from '../src/db/index.js';
import { ModelStore } from '../src/db/model-store.js';
import { ProfileStore } from '../src/db/profile-store.js';
import type { PluginContext } from '../src/plugin-api/index.js';
import { ollamaBackendDefinition } from '../src/plugins/backends/ollama/index.js';
import { startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sr-discovery-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A simulator that can be replaced by another model list on the same port (a pull, a removal). */
async function restartableSim(models: SimModel[]) {
  let sim = await startOllamaSimulator({ models });
  const port = Number(new URL(sim.url).port);
  const handle = {
    url: sim.url,
    get current(): RunningSimulator {
      return sim;
    },
    async replace(next: SimModel[] | undefined) {
      await sim.close();
      // Let clients see their keep-alive sockets close before the port answers again.
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (next) sim = await startOllamaSimulator({ models: next, port });
    },
  };
  cleanups.push(() => sim.close());
  return handle;
}

const chatRequests = (sim: RunningSimulator, from = 0) =>
  sim.requests.slice(from).flatMap((r) => {
    const body = r.body as { model?: string; messages?: Array<{ content: string }> } | undefined;
    return r.path === '/api/chat' && body?.messages?.length ? [{ model: body.model ?? '', first: body.messages[0].content }] : [];
  });

describe('Discovery with the models table', () => {
  it('adds new models, notices new weights, marks vanished ones unavailable without deleting them, and queues only what needs profiling', async () => {
    const sim = await restartableSim([{ id: 'alpha:7b' }, { id: 'beta:7b' }, { id: 'nomic-embed-text:latest', capabilities: { embeddings: true } }]);
    // The restarted simulator closes kept-alive sockets; a client may try one before it notices.
    // One retry on a network error keeps that race out of the diffs this test checks.
    const retryingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      try {
        return await globalThis.fetch(input, init);
      } catch {
        return globalThis.fetch(input, init);
      }
    }) as typeof fetch;
    const context: PluginContext = { logger: silent, fetch: retryingFetch, signal: new AbortController().signal };
    const backend = await ollamaBackendDefinition.create({ name: 'gpu', location: sim.url }, context);
    cleanups.push(() => backend.dispose?.());
    const db = await openDatabase(join(tempDir(), 'router.db'));
    cleanups.push(() => db.close());
    const store = new ModelStore(db);
    const registry = new ModelRegistry([backend], { prefix: '', listTimeoutMs: 2000 });
    const queued: string[][] = [];
    // Retry rounds off: this test drives every round itself.
    const discovery = new Discovery({ registry, models: store, retryDelayMs: 0, onProfileCandidates: (entries: RegistryEntry[]) => queued.push(entries.map((e) => e.key).sort()) });
    const signal = new AbortController().signal;

    const first = await discovery.round(signal);
    expect(first).toEqual({ added: ['alpha:7b', 'beta:7b', 'nomic-embed-text:latest'], changed: [], vanished: [], returned: [] });
    // First round: every available chat model (the profiler's plan skips the current ones).
    expect(queued.at(-1)).toEqual(['alpha:7b', 'beta:7b']);
    const rows = await store.all();
    expect(rows.get('alpha:7b')).toMatchObject({ backend: 'gpu', modelId: 'alpha:7b', available: true });
    expect(JSON.parse(rows.get('nomic-embed-text:latest')!.capabilities)).toMatchObject({ chat: false, embeddings: true });

    // An unchanged round queues nothing.
    queued.length = 0;
    expect(await discovery.round(signal)).toEqual({ added: [], changed: [], vanished: [], returned: [] });
    expect(queued).toEqual([]);

    // beta re-pulled with new weights, alpha removed, gamma pulled.
    await sim.replace([{ id: 'beta:7b', digest: 'b'.repeat(64) }, { id: 'gamma:3b' }, { id: 'nomic-embed-text:latest', capabilities: { embeddings: true } }]);
    expect(await discovery.round(signal)).toEqual({ added: ['gamma:3b'], changed: ['beta:7b'], vanished: ['alpha:7b'], returned: [] });
    expect(queued.at(-1)).toEqual(['beta:7b', 'gamma:3b']);
    const after = await store.all();
    expect(after.get('alpha:7b')).toMatchObject({ available: false });
    expect(after.get('beta:7b')?.digest).toBe('b'.repeat(64));

    // The backend goes down: its models are kept, unavailable; nothing is queued.
    await sim.replace(undefined);
    queued.length = 0;
    const down = await discovery.round(signal);
    expect(down?.vanished.sort()).toEqual(['beta:7b', 'gamma:3b', 'nomic-embed-text:latest']);
    expect(queued).toEqual([]);
    expect([...(await store.all()).keys()].sort()).toEqual(['alpha:7b', 'beta:7b', 'gamma:3b', 'nomic-embed-text:latest']);

    // It comes back with alpha again: models return, history intact.
    await sim.replace([{ id: 'alpha:7b' }, { id: 'beta:7b', digest: 'b'.repeat(64) }]);
    const back = await discovery.round(signal);
    expect(back?.returned.sort()).toEqual(['alpha:7b', 'beta:7b']);
    expect(back?.vanished).toEqual([]);
    expect(queued.at(-1)).toEqual(['alpha:7b', 'beta:7b']);
    const returned = await store.all();
    expect(returned.get('alpha:7b')).toMatchObject({ available: true });
    expect(returned.get('alpha:7b')!.firstSeenAt.getTime()).toBeLessThan(returned.get('alpha:7b')!.lastSeenAt.getTime() + 1);
    await discovery.stop();
  });
});

describe('a backend that cannot list its models', () => {
  it('is listed within seconds once it answers, with polling off, and /health is not ready while no chat model is known', async () => {
    // A backend not up yet when the router starts (llama-server loading, Ollama starting after the router).
    const sim = await restartableSim([{ id: 'late:7b' }]);
    await sim.replace(undefined);
    const router: TestRouter = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_POLLING_INTERVAL: '0', ROUTER_EXPOSE_MODELS: 'true' });
    cleanups.push(() => router.stop());
    const health = async () => (await (await fetch(`${router.url}/health`)).json()) as { ready: boolean; status: string; chat_models: number };
    expect(await health()).toMatchObject({ ready: false, status: 'unavailable', chat_models: 0 });

    await sim.replace([{ id: 'late:7b' }]);
    const started = performance.now();
    while (!router.core.registry.get('late:7b')?.available && performance.now() - started < 15_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(router.core.registry.get('late:7b')?.available).toBe(true);
    // The retry backs off from 2 s; a poll would never have come.
    expect(performance.now() - started).toBeLessThan(10_000);
    const models = (await (await fetch(`${router.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain('late:7b');
    // Health probes run every 15 s: the backend's own probe may still say down; the model count is current.
    expect((await health()).chat_models).toBe(1);
  });
});

describe('discovery and profiling in a running router', () => {
  it('profiles a model pulled while the router runs, found by polling', async () => {
    const sim = await restartableSim([{ id: 'first:7b' }]);
    const router: TestRouter = await startTestRouter({
      ROUTER_OLLAMA_URL: sim.url,
      ROUTER_PROFILE_ON_STARTUP: 'true',
      ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1',
      ROUTER_POLLING_INTERVAL: '1',
    });
    cleanups.push(() => router.stop());
    // The start-up run profiles first:7b; replacing the backend under a running profile would fail
    // it (a failed model stores no profile), so the pull comes once that run is done.
    for (let i = 0; i < 400 && !router.core.knowledge.knowledge.profile('first:7b'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(router.core.knowledge.knowledge.profile('first:7b')).toBeDefined();
    await sim.replace([{ id: 'first:7b' }, { id: 'pulled:3b' }]);
    // Polling finds it and profiles it in the background; wait for its profile to be stored.
    for (let i = 0; i < 400 && !router.core.knowledge.knowledge.profile('pulled:3b'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(router.core.knowledge.knowledge.profile('pulled:3b')?.scores.general).toBeGreaterThan(0);
    expect(router.core.registry.snapshot().find((m) => m.key === 'pulled:3b')?.profile).toBeDefined();
    expect(router.core.knowledge.knowledge.profile('first:7b')).toBeDefined();
  });

  it('resumes a run the process lost mid-profile, without re-running finished prompts', async () => {
    const sim = await restartableSim([{ id: 'steady:7b', quality: { coding: 0.8, reasoning: 0.8, creativity: 0.8, general: 0.8 }, firstTokenMs: 150 }]);
    const dir = tempDir();
    const env = { ROUTER_OLLAMA_URL: sim.url, ROUTER_DATABASE_URL: join(dir, 'router.db'), ROUTER_PROFILE_ON_STARTUP: 'true', ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '2' };
    const first = await startTestRouter(env);
    const run = first.core.knowledge.coordinator.current();
    expect(run).toBeDefined();
    let done = 0;
    for await (const event of run!.events()) if (event.state === 'prompt_done' && ++done === 2) break;
    // Shutdown aborts profiling at once; the prompt in flight is lost, the finished ones are stored.
    await first.stop();

    const check = await openDatabase(join(dir, 'router.db'));
    const store = new ProfileStore(check);
    const state = await store.modelState('steady:7b');
    const stored = await store.finishedPrompts('steady:7b', state!.promptSetVersion);
    await check.close();
    expect(state?.finishedAt).toBeNull();
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(stored.length).toBeLessThan(8);

    const mark = sim.current.requests.length;
    const second = await startTestRouter(env);
    cleanups.push(() => second.stop());
    await second.core.knowledge.coordinator.current()?.done;
    const profile = second.core.knowledge.knowledge.profile('steady:7b');
    for (const category of ['coding', 'reasoning', 'creativity', 'general'] as const) expect(profile?.categories[category]).toMatchObject({ prompts: 2, failures: 0 });
    const finishedOpenings = new Set(PROMPT_SET.filter((p) => stored.some((s) => s.promptId === p.id)).map((p) => p.turns[0]));
    const rerun = chatRequests(sim.current, mark);
    expect(rerun.length).toBeGreaterThan(0);
    expect(rerun.filter((c) => finishedOpenings.has(c.first))).toEqual([]);
  });
});

describe('a backend model with the router\'s own name', () => {
  it('is reported once: requests for that name are routed, so the model cannot be reached by it', async () => {
    const sim = await restartableSim([{ id: 'qwen3:8b' }, { id: 'llama3.2:3b' }]);
    const lines: Array<Record<string, unknown>> = [];
    const logs = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    const router: TestRouter = await startTestRouter(
      { ROUTER_OLLAMA_URL: sim.url, ROUTER_EXTERNAL_MODEL_NAME: 'qwen3:8b', ROUTER_POLLING_INTERVAL: '1', ROUTER_LOG_LEVEL: 'info', ROUTER_LOG_FORMAT: 'json' },
      { logDestination: logs },
    );
    cleanups.push(() => router.stop());
    // Two polling rounds at least: still one warning.
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    const warnings = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('has the name the router answers itself'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ model: 'qwen3:8b', msg: expect.stringContaining('ROUTER_EXTERNAL_MODEL_NAME') });
    // Unrelated names are not reported.
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.includes('llama3.2:3b') && l.msg.includes('router answers itself'))).toBe(false);
  });
});

