/**
 * GET /health sums up its details in `status`: ok when the database and every backend answer,
 * degraded while the router serves but a backend is down, unavailable when it cannot serve at all
 * (`ready: false`). Always 200: it is also the liveness probe (Dockerfile HEALTHCHECK).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type OllamaSimulator } from '../src/simulators/ollama.js';
import { startTestRouter, type TestRouter } from './support/router.js';

interface Health {
  status: string;
  ready: boolean;
  backends: Array<{ name: string; ok: boolean; checked_at: string | null }>;
}

let ollama: OllamaSimulator;
const routers: TestRouter[] = [];

beforeAll(async () => {
  ollama = await startOllamaSimulator({ models: [{ id: 'qwen2.5:7b' }] });
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.stop()));
  await ollama?.close();
});

/** /health once every backend has been probed. */
async function probed(backends: string): Promise<{ res: Response; body: Health }> {
  const router = await startTestRouter({ ROUTER_BACKENDS: backends });
  routers.push(router);
  for (let i = 0; ; i++) {
    const res = await fetch(`${router.url}/health`);
    const body = (await res.json()) as Health;
    if (body.backends.every((b) => b.checked_at !== null)) return { res, body };
    if (i > 100) throw new Error('backends never probed');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('GET /health status', () => {
  it('ok when every backend answers', async () => {
    const { res, body } = await probed(`gpu=ollama:${ollama.url}`);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', ready: true });
  });

  it('degraded while one of two backends is down (still ready, still 200)', async () => {
    const { res, body } = await probed(`gpu=ollama:${ollama.url},gone=ollama:http://127.0.0.1:9`);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'degraded', ready: true });
    expect(body.backends.map((b) => [b.name, b.ok])).toEqual([
      ['gpu', true],
      ['gone', false],
    ]);
  });

  it('unavailable when no backend answers (not ready, still 200 for liveness)', async () => {
    const { res, body } = await probed('gone=ollama:http://127.0.0.1:9');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'unavailable', ready: false });
  });
});

describe('a backend that fails its health check', () => {
  it('is skipped by routing and listed unavailable until a check passes (ROUTER_HEALTH_CHECK_INTERVAL)', async () => {
    const flaky = await startOllamaSimulator({ models: [{ id: 'qwen2.5-coder:32b', parameterSizeB: 32, quality: { coding: 0.95 } }] });
    try {
      const router = await startTestRouter({
        ROUTER_BACKENDS: `gpu=ollama:${flaky.url},small=ollama:${ollama.url}`,
        ROUTER_HEALTH_CHECK_INTERVAL: '0.2',
        ROUTER_EXPOSE_MODELS: 'true',
        ROUTER_CACHE_ENABLED: 'false',
      });
      routers.push(router);
      const big = 'qwen2.5-coder:32b';
      const listed = async () => ((await (await fetch(`${router.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
      const explain = async () =>
        (await (await fetch(`${router.url}/admin/explain?prompt=${encodeURIComponent('write a python function that merges two sorted lists')}`)).json()) as {
          selected_model: string;
          candidates: Array<{ model: string; excluded: boolean; reason: string | null }>;
        };
      const until = async (test: () => Promise<boolean>) => {
        for (let i = 0; i < 100 && !(await test()); i++) await new Promise((r) => setTimeout(r, 50));
        expect(await test()).toBe(true);
      };
      await until(async () => (await explain()).selected_model === big);
      expect(await listed()).toContain(big);

      // Every route of the simulator now resets the connection, /api/version included.
      flaky.setFailure('reset');
      await until(async () => !(await listed()).includes(big));
      const down = await explain();
      expect(down.selected_model).toBe('qwen2.5:7b');
      expect(down.candidates.find((c) => c.model === big)).toMatchObject({ excluded: true, reason: expect.stringContaining('backend is down') });
      const routed = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smarterrouter/main', max_tokens: 4, messages: [{ role: 'user', content: 'write a python function that merges two sorted lists' }] }),
      });
      expect(routed.status).toBe(200);
      // No attempt on the sick backend: the answer comes from the healthy one straight away.
      expect(routed.headers.get('x-router-model')).toBe('qwen2.5:7b');

      flaky.setFailure('none');
      await until(async () => (await explain()).selected_model === big);
      expect(await listed()).toContain(big);
    } finally {
      await flaky.close();
    }
  });
});

describe('ROUTER_HEALTH_CHECK_INTERVAL', () => {
  it('refuses a value outside 0.1..3600 seconds', async () => {
    await expect(startTestRouter({ ROUTER_HEALTH_CHECK_INTERVAL: '0' })).rejects.toThrow(/ROUTER_HEALTH_CHECK_INTERVAL: 0 is out of range/);
    await expect(startTestRouter({ ROUTER_HEALTH_CHECK_INTERVAL: 'soon' })).rejects.toThrow(/ROUTER_HEALTH_CHECK_INTERVAL/);
  });
});

