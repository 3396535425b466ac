/**
 * Node 20 runs a hook on every promise of the process from the moment any AsyncLocalStorage is
 * entered (run / enterWith) until it is disabled. Measured on the router at 16 clients: about 15% of
 * its CPU per request. MikroORM enters one in em.flush(), em.transactional() and em.findAndCount(),
 * so the stores write and count without them (src/db). This test watches AsyncLocalStorage in this
 * process while a real router starts (migrations, benchmark import, discovery), answers chats over
 * REST and gRPC, takes feedback, profiles a model, lists its admin data and shuts down: nothing may
 * enter one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';

import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, waitForModels, type TestRouter } from './support/router.js';

const entered: string[] = [];
const original = { run: AsyncLocalStorage.prototype.run, enterWith: AsyncLocalStorage.prototype.enterWith };

/** Records who enters an AsyncLocalStorage (the test runner's own use is not the router's). */
function watch(method: 'run' | 'enterWith'): void {
  const call = original[method] as (...args: unknown[]) => unknown;
  (AsyncLocalStorage.prototype as unknown as Record<string, unknown>)[method] = function (this: AsyncLocalStorage<unknown>, ...args: unknown[]) {
    const stack = new Error().stack ?? '';
    if (!/vitest|tinypool|tinyspy/.test(stack)) entered.push(`${method}\n${stack.split('\n').slice(2, 8).join('\n')}`);
    return call.apply(this, args);
  };
}

let sim: RunningSimulator;
let router: TestRouter;

beforeAll(async () => {
  watch('run');
  watch('enterWith');
  sim = await startOllamaSimulator({
    models: [
      { id: 'qwen2.5-coder:7b', parameterSizeB: 7, quality: { coding: 0.9 } },
      { id: 'llama3.2:3b', parameterSizeB: 3.2 },
    ],
  });
  router = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_POLLING_INTERVAL: '1', ROUTER_EXPOSE_MODELS: 'true' });
  await waitForModels(router, ['qwen2.5-coder:7b', 'llama3.2:3b']);
});

afterAll(async () => {
  AsyncLocalStorage.prototype.run = original.run;
  AsyncLocalStorage.prototype.enterWith = original.enterWith;
  await sim?.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('no AsyncLocalStorage is ever entered', () => {
  it('through start-up, chats, feedback, profiling, admin lists, discovery rounds and shutdown', async () => {
    const messages = [{ role: 'user', content: 'Write a Python function that reverses a linked list.' }];
    const answer = (await (await post('/v1/chat/completions', { model: 'smarterrouter/main', messages })).json()) as { id: string };
    expect(answer.id).toMatch(/^chatcmpl-/);
    const stream = await post('/v1/chat/completions', { model: 'smarterrouter/main', messages, stream: true });
    expect(await stream.text()).toContain('[DONE]');
    const rpc = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    expect((await rpc.chat({ model: 'smarterrouter/main', messages: [{ role: Role.USER, content: 'Say hello.' }] })).id).toBeTruthy();
    expect((await post('/v1/feedback', { response_id: answer.id, score: 1 })).status).toBe(200);

    expect((await post('/admin/reprofile?model=llama3.2:3b&force=true', {})).status).toBe(202);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const listed = (await (await fetch(`${router.url}/admin/profiles?model=llama3.2:3b`)).json()) as { total?: number };
      if ((listed.total ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error('profiling never stored a result');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const path of ['/admin/benchmarks?limit=5', '/admin/profiles?limit=5', '/admin/decisions?limit=5', '/admin/vram', '/admin/plugins', '/v1/models', '/health']) {
      expect((await fetch(`${router.url}${path}`)).status, path).toBe(200);
    }
    // A discovery round or two (ROUTER_POLLING_INTERVAL=1) syncs the models table again.
    await new Promise((r) => setTimeout(r, 1500));
    await router.stop();
    expect(entered).toEqual([]);
  });
});
