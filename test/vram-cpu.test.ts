/**
 * Models on the CPU take no VRAM: the real embedded GGUF backend without a GPU reports its loaded
 * models with a size and vramBytes 0, and the VRAM manager counts them (and, once it knows the
 * backend runs on the CPU, its other models) as 0 instead of an estimate of weights + 0.5 GB. A
 * backend that cannot tell where weights live (llama.cpp's HTTP API) keeps the estimate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../src/core/registry.js';
import { VramManager } from '../src/core/vram-manager.js';
import { BYTES_PER_GB } from '../src/core/vram/index.js';
import type { BackendPlugin, PluginContext } from '../src/plugin-api/index.js';
import { ggufBackendDefinition } from '../src/plugins/backends/gguf/index.js';
import { llamaCppBackendDefinition } from '../src/plugins/backends/llamacpp/index.js';
import { startLlamaCppSimulator } from '../src/simulators/index.js';
import { probeGgufInChildProcess, writeTinyGguf } from './support/tiny-gguf.js';
import { startTestRouter } from './support/router.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const context = (): PluginContext => ({ logger: silent, fetch, signal: new AbortController().signal });
const signal = () => AbortSignal.timeout(20_000);
const settings = { maxTotalGb: 0.25, autoUnloadEnabled: true, unloadThresholdPct: 85 };

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sr-vram-cpu-'));
  await writeTinyGguf(join(dir, 'tiny.gguf'), { seed: 21 });
  await writeTinyGguf(join(dir, 'other.gguf'), { seed: 22 });
  // Loaded in a throwaway process first: a file that aborted llama.cpp would otherwise kill this worker.
  const probe = await probeGgufInChildProcess(join(dir, 'tiny.gguf'));
  if (!probe.ok) throw new Error(`tiny GGUF does not load in a child process:\n${probe.output}`);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('VramManager with the GGUF backend on the CPU', () => {
  it('counts a loaded CPU model as 0 VRAM, and budgets none for the backend’s other models', async () => {
    const backend = (await ggufBackendDefinition.create({ name: 'local', location: dir, threads: 1, maxLoadedModels: 2 }, context())) as BackendPlugin;
    const registry = new ModelRegistry([backend], { prefix: '' });
    const manager = new VramManager({ registry, logger: silent, settings });
    try {
      await registry.refresh(signal());
      const other = registry.resolve('other')!;
      // Before anything is loaded nobody can tell where the models will run: the estimate applies.
      expect(manager.vramState(other)).toEqual({ loaded: false, fits: false });

      const result = await manager.load('tiny', signal());
      expect(result).toMatchObject({ ok: true, model: 'tiny' });
      expect(result.message).toMatch(/on the CPU/);
      expect(result.message).not.toMatch(/exceeds the VRAM budget/);
      const [loaded] = await manager.loadedModels(signal());
      expect(loaded).toMatchObject({ key: 'tiny', backend: 'local', vramBytes: 0, measured: true });
      expect(loaded.sizeBytes).toBeGreaterThan(0);

      // The backend runs on the CPU: its unloaded model fits a budget far smaller than weights + 0.5 GB.
      expect(manager.vramState(other)).toEqual({ loaded: false, fits: true });
      await expect(manager.beforeDispatch(other, { signal: signal(), lastCandidate: false })).resolves.toBeUndefined();
    } finally {
      manager.stop();
      await backend.dispose?.();
    }
  });

  it('GET /admin/vram and POST /admin/models/load report 0 VRAM for a CPU model', async () => {
    const router = await startTestRouter({ ROUTER_PROVIDER: 'gguf', ROUTER_GGUF_DIR: dir, ROUTER_GGUF_THREADS: '1', ROUTER_VRAM_MAX_TOTAL_GB: '0.25' });
    try {
      // Discovery runs in the background: the load answers 404 until it has listed the folder.
      const load = async () => fetch(`${router.url}/admin/models/load`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny' }) });
      let res = await load();
      for (const deadline = Date.now() + 10_000; res.status === 404 && Date.now() < deadline; res = await load()) {
        await res.text();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const loaded = (await res.json()) as { ok: boolean; model: string; message: string };
      expect(res.status, JSON.stringify(loaded)).toBe(200);
      expect(loaded.ok).toBe(true);
      expect(loaded.message).not.toMatch(/exceeds the VRAM budget/);
      const vram = (await (await fetch(`${router.url}/admin/vram`)).json()) as { loaded_models: Array<Record<string, unknown>> };
      expect(vram.loaded_models).toEqual([expect.objectContaining({ model: loaded.model, vram_bytes: 0, measured: true })]);
      expect(vram.loaded_models[0].size_bytes).toBeGreaterThan(0);
    } finally {
      await router.stop();
    }
  });
});

describe('a backend that cannot tell where weights live', () => {
  it('keeps the estimate for a llama.cpp model, which it reports with a size and no vramBytes (unknown)', async () => {
    const sim = await startLlamaCppSimulator({ mode: 'single', models: [{ id: 'qwen-7b', parameterSizeB: 7, sizeBytes: 4 * BYTES_PER_GB }] });
    const backend = (await llamaCppBackendDefinition.create({ name: 'single', location: sim.url }, context())) as BackendPlugin;
    const registry = new ModelRegistry([backend], { prefix: '' });
    const manager = new VramManager({ registry, logger: silent, settings: { ...settings, maxTotalGb: 100 } });
    try {
      await registry.refresh(signal());
      expect(await backend.loadedModels({ signal: signal() })).toEqual([{ id: 'qwen-7b', sizeBytes: 4 * BYTES_PER_GB }]);
      const [loaded] = await manager.loadedModels(signal());
      expect(loaded).toMatchObject({ key: 'qwen-7b', measured: false });
      expect(loaded.vramBytes).toBeGreaterThan(4 * BYTES_PER_GB);
    } finally {
      manager.stop();
      await sim.close();
    }
  });
});
