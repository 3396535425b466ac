/**
 * The VRAM manager against real backends (the Ollama and llama-swap simulators through the real
 * backend plugins), a real SQLite store and a fake nvidia-smi on PATH: true-LRU unloading, the pinned
 * model, no unloading without a budget, skipping a model that cannot fit, measured vs estimated
 * sizes (persisted), nvidia-smi delta measurement, threshold unloading and keeping the pin warm.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../src/core/registry.js';
import { VramManager, VramError, type VramManagerSettings } from '../src/core/vram-manager.js';
import { BYTES_PER_GB, estimateModelVramBytes, VramMonitor } from '../src/core/vram/index.js';
import { openDatabase, type Database } from '../src/db/index.js';
import { SqlModelVramStore } from '../src/db/model-vram-store.js';
import { PluginError, type BackendPlugin, type PluginContext } from '../src/plugin-api/index.js';
import { llamaCppBackendDefinition } from '../src/plugins/backends/llamacpp/index.js';
import { ollamaBackendDefinition } from '../src/plugins/backends/ollama/index.js';
import { startLlamaCppSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startOllamaSimulator, type OllamaSimulator } from '../src/simulators/ollama.js';

const GB = BYTES_PER_GB;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const context = (): PluginContext => ({ logger: silent, fetch, signal: new AbortController().signal });

let dir: string;
let db: Database;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sr-vram-manager-'));
  db = await openDatabase(join(dir, 'router.db'), dir);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Four Ollama models: sizes in GiB as the simulator reports size_vram. */
const MODELS = [
  { id: 'tiny:1b', parameterSizeB: 1, sizeBytes: 1 * GB },
  { id: 'alpha:3b', parameterSizeB: 3, sizeBytes: 3 * GB },
  { id: 'beta:3b', parameterSizeB: 3, sizeBytes: 3 * GB },
  { id: 'gamma:5b', parameterSizeB: 5, sizeBytes: 4 * GB },
];

async function ollamaSetup(settings: Partial<VramManagerSettings>, now?: () => number) {
  const sim = await startOllamaSimulator({ models: MODELS });
  cleanups.push(() => sim.close());
  const backend = (await ollamaBackendDefinition.create({ name: 'gpu', location: sim.url }, context())) as BackendPlugin;
  const registry = new ModelRegistry([backend], { prefix: '' });
  await registry.refresh(AbortSignal.timeout(5000));
  const store = new SqlModelVramStore(db);
  const manager = new VramManager({
    registry,
    store,
    logger: silent,
    settings: { autoUnloadEnabled: true, unloadThresholdPct: 85, ...settings },
    now,
  });
  await manager.init();
  cleanups.push(() => manager.stop());
  return { sim, backend, registry, manager, store };
}

const signal = () => AbortSignal.timeout(10_000);

async function loadInOrder(manager: VramManager, ids: string[]): Promise<void> {
  for (const id of ids) expect((await manager.load(id, signal())).ok).toBe(true);
}

describe('VramManager with an explicit budget (no GPU)', () => {
  it('unloads the least recently used model, not the largest, and never the pinned one', async () => {
    const { sim, registry, manager } = await ollamaSetup({ maxTotalGb: 8, pinnedModel: 'tiny:1b' });
    await loadInOrder(manager, ['tiny:1b', 'alpha:3b', 'gamma:5b']);
    expect(sim.loaded().sort()).toEqual(['alpha:3b', 'gamma:5b', 'tiny:1b']);

    // 1 + 3 + 4 = 8 GB used; beta needs ~2.3 GB (estimated): the oldest unpinned model is alpha
    // (3 GB), not gamma, the largest; the pinned tiny is older still and stays.
    await manager.beforeDispatch(registry.get('beta:3b')!, { signal: signal(), lastCandidate: true });
    expect(sim.unloads()).toEqual(['alpha:3b']);
    expect(sim.loaded().sort()).toEqual(['gamma:5b', 'tiny:1b']);
  });

  it('evicts by recency of use: a model used again moves to the back of the queue', async () => {
    const { sim, registry, manager } = await ollamaSetup({ maxTotalGb: 6.5 });
    await loadInOrder(manager, ['alpha:3b', 'beta:3b']);
    // alpha is used again after beta: beta is now the least recently used.
    await manager.beforeDispatch(registry.get('alpha:3b')!, { signal: signal(), lastCandidate: true });
    await manager.beforeDispatch(registry.get('tiny:1b')!, { signal: signal(), lastCandidate: true });
    expect(sim.unloads()).toEqual(['beta:3b']);
  });

  it('unloads nothing when no budget is known (no ROUTER_VRAM_MAX_TOTAL_GB, no nvidia-smi)', async () => {
    const { sim, registry, manager } = await ollamaSetup({});
    await loadInOrder(manager, ['alpha:3b', 'beta:3b', 'gamma:5b']);
    expect(manager.vramState(registry.get('tiny:1b')!)).toBeUndefined();
    await manager.beforeDispatch(registry.get('tiny:1b')!, { signal: signal(), lastCandidate: true });
    expect(manager.budgetBytes()).toBeUndefined();
    expect(sim.unloads()).toEqual([]);
  });

  it('skips a model that cannot fit when another candidate follows, and dispatches the last one anyway', async () => {
    const { sim, registry, manager } = await ollamaSetup({ maxTotalGb: 3.5, pinnedModel: 'alpha:3b' });
    await loadInOrder(manager, ['alpha:3b']);
    const gamma = registry.get('gamma:5b')!;
    const skipped = manager.beforeDispatch(gamma, { signal: signal(), lastCandidate: false });
    await expect(skipped).rejects.toSatisfy((e: unknown) => PluginError.isInstance(e) && e.retryable && /does not fit|would not fit/.test(e.message));
    await manager.beforeDispatch(gamma, { signal: signal(), lastCandidate: true });
    expect(sim.unloads()).toEqual([]);
  });

  it('with auto-unload disabled, moves on to a candidate that fits instead of unloading', async () => {
    const { sim, registry, manager } = await ollamaSetup({ maxTotalGb: 5, autoUnloadEnabled: false });
    await loadInOrder(manager, ['alpha:3b']);
    await expect(manager.beforeDispatch(registry.get('beta:3b')!, { signal: signal(), lastCandidate: false })).rejects.toThrow(/AUTO_UNLOAD_ENABLED=false/);
    await manager.beforeDispatch(registry.get('tiny:1b')!, { signal: signal(), lastCandidate: false });
    expect(sim.unloads()).toEqual([]);
    // The same judgement, without I/O, for the routing score.
    expect(manager.vramState(registry.get('alpha:3b')!)).toEqual({ loaded: true, fits: true });
    expect(manager.vramState(registry.get('beta:3b')!)).toEqual({ loaded: false, fits: false });
  });

  it('estimates a model until it is loaded, then uses and stores the size the backend reports', async () => {
    const { registry, manager } = await ollamaSetup({ maxTotalGb: 100 });
    const gamma = registry.get('gamma:5b')!;
    // gamma is 5B Q4_K_M: estimated ~3.9 GB; Ollama reports 4 GB once it is in memory.
    expect(manager.loadedModelSizes()).toEqual([]);
    await loadInOrder(manager, ['gamma:5b']);
    const [loaded] = await manager.loadedModels(signal());
    expect(loaded).toMatchObject({ key: 'gamma:5b', backend: 'gpu', vramBytes: 4 * GB, measured: true, pinned: false });
    expect(loaded?.lastUsedAt).toBeInstanceOf(Date);
    expect(estimateModelVramBytes(5, gamma.info.quantization)).not.toBe(4 * GB);

    await expect.poll(async () => (await new SqlModelVramStore(db).loadAll()).find((m) => m.modelKey === 'gamma:5b')?.vramBytes).toBe(4 * GB);
    const row = await db.em.getKnex()('models').where({ key: 'gamma:5b' }).first();
    expect(row).toMatchObject({ backend: 'gpu', model_id: 'gamma:5b' });

    // A new manager (a restart) plans with the stored 4 GB before gamma loads again: with tiny
    // pinned in a 4.8 GB budget it does not fit (the ~3.6 GB estimate would have).
    expect((await manager.unload('gamma:5b', signal())).ok).toBe(true);
    await loadInOrder(manager, ['tiny:1b']);
    const again = new VramManager({ registry, store: new SqlModelVramStore(db), logger: silent, settings: { autoUnloadEnabled: true, unloadThresholdPct: 85, maxTotalGb: 4.8, pinnedModel: 'tiny:1b' } });
    await again.init();
    await expect(again.beforeDispatch(gamma, { signal: signal(), lastCandidate: false })).rejects.toThrow(/needs about 4\.0 GB/);
  });

  it('load, unload and pin answer clearly', async () => {
    const { sim, manager } = await ollamaSetup({ maxTotalGb: 100 });
    expect(await manager.load('alpha:3b', signal())).toMatchObject({ ok: true, model: 'alpha:3b', message: expect.stringMatching(/^loaded in/) });
    expect(await manager.load('alpha:3b', signal())).toMatchObject({ ok: true, message: 'already in memory' });
    expect(manager.pin('alpha:3b', false)).toEqual({ pinnedModel: 'alpha:3b' });
    await expect(manager.unload('alpha:3b', signal())).rejects.toSatisfy((e: unknown) => VramError.isInstance(e) && e.code === 'pinned');
    expect(() => manager.pin('beta:3b', true)).toThrow(/not pinned/);
    expect(manager.pin('', true)).toEqual({ pinnedModel: undefined });
    expect(await manager.unload('alpha:3b', signal())).toMatchObject({ ok: true, message: 'unloaded' });
    expect(sim.loaded()).toEqual([]);
    await expect(manager.load('nope', signal())).rejects.toSatisfy((e: unknown) => VramError.isInstance(e) && e.code === 'model_not_found');
    await expect(manager.load('  ', signal())).rejects.toSatisfy((e: unknown) => VramError.isInstance(e) && e.code === 'invalid_request');
  });

  it('loads the pinned model at start and re-loads it when it has left memory', async () => {
    const { sim, manager } = await ollamaSetup({ pinnedModel: 'tiny:1b' });
    manager.start();
    await expect.poll(() => sim.loaded(), { timeout: 5000 }).toEqual(['tiny:1b']);
    // Someone else unloads it (keep_alive 0): the next keep-warm round brings it back.
    await fetch(`${sim.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'tiny:1b', keep_alive: 0 }) }).then((r) => r.text());
    expect(sim.loaded()).toEqual([]);
    await manager.keepWarm();
    expect(sim.loaded()).toEqual(['tiny:1b']);
  });
});

describe('VramManager with nvidia-smi', () => {
  const originalPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = originalPath;
  });

  /** A fake nvidia-smi first on PATH printing one 24 GB GPU with `usedMibScript` MiB in use. */
  async function fakeNvidiaSmi(usedMibScript: string): Promise<void> {
    const bin = await mkdtemp(join(tmpdir(), 'sr-nvsmi-'));
    cleanups.push(() => rm(bin, { recursive: true, force: true }));
    await writeFile(join(bin, 'nvidia-smi'), `#!/bin/sh\nused=$(${usedMibScript})\necho "0, NVIDIA GeForce RTX 4090, 24576, $used, $((24576 - used)), 5, 40"\n`);
    await chmod(join(bin, 'nvidia-smi'), 0o755);
    process.env.PATH = `${bin}${delimiter}${originalPath ?? ''}`;
  }

  async function monitor(): Promise<VramMonitor> {
    const m = new VramMonitor({ intervalMs: 60_000 });
    cleanups.push(() => m.stop());
    await m.sampleNow();
    return m;
  }

  it('measures a llama-swap model by the growth of nvidia-smi’s reading during the load', async () => {
    const sim: RunningSimulator = await startLlamaCppSimulator({ mode: 'swap', models: [{ id: 'qwen-7b', parameterSizeB: 7 }] });
    cleanups.push(() => sim.close());
    // 1000 MiB used by other processes, 3000 MiB per running model.
    await fakeNvidiaSmi(`echo $((1000 + 3000 * $(curl -s ${sim.url}/running | grep -o '"state":"ready"' | wc -l)))`);
    const gpu = await monitor();
    expect(gpu.totals().totalGb).toBe(24);

    const backend = (await llamaCppBackendDefinition.create({ name: 'swap', location: sim.url }, context())) as BackendPlugin;
    const registry = new ModelRegistry([backend], { prefix: '' });
    await registry.refresh(signal());
    const manager = new VramManager({ registry, store: new SqlModelVramStore(db), logger: silent, settings: { autoUnloadEnabled: true, unloadThresholdPct: 85 } });
    manager.attachGpu(gpu);
    expect(manager.budgetBytes()).toBeCloseTo(0.9 * 24 * GB, -3);

    expect((await manager.load('qwen-7b', signal())).ok).toBe(true);
    expect(manager.loadedModelSizes()).toEqual([expect.objectContaining({ key: 'qwen-7b', backend: 'swap', vramBytes: 3000 * 1024 * 1024, measured: true })]);
    await expect.poll(async () => (await new SqlModelVramStore(db).loadAll()).find((m) => m.modelKey === 'qwen-7b')?.vramBytes).toBe(3000 * 1024 * 1024);
  });

  it('above the threshold, unloads idle models least recently used first (never the pinned one)', async () => {
    // 22 of 24 GB in use: above 85% of the 21.6 GB default budget.
    await fakeNvidiaSmi('echo 22528');
    const gpu = await monitor();
    // The manager's clock is the test's: models are idle once it moves past idleAfterMs.
    let now = Date.now();
    const { sim, manager } = await ollamaSetup({ pinnedModel: 'tiny:1b', idleAfterMs: 1000 }, () => now);
    await loadInOrder(manager, ['tiny:1b', 'alpha:3b', 'beta:3b', 'gamma:5b']);
    manager.attachGpu(gpu);
    now += 5000;
    const unloaded = await manager.relieve();
    // Usage falls by 3 GB per model from 22 GB: alpha then beta bring it to ~16 GB <= 18.4 GB.
    expect(unloaded).toEqual(['alpha:3b', 'beta:3b']);
    expect(sim.unloads()).toEqual(['alpha:3b', 'beta:3b']);
    expect(sim.loaded().sort()).toEqual(['gamma:5b', 'tiny:1b']);
  });
});
