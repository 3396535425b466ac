/**
 * ROUTER_STREAM_KEEPALIVE: a streaming client whose first token is slow (a model loading, a cascade
 * through hanging models) gets the SSE stream started and keep-alive comments, so a proxy's read
 * timeout does not cut it; a failure after that point is the stream's error event.
 */
import http from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, waitForModels, type TestRouter } from './support/router.js';

let sim: RunningSimulator;
let warm: TestRouter;
let failing: TestRouter;
let silent: TestRouter;

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: 'slow:7b', parameterSizeB: 7 }] });
  const env = { ROUTER_OLLAMA_URL: sim.url, ROUTER_EXPOSE_MODELS: 'true', ROUTER_FIRST_TOKEN_TIMEOUT: '1', ROUTER_CACHE_ENABLED: 'false' };
  // warm waits long enough for the simulator's slow first token (5 s); the others give up after 1 s.
  [warm, failing, silent] = await Promise.all([
    startTestRouter({ ...env, ROUTER_STREAM_KEEPALIVE: '0.25', ROUTER_FIRST_TOKEN_TIMEOUT: '8' }),
    startTestRouter({ ...env, ROUTER_STREAM_KEEPALIVE: '0.25' }),
    startTestRouter({ ...env, ROUTER_STREAM_KEEPALIVE: '0' }),
  ]);
  await Promise.all([warm, failing, silent].map((r) => waitForModels(r, ['slow:7b'])));
});
afterAll(async () => {
  await Promise.all([warm?.stop(), failing?.stop(), silent?.stop()]);
  await sim?.close();
});

/** The raw response: status, headers, and the body with the time each piece arrived. */
function rawStream(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; headersAfterMs: number }> {
  const body = JSON.stringify({ model: 'slow:7b', stream: true, messages: [{ role: 'user', content: 'hello' }] });
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const headersAfterMs = Date.now() - started;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, headersAfterMs }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ROUTER_STREAM_KEEPALIVE', () => {
  it('starts the stream and sends keep-alive comments while the first token is late; the SDK reads the answer', async () => {
    sim.setFailure('slow-first-token', 'slow:7b');
    try {
      const res = await rawStream(warm.url);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.headersAfterMs).toBeLessThan(2500);
      const comments = res.body.split('\n\n').filter((f) => f.startsWith(': keep-alive'));
      expect(comments.length).toBeGreaterThanOrEqual(3);
      expect(res.body.trimEnd().endsWith('data: [DONE]')).toBe(true);
      const sdk = new OpenAI({ baseURL: `${warm.url}/v1`, apiKey: 'none', maxRetries: 0 });
      let text = '';
      for await (const chunk of await sdk.chat.completions.create({ model: 'slow:7b', stream: true, messages: [{ role: 'user', content: 'hello' }] })) {
        text += chunk.choices[0]?.delta?.content ?? '';
        expect(chunk.model).toBe('slow:7b');
      }
      expect(text.length).toBeGreaterThan(0);
    } finally {
      sim.setFailure('none');
    }
  }, 30_000);

  it('a failure after the stream started is its error event (no [DONE]), and the SDK raises it', async () => {
    sim.setFailure('hang', 'slow:7b');
    try {
      const res = await rawStream(failing.url);
      expect(res.status).toBe(200);
      const frames = res.body.trim().split('\n\n');
      expect(frames[0]).toBe(': keep-alive');
      const last = frames.at(-1)!;
      expect(last).toMatch(/^data: /);
      expect(JSON.parse(last.slice(6)).error).toMatchObject({ type: 'server_error', code: 'all_candidates_failed', message: expect.stringContaining('slow:7b (timeout)') });
      expect(res.body).not.toContain('[DONE]');
      const sdk = new OpenAI({ baseURL: `${failing.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const stream = await sdk.chat.completions.create({ model: 'slow:7b', stream: true, messages: [{ role: 'user', content: 'hello' }] });
      await expect((async () => { for await (const _ of stream) void _; })()).rejects.toThrow();
    } finally {
      sim.setFailure('none');
    }
  });

  it('0 waits silently: the failure is a plain HTTP error status', async () => {
    sim.setFailure('hang', 'slow:7b');
    try {
      const res = await rawStream(silent.url);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    } finally {
      sim.setFailure('none');
    }
  });
});
