/**
 * Profiling yields to clients: before each prompt it waits until its backend serves no client
 * request, so the prompt's timing measures the model rather than a queue, and clients do not wait
 * behind profiling; then it loads the model, so the timed turn does not include a load either. The tracker on its own, then a router with the Ollama simulator: a client request
 * in flight holds back profiling on the same backend until it ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendActivity } from '../src/core/backend-activity.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

describe('BackendActivity', () => {
  it('counts requests per backend and wakes the quiet-waiters of that backend only', async () => {
    const activity = new BackendActivity();
    const signal = new AbortController().signal;
    await activity.whenQuiet('gpu', signal, 10_000); // nothing in flight: at once
    activity.enter('gpu');
    activity.enter('gpu');
    activity.enter('cpu');
    let woke = false;
    const waiting = activity.whenQuiet('gpu', signal, 10_000).then(() => (woke = true));
    activity.leave('gpu');
    activity.leave('cpu');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(woke).toBe(false);
    expect(activity.inFlight('gpu')).toBe(1);
    activity.leave('gpu');
    await waiting;
    expect(activity.inFlight('gpu')).toBe(0);
  });

  it('gives up waiting after the bound, and rejects when aborted', async () => {
    const activity = new BackendActivity();
    activity.enter('gpu');
    const started = performance.now();
    await activity.whenQuiet('gpu', new AbortController().signal, 50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    const controller = new AbortController();
    const aborted = activity.whenQuiet('gpu', controller.signal, 10_000);
    controller.abort(new Error('shutting down'));
    await expect(aborted).rejects.toThrow('shutting down');
  });
});

describe('profiling waits for client requests on its backend', () => {
  let sim: RunningSimulator;
  let router: TestRouter;

  beforeAll(async () => {
    sim = await startOllamaSimulator({ models: [{ id: 'busy:7b' }, { id: 'profiled:7b' }] });
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1', ROUTER_FIRST_TOKEN_TIMEOUT: '30' });
  });

  afterAll(async () => {
    await router?.stop();
    await sim?.close();
  });

  it('holds the next prompt while a client request is in flight, and goes on once it ends', async () => {
    const profileChats = () => sim.requests.filter((r) => r.path === '/api/chat' && (r.body as { model?: string })?.model === 'profiled:7b').length;
    sim.setFailure('hang', 'busy:7b');
    const client = new AbortController();
    const asking = fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'busy:7b', messages: [{ role: 'user', content: 'hello' }] }),
      signal: client.signal,
    }).catch(() => undefined);
    while (!sim.requests.some((r) => r.path === '/api/chat' && (r.body as { model?: string })?.model === 'busy:7b')) await new Promise((resolve) => setTimeout(resolve, 10));

    const run = router.core.knowledge.coordinator.start({ entries: [router.core.registry.get('profiled:7b')!], force: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(profileChats()).toBe(0);

    client.abort();
    await asking;
    sim.setFailure('none');
    const summary = await run.done;
    expect(summary.profiled.map((p) => p.model)).toEqual(['profiled:7b']);
    expect(profileChats()).toBeGreaterThan(0);
    // Each prompt's turn is timed with the model loaded: a load request goes before every chat.
    const calls = sim.requests.filter((r) => (r.body as { model?: string })?.model === 'profiled:7b' && (r.path === '/api/chat' || r.path === '/api/generate'));
    const chats = calls.filter((r) => r.path === '/api/chat' && (r.body as { messages?: unknown[] }).messages?.length);
    for (let i = 0; i < calls.length; i++) if (calls[i]!.path === '/api/chat' && chats.includes(calls[i]!)) expect(calls[i - 1]?.path, `request ${i}`).toBe('/api/generate');
  });
});
