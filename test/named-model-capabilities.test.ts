/**
 * A client that names a concrete model bypasses routing, so the router cannot steer around what the
 * model lacks. When the request needs something the model cannot do, the client gets OpenAI's answer
 * to a bad request (400 invalid_request_error), not a 502 that reads like a router failure: at once
 * for tools the backend says the model lacks, and with the backend's own reason when the backend
 * refuses the request. Through the real openai SDK against a router in front of the Ollama simulator.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type OllamaSimulator } from '../src/simulators/ollama.js';
import { startTestRouter, waitForModels, type TestRouter } from './support/router.js';

const IMAGE = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
];

let ollama: OllamaSimulator;
let router: TestRouter;
let client: OpenAI;

beforeAll(async () => {
  ollama = await startOllamaSimulator({
    models: [
      { id: 'plain-text:7b', capabilities: { tools: false, vision: false } },
      { id: 'sees-and-calls:7b', capabilities: { tools: true, vision: true } },
    ],
  });
  router = await startTestRouter({ ROUTER_OLLAMA_URL: ollama.url, ROUTER_EXPOSE_MODELS: 'true' });
  await waitForModels(router, ['plain-text:7b', 'sees-and-calls:7b']);
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await router?.stop();
  await ollama?.close();
});

const chatCalls = () => ollama.requests.filter((r) => r.path === '/api/chat').length;

describe('a named model that cannot do what the request needs', () => {
  it('tools for a model without tool support: 400 on the tools param, and the backend is never called', async () => {
    const before = chatCalls();
    const error = await client.chat.completions
      .create({ model: 'plain-text:7b', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: TOOLS })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.error).toMatchObject({ type: 'invalid_request_error', param: 'tools', code: 'invalid_request' });
    expect(bad.message).toContain('does not support tools');
    expect(chatCalls()).toBe(before);
  });

  it('an image the backend refuses for a text-only model: 400 with the backend\'s reason, not 502', async () => {
    const error = await client.chat.completions
      .create({
        model: 'plain-text:7b',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: IMAGE } }] }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('plain-text:7b');
    expect((error as Error).message).toContain('missing data required for image input');
  });

  it('the same requests to a capable model, or to smarterrouter/main, are answered', async () => {
    const called = await client.chat.completions.create({ model: 'sees-and-calls:7b', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: TOOLS });
    expect(called.choices[0]?.message).toBeDefined();
    const routed = await client.chat.completions.create({
      model: 'smarterrouter/main',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: IMAGE } }] }],
    });
    expect(routed.model).toBe('sees-and-calls:7b');
  });

  it('a named model that fails with a server error is still a 502 (the backend, not the request, is at fault)', async () => {
    ollama.setFailure('http500', 'sees-and-calls:7b');
    try {
      const error = await client.chat.completions.create({ model: 'sees-and-calls:7b', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    } finally {
      ollama.setFailure('none');
    }
  });
});
