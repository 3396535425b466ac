/**
 * AdminService.LoadModel / UnloadModel / PinModel over gRPC, and their REST twins
 * POST /admin/models/load|unload|pin, against a router in front of the Ollama simulator and a
 * single-model llama-server (which cannot load or unload on request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { startLlamaCppSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startOllamaSimulator, type OllamaSimulator } from '../src/simulators/ollama.js';
import { startTestRouter, type TestRouter } from './support/router.js';

let ollama: OllamaSimulator;
let single: RunningSimulator;
let router: TestRouter;
let client: Client<typeof AdminService>;

beforeAll(async () => {
  ollama = await startOllamaSimulator({
    models: [
      { id: 'alpha:3b', parameterSizeB: 3, sizeBytes: 3_000_000_000 },
      { id: 'beta:7b', parameterSizeB: 7, sizeBytes: 5_000_000_000 },
    ],
  });
  single = await startLlamaCppSimulator({ models: [{ id: 'solo-1b', parameterSizeB: 1 }] });
  router = await startTestRouter({ ROUTER_BACKENDS: `gpu=ollama:${ollama.url},one=llama.cpp:${single.url}` });
  client = createClient(AdminService, createGrpcTransport({ baseUrl: router.url }));
});
afterAll(async () => {
  await router?.stop();
  await ollama?.close();
  await single?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function rpcError(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error('expected the call to fail');
}

describe('AdminService LoadModel / UnloadModel / PinModel', () => {
  it('loads and unloads a model on its backend', async () => {
    const loaded = await client.loadModel({ model: 'alpha:3b' });
    expect(loaded.ok).toBe(true);
    expect(loaded.message).toMatch(/^loaded in \d+\.\d s$/);
    expect(ollama.loaded()).toEqual(['alpha:3b']);
    expect((await client.loadModel({ model: 'alpha:3b' })).message).toBe('already in memory');

    const vram = await client.getVram({});
    // The single-model llama-server always holds its model; llama.cpp reports no VRAM, so it is estimated.
    expect(vram.loadedModels).toEqual([
      expect.objectContaining({ model: 'alpha:3b', backend: 'gpu', vramBytes: 3_000_000_000n, measured: true }),
      expect.objectContaining({ model: 'solo-1b', backend: 'one', measured: false }),
    ]);
    expect(vram.loadedModels[0]?.lastUsed).toBeDefined();
    expect(vram.loadedModels[1]?.vramBytes).toBeGreaterThan(0n);

    const unloaded = await client.unloadModel({ model: 'alpha:3b' });
    expect(unloaded).toMatchObject({ ok: true, message: 'unloaded' });
    expect(ollama.loaded()).toEqual([]);
    expect(ollama.unloads()).toContain('alpha:3b');
  });

  it('says so when the backend cannot load or unload on request', async () => {
    expect(await client.loadModel({ model: 'solo-1b' })).toMatchObject({ ok: false, message: expect.stringMatching(/cannot load models on request/) });
    expect(await client.unloadModel({ model: 'solo-1b' })).toMatchObject({ ok: false, message: expect.stringMatching(/cannot unload models on request/) });
    // A pin could never be kept: refused, not answered ok and then retried for ever.
    const pin = await rpcError(client.pinModel({ model: 'solo-1b' }));
    expect(pin.code).toBe(Code.FailedPrecondition);
    expect(pin.rawMessage).toMatch(/solo-1b cannot be pinned: its backend "one" \(llama\.cpp\) does not load or unload models/);
    expect((await client.getVram({})).loadedModels.some((m) => m.pinned)).toBe(false);
  });

  it('pins a model (loading it), refuses to unload it, and unpins', async () => {
    expect(await client.pinModel({ model: 'beta:7b' })).toMatchObject({ ok: true, pinnedModel: 'beta:7b' });
    await expect.poll(() => ollama.loaded(), { timeout: 5000 }).toContain('beta:7b');
    const vram = await client.getVram({});
    expect(vram.loadedModels.find((m) => m.model === 'beta:7b')?.pinned).toBe(true);

    const refused = await rpcError(client.unloadModel({ model: 'beta:7b' }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/pinned/);
    expect(ollama.loaded()).toContain('beta:7b');

    expect((await rpcError(client.pinModel({ model: 'alpha:3b', unpin: true }))).code).toBe(Code.FailedPrecondition);
    expect(await client.pinModel({ model: 'beta:7b', unpin: true })).toMatchObject({ ok: true, pinnedModel: '' });
    expect((await client.unloadModel({ model: 'beta:7b' })).ok).toBe(true);
  });

  it('answers NOT_FOUND for an unknown model and INVALID_ARGUMENT for none', async () => {
    const unknown = await rpcError(client.loadModel({ model: 'nope:1b' }));
    expect(unknown.code).toBe(Code.NotFound);
    expect(unknown.rawMessage).toMatch(/nope:1b/);
    expect((await rpcError(client.unloadModel({ model: '' }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(client.pinModel({ model: '' }))).code).toBe(Code.InvalidArgument);
  });
});

describe('REST /admin/models/*', () => {
  it('loads, pins, refuses to unload the pin, unpins and unloads', async () => {
    expect(await post('/admin/models/load', { model: 'alpha:3b' })).toEqual({ status: 200, json: { ok: true, model: 'alpha:3b', message: expect.stringMatching(/^loaded in/) } });
    expect(ollama.loaded()).toContain('alpha:3b');
    expect(await post('/admin/models/pin', { model: 'alpha:3b' })).toEqual({ status: 200, json: { ok: true, pinned_model: 'alpha:3b' } });

    const refused = await post('/admin/models/unload', { model: 'alpha:3b' });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: 'pinned', message: expect.stringMatching(/pinned/) });

    expect(await post('/admin/models/pin', { model: 'alpha:3b', unpin: true })).toEqual({ status: 200, json: { ok: true, pinned_model: null } });
    expect(await post('/admin/models/unload', { model: 'alpha:3b' })).toEqual({ status: 200, json: { ok: true, model: 'alpha:3b', message: 'unloaded' } });
    expect(ollama.loaded()).not.toContain('alpha:3b');
  });

  it('answers bad input with OpenAI error JSON', async () => {
    const missing = await post('/admin/models/load', {});
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatchObject({ type: 'invalid_request_error', param: 'model' });

    const unknown = await post('/admin/models/unload', { model: 'nope:1b' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });

    const wrongType = await post('/admin/models/pin', { model: 'alpha:3b', unpin: 'yes' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.param).toBe('unpin');

    expect((await post('/admin/models/load', { model: 'solo-1b' })).json).toMatchObject({ ok: false, message: expect.stringMatching(/cannot load/) });
    expect(await post('/admin/models/pin', { model: 'solo-1b' })).toMatchObject({ status: 409, json: { error: { code: 'not_loadable', param: null } } });
  });
});
