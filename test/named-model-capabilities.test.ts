/**
 * A client that names a concrete model bypasses routing, so the router cannot steer around what the
 * model lacks. When the model's backend refuses the request as beyond the model, the client gets
 * OpenAI's answer to a bad request (400 invalid_request_error) with the backend's reason, not a 502
 * that reads like a router failure. Through the real openai SDK against the Ollama simulator.
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
      { id: 'llama3.2:latest' },
    ],
  });
  router = await startTestRouter({ ROUTER_OLLAMA_URL: ollama.url, ROUTER_EXPOSE_MODELS: 'true' });
  await waitForModels(router, ['plain-text:7b', 'sees-and-calls:7b', 'llama3.2:latest']);
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await router?.stop();
  await ollama?.close();
});

describe('a named model that cannot do what the request needs', () => {
  it('tools for a model whose backend refuses them: 400 with the backend\'s reason, not 502', async () => {
    // The request still goes to the backend: a client that names a model gets that backend's verdict
    // (llama.cpp, for one, can serve tools to a model without a tool template through its generic format).
    const error = await client.chat.completions
      .create({ model: 'plain-text:7b', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: TOOLS })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
    expect(bad.message).toContain('The model "plain-text:7b" rejected the request');
    expect(bad.message).toContain('does not support tools');
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

describe('a model named the Ollama way, without its tag', () => {
  it('"llama3.2" is llama3.2:latest, as Ollama reads it; an unknown name is still a 404', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    expect(response.headers.get('x-router-model')).toBe('llama3.2:latest');
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(await client.models.retrieve('llama3.2').then((m) => m.id)).toBe('llama3.2:latest');
    await expect(client.chat.completions.create({ model: 'llama3.3', messages: [{ role: 'user', content: 'hello' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('an http image link for an Ollama model: 400 saying to send it inline, not an address', async () => {
    const error = await client.chat.completions
      .create({ model: 'sees-and-calls:7b', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] })
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.BadRequestError>);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('send the image as a data URL');
    expect((error as Error).message).not.toContain('<backend>');
  });
});
