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
