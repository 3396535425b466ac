/**
 * What a client is told when no model answers:
 * - a request that needs what no listed model offers (images for a fleet without vision, tools for
 *   one without tool calling) is the client's error: 400 / INVALID_ARGUMENT naming why, not a 503
 *   that SDKs retry;
 * - every model busy (rate limited, overloaded): 503 with Retry-After;
 * - every model failed: 502 naming the models and how they failed, never the backends' addresses
 *   or raw output.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { parseRetryAfter } from '../src/plugins/backends/http.js';
import { createConnectTransport } from '@connectrpc/connect-node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, waitForModels, type TestRouter } from './support/router.js';

const IMAGE = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const TOOLS = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];

let sim: RunningSimulator;
let router: TestRouter;
let client: OpenAI;

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: 'plain:3b', parameterSizeB: 3, capabilities: { chat: true, vision: false, tools: false } }] });
  router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_EXPOSE_MODELS: 'true' });
  await waitForModels(router, ['plain:3b']);
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'none', maxRetries: 0 });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

describe('a request no listed model can answer', () => {
  it('images for a fleet without vision: 400 invalid_request_error naming the missing capability', async () => {
    const error = await client.chat.completions
      .create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: IMAGE } }] }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const e = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.type).toBe('invalid_request_error');
    expect(e.message).toMatch(/No model on this router can answer this request \(request has images but the model has no vision\)/);
  });

  it('tools for a fleet without tool calling: 400 with param tools, and INVALID_ARGUMENT over RPC', async () => {
    const error = await client.chat.completions.create({ model: 'smarterrouter/main', tools: TOOLS, messages: [{ role: 'user', content: 'look it up' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools');
    const rpc = createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
    const failure = await rpc.chat({ messages: [{ role: Role.USER, content: 'look it up' }], tools: [{ name: 'lookup', parametersJson: '{"type":"object"}' }] }).catch((e: unknown) => e);
    expect(ConnectError.from(failure).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(failure).rawMessage).toMatch(/no tool calling/);
  });

  it('a capable model that fails is still a 5xx (an outage, worth retrying)', async () => {
    sim.setFailure('http500', 'plain:3b');
    try {
      const res = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hello' }] }) });
      expect(res.status).toBeGreaterThanOrEqual(500);
    } finally {
      sim.setFailure('none', 'plain:3b');
    }
  });
});

describe('Retry-After from a backend', () => {
  it('reads delta-seconds and HTTP dates; anything else is unknown', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(' 120 ', now)).toBe(120);
    expect(parseRetryAfter('Sun, 29 Nov 2026 12:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });
});

describe('when every model tried fails', () => {
  const ask = () =>
    fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hello there' }] }) });

  it('busy models (upstream 429/503): 503 with Retry-After, and the SDK sees a retryable error', async () => {
    sim.setFailure('overloaded', 'plain:3b');
    try {
      const res = await ask();
      expect(res.status).toBe(503);
      // The simulator's own Retry-After (1 s) is passed on, not the router's default of 5.
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'overloaded', message: expect.stringMatching(/busy .*plain:3b \(overloaded\)/) });
    } finally {
      sim.setFailure('none');
    }
  });

  it('a failure names models and error codes, never the backend URL or what it sent', async () => {
    for (const mode of ['reset', 'malformed'] as const) {
      sim.setFailure(mode, 'plain:3b');
      try {
        const res = await ask();
        expect(res.status, mode).toBe(502);
        const { message } = ((await res.json()) as { error: { message: string } }).error;
        expect(message).toMatch(/^every model tried failed: plain:3b \(\w+\)$/);
        expect(message).not.toContain(new URL(sim.url).host);
      } finally {
        sim.setFailure('none');
      }
    }
  });
});
