/**
 * Concurrency and VRAM safety of profiling: by default one model at a time; with
 * ROUTER_PROFILE_CONCURRENCY above 1, models run side by side only while their sizes fit the VRAM
 * budget (a model alone always runs). Against the Ollama simulator, which reports what is loaded.
 */
import { describe, expect, it } from 'vitest';
import { VramGate, Profiler, type ProfileEntry } from '../src/core/profiling/index.js';
import { createHeuristicJudge } from '../src/plugins/judges/index.js';
import { ollamaBackendDefinition } from '../src/plugins/backends/ollama/index.js';
import { startOllamaSimulator } from '../src/simulators/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const GB = 1e9;

describe('VramGate', () => {
  it('admits models side by side while they fit, queues the rest, and always lets one run alone', async () => {
    const gate = new VramGate(() => 10 * GB);
    const signal = new AbortController().signal;
    const a = await gate.acquire(6 * GB, signal);
    let bIn = false;
    const b = gate.acquire(6 * GB, signal).then((release) => ((bIn = true), release));
    const c = await gate.acquire(3 * GB, signal); // fits next to a
    await Promise.resolve();
    expect(bIn).toBe(false);
    a();
    c();
    const releaseB = await b;
    expect(bIn).toBe(true);
    releaseB();
    // Larger than the whole budget, but alone: it runs.
    (await gate.acquire(40 * GB, signal))();
  });

  it('rejects a waiting model when the run aborts, and has no limit without a known budget', async () => {
    const gate = new VramGate(() => 1 * GB);
    const controller = new AbortController();
    const held = await gate.acquire(1 * GB, controller.signal);
    const waiting = gate.acquire(1 * GB, controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
    held();
    const open = new VramGate(() => undefined);
    const both = await Promise.all([open.acquire(50 * GB, new AbortController().signal), open.acquire(50 * GB, new AbortController().signal)]);
    both.forEach((release) => release());
  });

  it('estimates from the file size, else from parameters and quantisation', () => {
    const entry = (info: Partial<ProfileEntry['info']>) => ({ key: 'm', backend: {} as ProfileEntry['backend'], info: { id: 'm', capabilities: { chat: true }, ...info } }) as ProfileEntry;
    expect(VramGate.estimate(entry({ sizeBytes: 4_700_000_000 }))).toBe(4_700_000_000);
    expect(VramGate.estimate(entry({ parameterCountB: 7, quantization: 'Q4_K_M' }))).toBeGreaterThan(3 * GB);
    expect(VramGate.estimate(entry({}))).toBe(0);
  });
});

describe('concurrent profiling', () => {
  it('runs two models at once with concurrency 2 when they fit, one at a time when the budget says so', async () => {
    const sim = await startOllamaSimulator({ models: [{ id: 'one:7b', firstTokenMs: 30 }, { id: 'two:7b', firstTokenMs: 30 }] });
    try {
      const backend = await ollamaBackendDefinition.create({ name: 'gpu', location: sim.url }, { logger: silent, fetch: globalThis.fetch, signal: new AbortController().signal });
      const infos = await backend.listModels({ signal: AbortSignal.timeout(5000) });
      const entries = infos.map((info) => ({ key: info.id, backend, info }));
      const size = entries[0].info.sizeBytes!;
      const overlapping = async (budget: number) => {
        const gate = new VramGate(() => budget);
        const running = new Set<string>();
        let maxTogether = 0;
        await new Profiler().profileAll(entries, {
          promptsPerCategory: 1,
          timeoutMs: 10_000,
          judge: createHeuristicJudge(),
          signal: new AbortController().signal,
          concurrency: 2,
          admit: (entry, signal) => gate.acquire(VramGate.estimate(entry), signal),
          onProgress: (e) => {
            if (e.state === 'started') running.add(e.model);
            if (e.state === 'model_done' || e.state === 'model_failed') running.delete(e.model);
            maxTogether = Math.max(maxTogether, running.size);
          },
        });
        return maxTogether;
      };
      expect(await overlapping(size * 3)).toBe(2);
      expect(await overlapping(size * 1.5)).toBe(1);
    } finally {
      await sim.close();
    }
  });
});
