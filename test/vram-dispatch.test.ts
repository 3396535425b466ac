/**
 * The VRAM budget end to end, through real HTTP: chat requests to a router in front of the Ollama
 * simulator load models until the budget (ROUTER_VRAM_MAX_TOTAL_GB, no GPU here) is full; the next
 * request unloads the least recently used model while the pinned one (ROUTER_PINNED_MODEL, loaded
 * at start-up) stays. Also: auto-unload disabled, and threshold unloading driven by a fake
 * nvidia-smi on PATH.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BYTES_PER_GB } from '../src/core/vram/index.js';
import { startOllamaSimulator, type OllamaSimulator } from '../src/simulators/ollama.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const GB = BYTES_PER_GB;
const MODELS = [
  { id: 'tiny:1b', parameterSizeB: 1, sizeBytes: 1 * GB },
  { id: 'alpha:3b', parameterSizeB: 3, sizeBytes: 3 * GB },
  { id: 'beta:3b', parameterSizeB: 3, sizeBytes: 3 * GB },
  { id: 'gamma:5b', parameterSizeB: 5, sizeBytes: 4 * GB },
];

let sim: OllamaSimulator | undefined;
let router: TestRouter | undefined;
let bin: string | undefined;
const originalPath = process.env.PATH;

afterEach(async () => {
  await router?.stop();
  await sim?.close();
  if (bin) await rm(bin, { recursive: true, force: true });
  router = undefined;
  sim = undefined;
  bin = undefined;
  process.env.PATH = originalPath;
});

let asked = 0;
async function chat(model: string): Promise<string | null> {
  const res = await fetch(`${router!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // A new question each time: an answer from the response cache would dispatch nothing.
    body: JSON.stringify({ model, messages: [{ role: 'user', content: `Say hello ${++asked}` }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('x-router-model');
}

describe('VRAM budget before dispatch', () => {
  it('unloads the least recently used model to make room, keeping the pinned one', async () => {
    sim = await startOllamaSimulator({ models: MODELS });
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_VRAM_MAX_TOTAL_GB: '8', ROUTER_PINNED_MODEL: 'tiny:1b' });
    // The pinned model is loaded at start-up.
    await expect.poll(() => sim!.loaded(), { timeout: 5000 }).toEqual(['tiny:1b']);

    expect(await chat('alpha:3b')).toBe('alpha:3b');
    expect(await chat('gamma:5b')).toBe('gamma:5b');
    expect(sim.unloads()).toEqual([]);
    // 1 + 3 + 4 = 8 GB: beta needs room. alpha is the least recently used (gamma is larger, tiny older but pinned).
    expect(await chat('beta:3b')).toBe('beta:3b');
    expect(sim.unloads()).toEqual(['alpha:3b']);
    expect(sim.loaded().sort()).toEqual(['beta:3b', 'gamma:5b', 'tiny:1b']);

    // gamma is now the least recently used: alpha's return unloads it, never tiny.
    expect(await chat('alpha:3b')).toBe('alpha:3b');
    expect(sim.unloads()).toEqual(['alpha:3b', 'gamma:5b']);
    expect(sim.loaded().sort()).toEqual(['alpha:3b', 'beta:3b', 'tiny:1b']);

    const vram = (await (await fetch(`${router.url}/admin/vram`)).json()) as Record<string, any>;
    expect(vram.budget_gb).toBe(8);
    expect(vram.loaded_models).toEqual([
      expect.objectContaining({ model: 'alpha:3b', vram_bytes: 3 * GB, measured: true, pinned: false, last_used: expect.any(String) }),
      expect.objectContaining({ model: 'beta:3b', vram_bytes: 3 * GB, measured: true, pinned: false }),
      expect.objectContaining({ model: 'tiny:1b', vram_bytes: 1 * GB, measured: true, pinned: true }),
    ]);
    // Measured sizes are stored per model.
    const rows = await router.db.em.getKnex()('models').select('key', 'vram_bytes').orderBy('key');
    expect(rows).toEqual(expect.arrayContaining([{ key: 'gamma:5b', vram_bytes: 4 * GB }, { key: 'tiny:1b', vram_bytes: 1 * GB }]));
  });

  it('with ROUTER_VRAM_AUTO_UNLOAD_ENABLED=false, unloads nothing and still answers', async () => {
    sim = await startOllamaSimulator({ models: MODELS });
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_VRAM_MAX_TOTAL_GB: '5', ROUTER_VRAM_AUTO_UNLOAD_ENABLED: 'false' });
    expect(await chat('alpha:3b')).toBe('alpha:3b');
    expect(await chat('gamma:5b')).toBe('gamma:5b');
    expect(sim.unloads()).toEqual([]);
    expect(sim.loaded().sort()).toEqual(['alpha:3b', 'gamma:5b']);
  });

  it('unloads idle models above ROUTER_VRAM_UNLOAD_THRESHOLD_PCT of the budget as nvidia-smi reports it', async () => {
    sim = await startOllamaSimulator({ models: MODELS });
    // 22 of 24 GB in use: above 85% of a 24 GB budget (20.4 GB).
    bin = await mkdtemp(join(tmpdir(), 'sr-nvsmi-'));
    await writeFile(join(bin, 'nvidia-smi'), '#!/bin/sh\necho "0, NVIDIA GeForce RTX 4090, 24576, 22528, 2048, 5, 40"\n');
    await chmod(join(bin, 'nvidia-smi'), 0o755);
    process.env.PATH = `${bin}${delimiter}${originalPath ?? ''}`;
    // Models another client loaded: the router never used them, so they are idle.
    for (const model of ['alpha:3b', 'beta:3b']) {
      await (await fetch(`${sim.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model, keep_alive: '10m' }) })).text();
    }
    router = await startTestRouter({
      ROUTER_OLLAMA_URL: sim.url,
      ROUTER_VRAM_MONITOR_ENABLED: 'true',
      ROUTER_VRAM_MONITOR_INTERVAL: '1',
      ROUTER_VRAM_MAX_TOTAL_GB: '24',
      ROUTER_VRAM_UNLOAD_THRESHOLD_PCT: '85',
      ROUTER_PINNED_MODEL: 'tiny:1b',
    });
    await expect.poll(() => sim!.unloads().sort(), { timeout: 8000 }).toEqual(['alpha:3b', 'beta:3b']);
    expect(sim.loaded()).toEqual(['tiny:1b']);
  });
});
