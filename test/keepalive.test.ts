/**
 * The router keeps its backend connections alive across requests, streaming and not: a new TCP
 * connection per request cost milliseconds (found with `npm run bench`, see docs/performance.md).
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAISimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

let sim: RunningSimulator;
let router: TestRouter;
beforeAll(async () => {
  sim = await startOpenAISimulator({ models: [{ id: 'm7', parameterSizeB: 7 }] });
  router = await startTestRouter({ ROUTER_PROVIDER: 'openai', ROUTER_OPENAI_BASE_URL: `${sim.url}/v1` });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

it('reuses backend connections across routed requests', async () => {
  const simPort = Number(new URL(sim.url).port);
  let connects = 0;
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const options = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { port?: number | string } | undefined;
    if (Number(options?.port) === simPort) connects++;
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  try {
    for (const stream of [false, true, false, true, false, true]) {
      const res = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smarterrouter/main', stream, messages: [{ role: 'user', content: 'hello' }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
  } finally {
    net.Socket.prototype.connect = original;
  }
  expect(connects).toBeLessThanOrEqual(1);
});
