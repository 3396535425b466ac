/**
 * The OpenAI REST facade as real clients see it: the official `openai` SDK (chat, streams with
 * usage, a full tool round trip, images, typed errors), OpenWebUI's request sequence, and a concrete
 * backend model id that bypasses routing.
 */
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

let sim: RunningSimulator;
let router: TestRouter;
let client: OpenAI;

beforeAll(async () => {
  sim = await startOllamaSimulator({
    models: [
      { id: 'qwen2.5-coder:7b', capabilities: { tools: true }, quality: { coding: 0.92, general: 0.6 } },
      { id: 'llama3.2:3b', capabilities: { tools: true }, quality: { general: 0.75, creativity: 0.7 } },
      { id: 'llava:7b', capabilities: { vision: true }, quality: { general: 0.6 } },
    ],
  });
  router = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_EXPOSE_MODELS: 'true' });
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  // Discovery runs right after start-up; wait until the registry has the fleet.
  const deadline = Date.now() + 5000;
  for (;;) {
    const ids = (await client.models.list()).data.map((m) => m.id);
    if (['qwen2.5-coder:7b', 'llama3.2:3b', 'llava:7b'].every((id) => ids.includes(id))) break;
    if (Date.now() > deadline) throw new Error(`models not discovered: ${ids.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

describe('official openai SDK', () => {
  it('chats through smarterrouter/main', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'Write a python function that adds two numbers' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.model).toBe(response.headers.get('x-router-model'));
    expect(data.choices[0].message.role).toBe('assistant');
    expect(data.choices[0].message.content).toMatch(/\S/);
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get('x-router-category')).toBe('coding');
  });

  it('streams with stream_options.include_usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'smarterrouter/main',
      messages: [{ role: 'user', content: 'Tell me about the moon' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) {
        expect(chunk.choices).toEqual([]);
        usage = chunk.usage;
      }
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text.length).toBeGreaterThan(10);
    expect(finish).toBe('stop');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
  });

  it('runs a whole tool round trip: the model calls the tool, the result goes back, text comes out', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    // A large tools array without tool_choice, as agents send it.
    const filler: OpenAI.ChatCompletionTool[] = Array.from({ length: 40 }, (_, i) => ({
      type: 'function',
      function: { name: `unused_tool_${i}`, description: 'Never needed here', parameters: { type: 'object', properties: {} } },
    }));
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.chat.completions.create({ model: 'smarterrouter/main', messages, tools: [...tools, ...filler] });
    const choice = first.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toHaveProperty('city');

    const before = sim.requests.length;
    messages.push(choice.message as OpenAI.ChatCompletionAssistantMessageParam, { role: 'tool', tool_call_id: call.id, content: '{"temperature_c": 21, "sky": "clear"}' });
    const second = await client.chat.completions.create({ model: first.model, messages, tools });
    expect(second.choices[0].finish_reason).toBe('stop');
    expect(second.choices[0].message.content).toMatch(/tool result/i);
    // The assistant tool call and the tool message reached the backend untouched.
    const sent = sim.requests.slice(before).find((r) => r.path === '/api/chat')!.body as any;
    expect(sent.messages[1].tool_calls[0].function.name).toBe('get_weather');
    expect(sent.messages[2]).toMatchObject({ role: 'tool', content: '{"temperature_c": 21, "sky": "clear"}' });
  });

  it('sends images as data URLs to a vision model', async () => {
    const before = sim.requests.length;
    const { data, response } = await client.chat.completions
      .create({
        model: 'smarterrouter/main',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this picture?' },
              { type: 'image_url', image_url: { url: PNG_DATA_URL, detail: 'low' } },
            ],
          },
        ],
      })
      .withResponse();
    expect(response.headers.get('x-router-model')).toBe('llava:7b');
    expect(data.choices[0].message.content).toMatch(/\S/);
    const sent = sim.requests.slice(before).find((r) => r.path === '/api/chat')!.body as any;
    expect(sent.model).toBe('llava:7b');
    expect(sent.messages[0].images).toEqual([PNG_DATA_URL.slice(PNG_DATA_URL.indexOf(',') + 1)]);
  });

  it('raises typed APIErrors: 404 for an unknown model, 400 for bad input', async () => {
    const notFound = await client.chat.completions.create({ model: 'ghost:70b', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect((notFound as APIError).status).toBe(404);
    expect((notFound as APIError).type).toBe('invalid_request_error');
    expect((notFound as APIError).code).toBe('model_not_found');

    const bad = await client.chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hi' }], temperature: 5 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as APIError).status).toBe(400);
    expect((bad as APIError).type).toBe('invalid_request_error');
    expect((bad as APIError).param).toBe('temperature');

    const model = await client.models.retrieve('ghost:70b').catch((e: unknown) => e);
    expect(model).toBeInstanceOf(OpenAI.NotFoundError);
    expect((await client.models.retrieve('smarterrouter/main')).owned_by).toBe('smarterrouter');
  });

  it('lets a concrete backend model id bypass routing', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Write a python function that adds two numbers' }] })
      .withResponse();
    expect(response.headers.get('x-router-model')).toBe('llama3.2:3b');
    expect(data.model).toBe('llama3.2:3b');
  });
});

describe('OpenWebUI request sequence (plain fetch, no Authorization header)', () => {
  it('lists models, then streams a chat with include_usage', async () => {
    const models = await fetch(`${router.url}/v1/models`);
    expect(models.status).toBe(200);
    const list = (await models.json()) as { data: Array<{ id: string }> };
    const model = list.data[0].id;
    expect(model).toBe('smarterrouter/main');

    const r = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        model,
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'Tell me a fun fact about octopuses' },
        ],
        stream: true,
        stream_options: { include_usage: true },
        // OpenWebUI adds these; they must not get in the way.
        metadata: { chat_id: 'abc' },
        params: {},
      }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await r.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const chunks = text
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toMatch(/\S/);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
  });
});
