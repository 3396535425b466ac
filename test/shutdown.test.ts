/**
 * Graceful shutdown of an in-process router: close() lets in-flight streams finish (up to
 * ROUTER_SHUTDOWN_TIMEOUT), turns new requests away, and flushes every queued routing decision to
 * SQLite before the database closes; a stream that outlives the drain time is cut, and close()
 * still completes. (test/startup.test.ts covers the same through SIGTERM on a real process.)
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

let sim: RunningSimulator;
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: 'slow:1b', parameterSizeB: 1, tokensPerSecond: 40 }] });
});
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await sim?.close();
});

async function start(env: Record<string, string>): Promise<TestRouter> {
  const router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_CACHE_ENABLED: 'false', ROUTER_PROFILE_ON_STARTUP: 'false', ...env });
  dirs.push(router.dir);
  return router;
}

function chat(router: TestRouter, maxTokens: number, stream: boolean, content = 'tell me a story about a fox'): Promise<Response> {
  return fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content }], max_tokens: maxTokens, stream }),
  });
}

async function decisionRows(router: TestRouter): Promise<number> {
  const db = await openDatabase(join(router.dir, 'router.db'));
  try {
    const [row] = (await db.em.getKnex()('routing_decisions').count({ n: '*' })) as Array<{ n: number }>;
    return Number(row!.n);
  } finally {
    await db.close();
  }
}

describe('graceful shutdown', () => {
  it('finishes an in-flight stream, refuses new work, and flushes every decision row', async () => {
    const router = await start({ ROUTER_SHUTDOWN_TIMEOUT: '30' });
    // Decisions queued in memory just before close: the batch writer has not run for them yet.
    const quick = await Promise.all(Array.from({ length: 25 }, (_, i) => chat(router, 2, false, `question ${i}`)));
    for (const r of quick) {
      expect(r.status).toBe(200);
      await r.text();
    }
    // ~30 tokens at 40/s: still streaming when close() starts.
    const res = await chat(router, 30, true);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);

    const closing = router.close();
    // A new request while draining is turned away (503 on a kept-alive socket, refused on a new one).
    const late = await chat(router, 2, false).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);

    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await closing;
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).not.toContain('"error"');
    expect(await decisionRows(router)).toBe(26);
  });

  it('cuts a stream that outlives ROUTER_SHUTDOWN_TIMEOUT, and close() still completes', async () => {
    const router = await start({ ROUTER_SHUTDOWN_TIMEOUT: '0.3' });
    // 400 tokens at 40/s: 10 s, far beyond the drain time.
    const res = await chat(router, 400, true);
    const reader = res.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    await router.close();
    const rest = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })();
    // The socket was destroyed: the body errors or ends, and never with a clean [DONE].
    await rest.catch(() => {});
    expect(text).not.toContain('data: [DONE]');
    expect(await decisionRows(router)).toBe(1);
  });
});
