/**
 * Runtime profiling end to end: the Ollama backend plugin against the Ollama simulator over real
 * HTTP, the heuristic judge, and a real SQLite file. The simulator defines how good and how fast
 * each model is; profiling must measure the same order, survive a crash without re-running finished
 * prompts, and re-profile only what changed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CATEGORIES, PluginError, type BackendPlugin, type PluginContext } from '../src/plugin-api/index.js';
import { ollamaBackendDefinition } from '../src/plugins/backends/ollama/index.js';
import { createHeuristicJudge } from '../src/plugins/judges/index.js';
import { startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { openDatabase, type Database } from '../src/db/index.js';
import { ProfileStore } from '../src/db/profile-store.js';
import {
  PROMPT_SET,
  PROMPT_SET_VERSION,
  Profiler,
  promptSetVersion,
  scaledTimeout,
  selectPrompts,
  type ProfileEntry,
  type ProgressEvent,
} from '../src/core/profiling/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const context: PluginContext = { logger: silent, fetch: globalThis.fetch, signal: new AbortController().signal };
const judge = createHeuristicJudge();

interface Harness {
  sim: RunningSimulator;
  backend: BackendPlugin;
  db: Database;
  store: ProfileStore;
  entries: ProfileEntry[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(models: SimModel[]): Promise<Harness> {
  const sim = await startOllamaSimulator({ models });
  cleanups.push(() => sim.close());
  const backend = await ollamaBackendDefinition.create({ name: 'gpu', location: sim.url, keepAlive: '10m' }, context);
  cleanups.push(async () => backend.dispose?.());
  const db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'sr-profiler-')), 'router.db'));
  cleanups.push(() => db.close());
  const infos = await backend.listModels({ signal: AbortSignal.timeout(5000) });
  const entries = infos.map((info) => ({ key: info.id, backend, info }));
  return { sim, backend, db, store: new ProfileStore(db), entries };
}

/** The first user message of every generating /api/chat request (load/unload requests have none). */
function chatOpenings(sim: RunningSimulator, from = 0): Array<{ model: string; first: string; messages: Array<{ role: string; content: string }> }> {
  return sim.requests.slice(from).flatMap((r) => {
    const body = r.body as { model?: string; messages?: Array<{ role: string; content: string }> } | undefined;
    if (r.path !== '/api/chat' || !body?.messages?.length) return [];
    return [{ model: body.model ?? '', first: body.messages[0].content, messages: body.messages }];
  });
}

const runOptions = (signal = new AbortController().signal) => ({ promptsPerCategory: 2, timeoutMs: 10_000, judge, signal });

describe('prompt set', () => {
  it('has at least five prompts per category, multi-turn ones, references and a content-hash version', () => {
    for (const category of CATEGORIES) expect(PROMPT_SET.filter((p) => p.category === category).length).toBeGreaterThanOrEqual(5);
    expect(PROMPT_SET.some((p) => p.turns.length > 1)).toBe(true);
    expect(PROMPT_SET.filter((p) => p.category === 'reasoning').every((p) => p.reference && /\d|mixed/.test(p.reference))).toBe(true);
    expect(PROMPT_SET_VERSION).toMatch(/^[0-9a-f]{12}$/);
    const edited = PROMPT_SET.map((p, i) => (i === 0 ? { ...p, turns: [...p.turns, 'And add tests.'] } : p));
    expect(promptSetVersion(edited)).not.toBe(PROMPT_SET_VERSION);
    expect(selectPrompts(PROMPT_SET, 1).map((p) => p.category)).toEqual([...CATEGORIES]);
  });

  it('scales the timeout with model size', () => {
    expect([scaledTimeout(1000, 7), scaledTimeout(1000, 8), scaledTimeout(1000, 14), scaledTimeout(1000, 34), scaledTimeout(1000, 70), scaledTimeout(1000)]).toEqual([
      1000, 1000, 2000, 2000, 4000, 1000,
    ]);
  });
});

describe('Profiler against the Ollama simulator', () => {
  it('ranks a fleet by quality and speed as the simulator defines it, skips embedding models and unloads after profiling', async () => {
    const h = await harness([
      { id: 'strong:7b', quality: { coding: 0.95, reasoning: 0.95, creativity: 0.95, general: 0.95 }, tokensPerSecond: 1600, firstTokenMs: 5 },
      { id: 'medium:7b', quality: { coding: 0.55, reasoning: 0.55, creativity: 0.55, general: 0.55 }, tokensPerSecond: 800, firstTokenMs: 80 },
      { id: 'weak:7b', quality: { coding: 0.25, reasoning: 0.25, creativity: 0.25, general: 0.25 }, tokensPerSecond: 400, firstTokenMs: 200 },
      { id: 'nomic-embed-text:latest', capabilities: { embeddings: true } },
    ]);
    const events: ProgressEvent[] = [];
    const profiler = new Profiler({ store: h.store });
    const result = await profiler.profileAll(h.entries, { ...runOptions(), onProgress: (e) => events.push(e) });

    expect(result.profiled.map((r) => r.model).sort()).toEqual(['medium:7b', 'strong:7b', 'weak:7b']);
    expect(result.skipped).toEqual([{ model: 'nomic-embed-text:latest', reason: expect.stringMatching(/embedding/) }]);
    expect(result.failed).toEqual([]);
    expect(chatOpenings(h.sim).some((c) => c.model.startsWith('nomic'))).toBe(false);

    const profiles = Object.fromEntries(await Promise.all(['strong:7b', 'medium:7b', 'weak:7b'].map(async (m) => [m, await h.store.profileFor(m)] as const)));
    for (const category of CATEGORIES) {
      const score = (m: string) => profiles[m]!.scores[category]!;
      expect(score('strong:7b'), category).toBeGreaterThan(score('medium:7b'));
      expect(score('medium:7b'), category).toBeGreaterThan(score('weak:7b'));
      const row = profiles['strong:7b']!.categories[category]!;
      expect(row).toMatchObject({ prompts: 2, failures: 0, timeouts: 0, judge: 'heuristic', promptSetVersion: PROMPT_SET_VERSION });
    }
    const ttft = (m: string) => profiles[m]!.ttftMs!;
    const tps = (m: string) => profiles[m]!.tokensPerSecond!;
    expect(ttft('strong:7b')).toBeLessThan(ttft('medium:7b'));
    expect(ttft('medium:7b')).toBeLessThan(ttft('weak:7b'));
    expect(ttft('weak:7b')).toBeGreaterThanOrEqual(200);
    expect(tps('strong:7b')).toBeGreaterThan(tps('medium:7b'));
    expect(tps('medium:7b')).toBeGreaterThan(tps('weak:7b'));

    // Multi-turn: the follow-up carries the model's own first answer.
    const followUps = chatOpenings(h.sim).filter((c) => c.model === 'strong:7b' && c.messages.length === 3);
    expect(followUps.length).toBeGreaterThan(0);
    expect(followUps[0].messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(followUps[0].messages[1].content).toMatch(/reverseString/);

    // One model at a time, each unloaded when done.
    expect(h.sim.loaded()).toEqual([]);
    const order = chatOpenings(h.sim).map((c) => c.model);
    expect(order.filter((m, i) => i === 0 || m !== order[i - 1])).toEqual(['strong:7b', 'medium:7b', 'weak:7b']);

    const strongEvents = events.filter((e) => e.model === 'strong:7b');
    expect(strongEvents[0]).toMatchObject({ state: 'started', promptIndex: 0, promptCount: 8 });
    expect(strongEvents.filter((e) => e.state === 'prompt_done').map((e) => e.promptIndex)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(strongEvents.at(-1)).toMatchObject({ state: 'model_done', promptIndex: 8, etaMs: 0 });
    expect(strongEvents.every((e) => e.elapsedMs >= 0 && e.etaMs >= 0)).toBe(true);

    const page = await h.store.listProfiles({ sortBy: 'score', descending: true, limit: 4, offset: 0 });
    expect(page.total).toBe(12);
    expect(page.rows).toHaveLength(4);
    expect(page.rows[0].modelKey).toBe('strong:7b');
    const scores = page.rows.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const next = await h.store.listProfiles({ sortBy: 'score', descending: true, limit: 4, offset: 4 });
    expect(next.rows[0].score).toBeLessThanOrEqual(scores[3]);
    const weakOnly = await h.store.listProfiles({ model: 'weak', sortBy: 'category', descending: false, limit: 10, offset: 0 });
    expect(weakOnly.rows.map((r) => r.category)).toEqual(['coding', 'creativity', 'general', 'reasoning']);
  });

  it('fails a model answering HTTP 500 and a too slow one, storing no profile for either', async () => {
    const h = await harness([
      { id: 'good:7b', quality: { coding: 0.9, reasoning: 0.9, creativity: 0.9, general: 0.9 } },
      { id: 'broken:7b' },
      { id: 'slow:7b', firstTokenMs: 2000 },
    ]);
    h.sim.setFailure('http500', 'broken:7b');
    const events: ProgressEvent[] = [];
    const result = await new Profiler({ store: h.store }).profileAll(h.entries, { ...runOptions(), promptsPerCategory: 1, timeoutMs: 150, onProgress: (e) => events.push(e) });

    expect(result.profiled.map((r) => r.model)).toEqual(['good:7b']);
    expect(result.failed.map((r) => r.model)).toEqual(['broken:7b', 'slow:7b']);
    // Scores measured through a broken backend would misjudge the model: nothing is stored.
    const broken = await h.store.listProfiles({ model: 'broken:7b', sortBy: 'category', descending: false, limit: 10, offset: 0 });
    expect(broken.rows).toHaveLength(0);
    expect(await h.store.profileFor('slow:7b')).toBeUndefined();
    const slowRun = result.failed.find((r) => r.model === 'slow:7b')!;
    for (const category of CATEGORIES) expect(slowRun.results[category]).toMatchObject({ score: 0, failures: 1, timeouts: 1 });
    expect(events.find((e) => e.model === 'broken:7b' && e.state === 'model_failed')?.error).toMatch(/every prompt failed/);
    // Failed models stay unfinished: the next run tries them again.
    expect((await h.store.modelState('broken:7b'))?.finishedAt).toBeNull();
    expect((await h.store.modelState('good:7b'))?.finishedAt).toBeInstanceOf(Date);
  });

  it('resumes after a crash without re-running finished prompts', async () => {
    const h = await harness([{ id: 'steady:7b', quality: { coding: 0.8, reasoning: 0.8, creativity: 0.8, general: 0.8 } }]);
    const crash = new AbortController();
    let done = 0;
    const first = new Profiler({ store: h.store }).profileAll(h.entries, {
      ...runOptions(crash.signal),
      onProgress: (e) => {
        if (e.state === 'prompt_done' && ++done === 3) crash.abort(new Error('process killed'));
      },
    });
    const error = await first.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(PluginError.isInstance(error) && error.code === 'aborted').toBe(true);

    const stored = await h.store.finishedPrompts('steady:7b', PROMPT_SET_VERSION);
    expect(stored.map((o) => o.promptId)).toEqual(['coding-01', 'coding-02', 'reasoning-01']);
    expect((await h.store.modelState('steady:7b'))?.finishedAt).toBeNull();
    expect(await h.store.profileFor('steady:7b')).toBeUndefined();

    const before = h.sim.requests.length;
    const events: ProgressEvent[] = [];
    const result = await new Profiler({ store: h.store }).profileAll(h.entries, { ...runOptions(), onProgress: (e) => events.push(e) });
    expect(result.profiled.map((r) => r.model)).toEqual(['steady:7b']);

    const finishedOpenings = new Set(PROMPT_SET.filter((p) => stored.some((s) => s.promptId === p.id)).map((p) => p.turns[0]));
    const rerun = chatOpenings(h.sim, before);
    expect(rerun.length).toBeGreaterThan(0);
    expect(rerun.filter((c) => finishedOpenings.has(c.first))).toEqual([]);
    const plan = selectPrompts(PROMPT_SET, 2);
    expect(new Set(rerun.map((c) => c.first)).size).toBe(plan.length - 3);

    expect(events[0]).toMatchObject({ state: 'started', promptIndex: 3, promptCount: 8 });
    expect(events.at(-1)).toMatchObject({ state: 'model_done', promptIndex: 8 });
    const profile = await h.store.profileFor('steady:7b');
    for (const category of CATEGORIES) expect(profile!.categories[category]).toMatchObject({ prompts: 2, failures: 0 });
    expect((await h.store.finishedPrompts('steady:7b', PROMPT_SET_VERSION)).length).toBe(8);
  });

  it('skips unchanged models unless forced, and re-profiles a changed model or a changed prompt set', async () => {
    const h = await harness([
      { id: 'alpha:7b', quality: { general: 0.8 } },
      { id: 'beta:7b', quality: { general: 0.6 } },
    ]);
    const options = { ...runOptions(), promptsPerCategory: 1 };
    const first = await new Profiler({ store: h.store }).profileAll(h.entries, options);
    expect(first.profiled).toHaveLength(2);

    let mark = h.sim.requests.length;
    const again = await new Profiler({ store: h.store }).profileAll(h.entries, options);
    expect(again.profiled).toEqual([]);
    expect(again.skipped.map((s) => s.model).sort()).toEqual(['alpha:7b', 'beta:7b']);
    expect(chatOpenings(h.sim, mark)).toEqual([]);

    mark = h.sim.requests.length;
    const forced = await new Profiler({ store: h.store }).profileAll(h.entries, { ...options, force: true });
    expect(forced.profiled.map((r) => r.model).sort()).toEqual(['alpha:7b', 'beta:7b']);
    expect(new Set(chatOpenings(h.sim, mark).map((c) => `${c.model} ${c.first}`)).size).toBe(8);

    // New weights under the same name: only that model runs, from scratch.
    mark = h.sim.requests.length;
    const pulled = h.entries.map((e) => (e.key === 'beta:7b' ? { ...e, info: { ...e.info, digest: 'f'.repeat(64) } } : e));
    const changed = await new Profiler({ store: h.store }).profileAll(pulled, options);
    expect(changed.profiled.map((r) => r.model)).toEqual(['beta:7b']);
    expect(new Set(chatOpenings(h.sim, mark).map((c) => c.model))).toEqual(new Set(['beta:7b']));

    // A changed prompt set re-profiles everything and stamps the new version.
    const edited = PROMPT_SET.map((p) => (p.id === 'general-01' ? { ...p, turns: ['Why do people need sleep? Answer for a busy parent.'] } : p));
    const profiler = new Profiler({ store: h.store, prompts: edited });
    expect(profiler.promptSetVersion).not.toBe(PROMPT_SET_VERSION);
    mark = h.sim.requests.length;
    const reprofiled = await profiler.profileAll(pulled, options);
    expect(reprofiled.profiled.map((r) => r.model).sort()).toEqual(['alpha:7b', 'beta:7b']);
    expect(chatOpenings(h.sim, mark).some((c) => c.first.includes('busy parent'))).toBe(true);
    const alpha = await h.store.profileFor('alpha:7b');
    for (const category of CATEGORIES) expect(alpha!.categories[category]!.promptSetVersion).toBe(profiler.promptSetVersion);
  });

  it('profileModel skips an embedding-only model and counts resumed outcomes', async () => {
    const h = await harness([{ id: 'solo:7b' }, { id: 'nomic-embed-text:latest', capabilities: { embeddings: true } }]);
    const profiler = new Profiler();
    const embed = h.entries.find((e) => e.key.startsWith('nomic'))!;
    const skipped = await profiler.profileModel({ key: embed.key, backend: h.backend, modelId: embed.info.id, capabilities: embed.info.capabilities }, { ...runOptions(), promptsPerCategory: 1 });
    expect(skipped.status).toBe('skipped');

    const resumed = { promptId: 'coding-01', category: 'coding' as const, score: 0.5, ttftMs: 1, tokensPerSecond: 10, latencyMs: 2, failed: false, timedOut: false };
    const run = await profiler.profileModel(
      { key: 'solo:7b', backend: h.backend, modelId: 'solo:7b' },
      { ...runOptions(), promptsPerCategory: 1, resume: [resumed, 'reasoning-01'] },
    );
    expect(run.status).toBe('done');
    expect(run.results.coding).toMatchObject({ score: 0.5, prompts: 1 });
    expect(run.results.reasoning).toBeUndefined();
    expect(chatOpenings(h.sim).map((c) => c.first)).toEqual(
      selectPrompts(PROMPT_SET, 1)
        .filter((p) => p.category === 'creativity' || p.category === 'general')
        .flatMap((p) => p.turns.map(() => p.turns[0])),
    );
  });
});
