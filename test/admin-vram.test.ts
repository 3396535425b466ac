/**
 * GPU memory as an operator sees it: with a two-GPU (fake) nvidia-smi first on PATH, /admin/vram and
 * AdminService.GetVram / WatchVram report both GPUs and the models Ollama has loaded; with a failing
 * nvidia-smi, monitoring is off and the router keeps routing.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService, LoadModelResponseSchema, UnloadModelResponseSchema } from '../gen/smarterrouter/v1/admin_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const FIXTURES = new URL('./fixtures/nvidia-smi/', import.meta.url).pathname;
const VRAM_DOC = new URL('../docs/vram.md', import.meta.url).pathname;
const originalPath = process.env.PATH;
let sim: RunningSimulator;
let router: TestRouter | undefined;

async function fakeNvidiaSmi(script: string): Promise<void> {
  const bin = await mkdtemp(join(tmpdir(), 'sr-nvsmi-'));
  await writeFile(join(bin, 'nvidia-smi'), `#!/bin/sh\n${script}\n`);
  await chmod(join(bin, 'nvidia-smi'), 0o755);
  process.env.PATH = `${bin}:${originalPath}`;
}

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: 'llama3.1:8b', parameterSizeB: 8, sizeBytes: 4_900_000_000 }] });
});
afterEach(async () => {
  await router?.stop();
  router = undefined;
  process.env.PATH = originalPath;
});
afterAll(async () => {
  await sim?.close();
});

async function chatOnce(r: TestRouter): Promise<void> {
  const res = await fetch(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hello there' }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
}

describe('/admin/vram', () => {
  it('reports both GPUs, warnings and the loaded models with a two-GPU nvidia-smi', async () => {
    await fakeNvidiaSmi(`cat '${FIXTURES}two-gpus.csv'`);
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_VRAM_MONITOR_ENABLED: 'true', ROUTER_VRAM_MONITOR_INTERVAL: '1' });
    await chatOnce(router);
    await expect.poll(async () => ((await (await fetch(`${router!.url}/admin/vram`)).json()) as { gpus: unknown[] }).gpus.length, { timeout: 5000 }).toBe(2);
    const body = (await (await fetch(`${router.url}/admin/vram`)).json()) as Record<string, any>;
    expect(body.monitoring_enabled).toBe(true);
    expect(body.gpus).toEqual([
      expect.objectContaining({ index: 0, name: 'NVIDIA GeForce RTX 3090', total_gb: 24, used_gb: 18.31 }),
      expect.objectContaining({ index: 1, name: 'NVIDIA GeForce RTX 3060', total_gb: 12 }),
    ]);
    expect(body.budget_gb).toBeCloseTo(0.9 * 36, 1);
    expect(body.warnings).toEqual([expect.objectContaining({ gpu: 0, level: 75 })]);
    expect(body.history.length).toBeGreaterThan(0);
    expect(body.loaded_models).toEqual([expect.objectContaining({ model: 'llama3.1:8b', backend: 'ollama', measured: true })]);

    const client = createClient(AdminService, createGrpcTransport({ baseUrl: router.url }));
    const vram = await client.getVram({});
    expect(vram.monitoringEnabled).toBe(true);
    expect(vram.gpus.map((g) => g.name)).toEqual(['NVIDIA GeForce RTX 3090', 'NVIDIA GeForce RTX 3060']);
    expect(vram.loadedModels[0]?.model).toBe('llama3.1:8b');

    let samples = 0;
    for await (const sample of client.watchVram({})) {
      expect(sample.gpus).toHaveLength(2);
      if (++samples === 1) break; // leaving the loop cancels the stream
    }
    expect(samples).toBe(1);
  });

  it('turns monitoring off when nvidia-smi fails, and the router keeps working', async () => {
    await fakeNvidiaSmi(`echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."; exit 9`);
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_VRAM_MONITOR_ENABLED: 'true' });
    await chatOnce(router);
    const body = (await (await fetch(`${router.url}/admin/vram`)).json()) as Record<string, any>;
    expect(body.monitoring_enabled).toBe(false);
    expect(body.reason).toMatch(/driver|nvidia-smi/i);
    expect(body.gpus).toEqual([]);
    const client = createClient(AdminService, createGrpcTransport({ baseUrl: router.url }));
    await expect(
      (async () => {
        for await (const _ of client.watchVram({})) void _;
      })(),
    ).rejects.toMatchObject({ rawMessage: expect.stringMatching(/VRAM monitoring is off/) });
  });

  it('reports monitoring off when ROUTER_VRAM_MONITOR_ENABLED=false', async () => {
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_VRAM_MONITOR_ENABLED: 'false' });
    const body = (await (await fetch(`${router.url}/admin/vram`)).json()) as Record<string, any>;
    expect(body).toMatchObject({ monitoring_enabled: false, reason: expect.stringMatching(/ROUTER_VRAM_MONITOR_ENABLED/) });
  });

  it('docs/vram.md says what /metrics and the LoadModel / UnloadModel answers really hold', async () => {
    const doc = await readFile(VRAM_DOC, 'utf8');
    await fakeNvidiaSmi(`cat '${FIXTURES}two-gpus.csv'`);
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_VRAM_MONITOR_ENABLED: 'true', ROUTER_VRAM_MONITOR_INTERVAL: '1' });
    await chatOnce(router);
    await expect.poll(async () => (await (await fetch(`${router!.url}/metrics`)).text()).includes('smarterrouter_gpu_total_gb{'), { timeout: 5000 }).toBe(true);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    // Every VRAM/GPU metric the doc names is served, and /metrics has no per-model VRAM series to document.
    const named = [...doc.matchAll(/`(smarterrouter_\w+)`/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(metrics, name).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    expect(metrics).not.toMatch(/^smarterrouter_\w*(vram|gpu)\w*\{[^}]*model=/m);
    expect(doc).not.toMatch(/For `\/metrics`, `VramManager\.loadedModelSizes\(\)`/);
    // The RPC columns of the table list exactly the fields of the proto responses.
    const rpcFields = (method: string) => {
      const row = doc.split('\n').find((line) => line.includes(`\`AdminService.${method}\``));
      const braces = /RPC `\{([^}]*)\}`/.exec(row ?? '')?.[1];
      return braces?.split(',').map((f) => f.trim());
    };
    expect(rpcFields('LoadModel')).toEqual(LoadModelResponseSchema.fields.map((f) => f.name));
    expect(rpcFields('UnloadModel')).toEqual(UnloadModelResponseSchema.fields.map((f) => f.name));
  });
});
