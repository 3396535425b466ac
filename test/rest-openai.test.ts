/**
 * The OpenAI REST facade over real HTTP (plain fetch): validation, SSE framing byte by byte,
 * usage, errors mid-stream, tool-call and reasoning deltas, CORS, /v1/models, feedback, and the
 * client-disconnect path that must stop the upstream generation.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, startOpenAISimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';

// ---------------------------------------------------------------------------------------------
// Helpers

interface SseEvent {
  raw: string;
  data: string;
}

/** Splits an SSE body into events, checking the framing strictly: only `data: ...\n\n` frames. */
function sseEvents(text: string): SseEvent[] {
  expect(text.endsWith('\n\n')).toBe(true);
  const frames = text.slice(0, -2).split('\n\n');
  return frames.map((raw) => {
    expect(raw.startsWith('data: ')).toBe(true);
    expect(raw.includes('\n')).toBe(false);
    return { raw, data: raw.slice('data: '.length) };
  });
}

function chunksOf(events: SseEvent[]): any[] {
  return events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data));
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the router's registry lists every id (discovery runs right after start-up). */
async function waitForModels(router: TestRouter, ids: string[]): Promise<void> {
  await waitFor(async () => {
    const known = new Set(router.config.exposeModels ? ((await (await fetch(`${router.url}/v1/models`)).json()) as any).data.map((m: any) => m.id) : []);
    return ids.every((id) => known.has(id)) ? true : undefined;
  }, `models ${ids.join(', ')}`);
}

/**
 * A TCP proxy in front of a backend that records every connection: what the router sent and when
 * the router closed it. Lets a test see the upstream connection die when a client disconnects.
 */
interface TappedConnection {
  sent: string;
  closedAt?: number;
}
async function startTap(target: string): Promise<{ url: string; connections: TappedConnection[]; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const connections: TappedConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const record: TappedConnection = { sent: '' };
    connections.push(record);
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    client.on('data', (d) => {
      record.sent += d.toString('latin1');
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    const end = () => {
      record.closedAt ??= Date.now();
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const user = (content: string) => ({ role: 'user', content });

// ---------------------------------------------------------------------------------------------
// Fixtures: Ollama models (tools, thinking, vision, a slow one behind a tap), an OpenAI-compatible
// model whose tool-call arguments stream in fragments.

let ollama: RunningSimulator;
let openai: RunningSimulator;
let router: TestRouter;
let base: string;

beforeAll(async () => {
  ollama = await startOllamaSimulator({
    models: [
      { id: 'qwen2.5-coder:7b', capabilities: { tools: true }, quality: { coding: 0.9, general: 0.6 } },
      { id: 'qwen3:8b', capabilities: { tools: true, thinking: true }, quality: { reasoning: 0.9 } },
      { id: 'llava:7b', capabilities: { vision: true } },
    ],
  });
  openai = await startOpenAISimulator({
    models: [
      { id: 'gpt-tools', capabilities: { tools: true } },
      { id: 'gpt-sees', capabilities: { vision: true } },
      // A token every 100 ms, as a real model streams.
      { id: 'gpt-paced', tokensPerSecond: 10 },
    ],
  });
  router = await startTestRouter({
    ROUTER_BACKENDS: `sim=ollama:${ollama.url},cloud=openai:${openai.url}/v1`,
    ROUTER_EXPOSE_MODELS: 'true',
    ROUTER_MAX_MESSAGES: '5',
    ROUTER_MAX_PROMPT_CHARS: '2000',
  });
  base = `${router.url}/v1`;
  await waitForModels(router, ['qwen2.5-coder:7b', 'qwen3:8b', 'llava:7b', 'gpt-tools', 'gpt-sees', 'gpt-paced']);
});

afterAll(async () => {
  await router?.stop();
  await Promise.all([ollama?.close(), openai?.close()]);
});

// ---------------------------------------------------------------------------------------------

describe('request validation', () => {
  const ok = { model: 'smarterrouter/main', messages: [user('hello')] };
  const cases: Array<[string, unknown, string | null, RegExp?, Record<string, string>?]> = [
    ['malformed JSON', '{"model": "smarterrouter/main", "messages": [', null, /not valid JSON/],
    ['a JSON array body', '[]', null, /must be a JSON object/],
    ['missing messages', { model: 'smarterrouter/main' }, 'messages', /Missing required parameter: 'messages'/],
    ['empty messages', { ...ok, messages: [] }, 'messages', /empty array/],
    ['messages as an object', { ...ok, messages: { role: 'user' } }, 'messages', /expected an array/],
    ['a message without role', { ...ok, messages: [{ content: 'hi' }] }, 'messages[0].role', /Missing required parameter/],
    ['an unknown role', { ...ok, messages: [{ role: 'robot', content: 'hi' }] }, 'messages[0].role', /expected one of/],
    ['content as an object', { ...ok, messages: [{ role: 'user', content: { text: 'hi' } }] }, 'messages[0].content', /Invalid type/],
    ['null user content', { ...ok, messages: [{ role: 'user', content: null }] }, 'messages[0].content', /Missing content/],
    ['temperature 3', { ...ok, temperature: 3 }, 'temperature', /<= 2, but got 3/],
    ['temperature as a word', { ...ok, temperature: 'hot' }, 'temperature', /expected a number/],
    ['top_p -1', { ...ok, top_p: -1 }, 'top_p', />= 0/],
    ['n 2', { ...ok, n: 2 }, 'n', /n > 1 is not supported/],
    ['temperature 1e400 (Infinity once parsed)', '{"model": "smarterrouter/main", "messages": [{"role": "user", "content": "hi"}], "temperature": 1e400}', 'temperature', /too large to represent/],
    // JSON bodies keep their types (query strings are still coerced): OpenAI refuses these too.
    ['max_tokens as a string', { ...ok, max_tokens: '10' }, 'max_tokens', /expected an integer, but got a string/],
    ['stream as the string "true"', { ...ok, stream: 'true' }, 'stream', /expected a boolean, but got a string/],
    ['a numeric model', { ...ok, model: 5 }, 'model', /expected a string, but got an integer/],
    ['messages as a string', { ...ok, messages: 'hi' }, 'messages', /expected an array, but got a string/],
    ['logprobs true', { ...ok, logprobs: true }, 'logprobs', /logprobs are not supported/],
    ['tool_choice naming an undefined function', { ...ok, tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'b' } } }, 'tool_choice', /"b" is not one of the request's tools/],
    ['max_tokens 0', { ...ok, max_tokens: 0 }, 'max_tokens', />= 1/],
    ['max_completion_tokens 1.5', { ...ok, max_completion_tokens: 1.5 }, 'max_completion_tokens', /integer/],
    ['presence_penalty 3', { ...ok, presence_penalty: 3 }, 'presence_penalty', /<= 2/],
    ['seed 1.5', { ...ok, seed: 1.5 }, 'seed', /integer/],
    ['an unknown content part type', { ...ok, messages: [{ role: 'user', content: [{ type: 'video', video: {} }] }] }, 'messages[0].content[0].type', /expected one of 'text', 'image_url'/],
    ['a text part without text', { ...ok, messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text', /needs a 'text' string/],
    ['stop as a number', { ...ok, stop: 5 }, 'stop', /expected a string or an array of strings/],
    ['a numeric tool_choice', { ...ok, tool_choice: 5 }, 'tool_choice', /expected a string or an object/],
    ['five stop sequences', { ...ok, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /at most 4/],
    ['stream as a word', { ...ok, stream: 'yes' }, 'stream', /expected a boolean/],
    ['an unknown tool_choice', { ...ok, tool_choice: 'sometimes' }, 'tool_choice', /'none', 'auto', 'required'/],
    ['a tool without a function name', { ...ok, tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name', /Missing required/],
    ['audio input', { ...ok, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }, 'messages[0].content[0]', /Audio input is not supported/],
    ['an ftp image URL', { ...ok, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, 'messages[0].content[0].image_url.url', /http\(s\) URL or a base64 data URL/],
    ['a tool message without tool_call_id', { ...ok, messages: [user('hi'), { role: 'tool', content: '42' }] }, 'messages[1].tool_call_id', /tool_call_id/],
    ['json_schema without a schema', { ...ok, response_format: { type: 'json_schema' } }, 'response_format.json_schema', /json_schema/],
    ['too many messages (ROUTER_MAX_MESSAGES=5)', { ...ok, messages: Array.from({ length: 6 }, () => user('hi')) }, 'messages', /Too many messages: 6 sent, at most 5/],
    ['a too long message (ROUTER_MAX_PROMPT_CHARS=2000)', { ...ok, messages: [user('x'.repeat(2001))] }, 'messages[0].content', /2001 characters, at most 2000/],
    ['too long text parts', { ...ok, messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(1500) }, { type: 'text', text: 'y'.repeat(600) }] }] }, 'messages[0].content', /2100 characters/],
    ['a quality preference above 1', ok, 'X-Router-Quality-Preference', /between 0 \(speed\) and 1/, { 'x-router-quality-preference': '1.5' }],
    ['a quality preference that is no number', ok, 'X-Router-Quality-Preference', /got 'fast'/, { 'x-router-quality-preference': 'fast' }],
  ];

  it.each(cases)('rejects %s with a 400 naming the field', async (_name, body, param, message, headers) => {
    const r = await post(`${base}/chat/completions`, body, headers);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await r.json()) as any;
    expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(json.error.type).toBe('invalid_request_error');
    expect(json.error.param).toBe(param);
    if (message) expect(json.error.message).toMatch(message);
  });

  it('accepts what real clients send: no Authorization, nulls, unknown fields, developer role, max_completion_tokens', async () => {
    const before = ollama.requests.length;
    const r = await post(`${base}/chat/completions`, {
      model: 'qwen2.5-coder:7b',
      messages: [{ role: 'developer', content: 'You are terse.' }, { role: 'user', content: [{ type: 'text', text: 'Say hi' }] }],
      max_completion_tokens: 7,
      max_tokens: null,
      temperature: null,
      stop: null,
      logit_bias: {},
      store: false,
      metadata: { app: 'test' },
      reasoning_effort: 'low',
      parallel_tool_calls: true,
      user: 'someone',
      n: 1,
      seed: 42,
    });
    expect(r.status).toBe(200);
    const sent = ollama.requests.slice(before).find((q) => q.path === '/api/chat')?.body as any;
    expect(sent.messages[0]).toMatchObject({ role: 'system', content: 'You are terse.' });
    expect(sent.options).toMatchObject({ num_predict: 7, seed: 42 });
  });

  it('accepts the legacy functions API and answers with function_call', async () => {
    const r = await post(`${base}/chat/completions`, {
      model: 'qwen2.5-coder:7b',
      messages: [user('What is the weather in Paris?')],
      functions: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
      function_call: 'auto',
    });
    expect(r.status).toBe(200);
    const json = (await r.json()) as any;
    expect(json.choices[0].finish_reason).toBe('function_call');
    expect(json.choices[0].message.function_call.name).toBe('get_weather');
    expect(JSON.parse(json.choices[0].message.function_call.arguments)).toHaveProperty('city');
  });

  it('accepts a quality preference header in range', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'smarterrouter/main', messages: [user('hello there')] }, { 'x-router-quality-preference': '0.25' });
    expect(r.status).toBe(200);
  });

  it('answers 502 in OpenAI JSON when a non-streaming answer breaks', async () => {
    ollama.setFailure('cut-stream', 'llava:7b');
    try {
      const r = await post(`${base}/chat/completions`, { model: 'llava:7b', messages: [user('Describe a sunny beach in detail')] });
      expect(r.status).toBe(502);
      expect(((await r.json()) as any).error).toMatchObject({ type: 'server_error', param: null, code: expect.any(String) });
    } finally {
      ollama.setFailure('none', 'llava:7b');
    }
  });

  it('maps router errors: unknown model is a 404 naming the model', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'no-such-model', messages: [user('hi')] });
    expect(r.status).toBe(404);
    const json = (await r.json()) as any;
    expect(json.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
  });
});

describe('non-streaming answers', () => {
  it('returns a chat.completion exactly as OpenAI shapes it', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'smarterrouter/main', messages: [user('Write a python function that reverses a string')] });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const model = r.headers.get('x-router-model');
    expect(model).toBeTruthy();
    expect(r.headers.get('x-router-category')).toBe('coding');
    expect(r.headers.get('x-request-id')).toBeTruthy();
    const json = (await r.json()) as any;
    expect(json).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      created: expect.any(Number),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String), refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    expect(json.choices[0].message.content.length).toBeGreaterThan(0);
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
    expect(Math.abs(json.created - Date.now() / 1000)).toBeLessThan(60);
  });

  it('returns reasoning_content for a thinking model, and null content for a pure tool call', async () => {
    const thinking = (await (await post(`${base}/chat/completions`, { model: 'qwen3:8b', messages: [user('How many legs do 3 spiders have?')] })).json()) as any;
    expect(thinking.choices[0].message.reasoning_content).toEqual(expect.any(String));
    expect(thinking.choices[0].message.reasoning_content.length).toBeGreaterThan(0);

    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    const call = (await (await post(`${base}/chat/completions`, { model: 'gpt-tools', messages: [user('Look up the capital of France')], tools })).json()) as any;
    expect(call.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { role: 'assistant', content: null } });
    expect(call.choices[0].message.tool_calls).toEqual([{ id: expect.any(String), type: 'function', function: { name: 'lookup', arguments: expect.any(String) } }]);
  });

  it('passes parallel_tool_calls to an OpenAI-compatible backend (with tools only), over REST and RPC', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const sent = () => openai.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!.body as Record<string, unknown>;
    expect((await post(`${base}/chat/completions`, { model: 'gpt-tools', messages: [user('Look up Paris')], tools, parallel_tool_calls: false })).status).toBe(200);
    expect(sent()).toMatchObject({ parallel_tool_calls: false, tools: [expect.objectContaining({ type: 'function' })] });
    expect((await post(`${base}/chat/completions`, { model: 'gpt-tools', messages: [user('Say hi')], parallel_tool_calls: false })).status).toBe(200);
    expect(sent()).not.toHaveProperty('parallel_tool_calls');
    expect((await post(`${base}/chat/completions`, { model: 'gpt-tools', messages: [user('Look up Rome')], tools, parallel_tool_calls: 'no' })).status).toBe(400);

    const rpc = createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
    await rpc.chat({ model: 'gpt-tools', messages: [{ role: Role.USER, content: 'Look up Oslo' }], tools: [{ name: 'lookup', parametersJson: '{"type":"object"}' }], parallelToolCalls: false });
    expect(sent()).toMatchObject({ parallel_tool_calls: false });
  });

  it('passes image_url.detail on to an OpenAI-compatible backend (REST and RPC), and refuses an unknown detail', async () => {
    const sent = () => openai.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!.body as { messages: Array<{ content: unknown }> };
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const image = (detail?: string) => ({ type: 'image_url', image_url: detail === undefined ? { url: png } : { url: png, detail } });
    const ask = (detail?: string) => post(`${base}/chat/completions`, { model: 'gpt-sees', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, image(detail)] }] });
    expect((await ask('low')).status).toBe(200);
    expect(sent().messages[0]!.content).toEqual([{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: png, detail: 'low' } }]);
    expect((await ask()).status).toBe(200);
    expect(sent().messages[0]!.content).toEqual([{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: png } }]);
    const bad = await ask('ultra');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('messages[0].content[1].image_url.detail');

    const rpc = createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
    await rpc.chat({ model: 'gpt-sees', messages: [{ role: Role.USER, parts: [{ part: { case: 'image', value: { source: { case: 'url', value: png }, detail: 'high' } } }] }] });
    expect((sent().messages[0]!.content as Array<{ image_url?: { detail?: string } }>)[0]?.image_url?.detail).toBe('high');
    const refused = await rpc
      .chat({ model: 'gpt-sees', messages: [{ role: Role.USER, parts: [{ part: { case: 'image', value: { source: { case: 'url', value: png }, detail: 'ultra' } } }] }] })
      .then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(refused?.code).toBe(Code.InvalidArgument);
    expect(refused?.rawMessage).toMatch(/detail.*"ultra" is not auto, low or high/);
  });

  it('passes reasoning_effort, user, logit_bias and provider_options on to an OpenAI-compatible backend, and checks them', async () => {
    const sent = () => openai.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!.body as Record<string, unknown>;
    const body = { model: 'gpt-tools', messages: [user('Say hi')], reasoning_effort: 'low', user: 'user-42', logit_bias: { '50256': -100 } };
    expect((await post(`${base}/chat/completions`, body)).status).toBe(200);
    expect(sent()).toMatchObject({ reasoning_effort: 'low', user: 'user-42', logit_bias: { '50256': -100 } });
    // provider_options names the plugin; what it sets there wins, and the router's own fields stay its own.
    const options = { ...body, provider_options: { openai: { reasoning_effort: 'high', service_tier: 'flex', model: 'other' } } };
    expect((await post(`${base}/chat/completions`, options)).status).toBe(200);
    expect(sent()).toMatchObject({ model: 'gpt-tools', reasoning_effort: 'high', service_tier: 'flex', user: 'user-42' });
    for (const bad of [{ reasoning_effort: 'extreme' }, { logit_bias: { '1': 500 } }, { provider_options: { openai: 'high' } }, { user: 'x'.repeat(300) }]) {
      const res = await post(`${base}/chat/completions`, { model: 'gpt-tools', messages: [user('Say hi')], ...bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    }
  });
});

describe('streaming (SSE)', () => {
  it('frames chunks exactly: role chunk, deltas, finish chunk, [DONE]', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'qwen2.5-coder:7b', messages: [user('Explain what a hash map is')], stream: true });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(r.headers.get('cache-control')).toMatch(/no-cache/);
    expect(r.headers.get('x-router-model')).toBe('qwen2.5-coder:7b');
    expect(r.headers.get('x-request-id')).toBeTruthy();
    const text = await r.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = sseEvents(text);
    expect(events.filter((e) => e.data === '[DONE]')).toHaveLength(1);
    const chunks = chunksOf(events);
    const [first, ...rest] = chunks;
    const finish = rest.at(-1);
    for (const c of chunks) {
      expect(Object.keys(c).sort()).toEqual(['choices', 'created', 'id', 'model', 'object']);
      expect(c).toMatchObject({ id: first.id, object: 'chat.completion.chunk', created: first.created, model: 'qwen2.5-coder:7b' });
      expect(c.choices).toHaveLength(1);
      expect(Object.keys(c.choices[0]).sort()).toEqual(['delta', 'finish_reason', 'index', 'logprobs']);
      expect(c.choices[0]).toMatchObject({ index: 0, logprobs: null });
    }
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(first.choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
    expect(finish.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    const middle = rest.slice(0, -1);
    expect(middle.length).toBeGreaterThan(1);
    for (const c of middle) {
      expect(Object.keys(c.choices[0].delta)).toEqual(['content']);
      expect(c.choices[0].finish_reason).toBeNull();
    }
    expect(middle.map((c) => c.choices[0].delta.content).join('').length).toBeGreaterThan(10);
  });

  it('sends each token as it comes: frames written together leave together, none waits for the next token', async () => {
    const started = performance.now();
    const r = await post(`${base}/chat/completions`, { model: 'gpt-paced', messages: [user('Count to five')], stream: true, max_tokens: 5 });
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    const arrivals: Array<{ ms: number; text: string }> = [];
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const piece = decoder.decode(value, { stream: true });
      text += piece;
      if (piece.includes('"content":"') && !piece.includes('"content":""')) arrivals.push({ ms: performance.now() - started, text: piece });
    }
    const contents = chunksOf(sseEvents(text)).map((c) => c.choices[0]?.delta?.content).filter((c) => c);
    expect(contents.length).toBe(5);
    // Five tokens 100 ms apart reach the client as five separate arrivals spread over the
    // generation, not in one burst at its end.
    expect(arrivals.length).toBeGreaterThanOrEqual(4);
    expect(arrivals.at(-1)!.ms - arrivals[0]!.ms).toBeGreaterThanOrEqual(250);
  });

  it('adds usage: null to every chunk and a final usage chunk with empty choices when include_usage is set', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'qwen2.5-coder:7b', messages: [user('Explain recursion')], stream: true, stream_options: { include_usage: true } });
    const events = sseEvents(await r.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = chunksOf(events);
    const usageChunk = chunks.at(-1);
    expect(usageChunk).toEqual({
      id: chunks[0].id,
      object: 'chat.completion.chunk',
      created: chunks[0].created,
      model: 'qwen2.5-coder:7b',
      choices: [],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    expect(usageChunk.usage.completion_tokens).toBeGreaterThan(0);
    expect(usageChunk.usage.total_tokens).toBe(usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
  });

  it('ends a stream that breaks mid-way with an error event and no [DONE]', async () => {
    ollama.setFailure('cut-stream', 'llava:7b');
    try {
      const r = await post(`${base}/chat/completions`, { model: 'llava:7b', messages: [user('Describe a sunny beach in detail')], stream: true });
      expect(r.status).toBe(200);
      const text = await r.text();
      expect(text).not.toContain('[DONE]');
      const events = sseEvents(text);
      const last = JSON.parse(events.at(-1)!.data);
      expect(last).toEqual({ error: { message: expect.stringContaining('llava:7b'), type: 'server_error', param: null, code: expect.any(String) } });
      expect(JSON.parse(events[0].data).choices[0].delta).toEqual({ role: 'assistant', content: '' });
    } finally {
      ollama.setFailure('none', 'llava:7b');
    }
  });

  it('streams tool calls: id, type and name on the first fragment only, then argument pieces', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } } }];
    const r = await post(`${base}/chat/completions`, { model: 'gpt-tools', messages: [user('What is the weather in Paris today?')], tools, stream: true });
    const chunks = chunksOf(sseEvents(await r.text()));
    const calls = chunks.filter((c) => c.choices[0]?.delta.tool_calls).map((c) => c.choices[0].delta.tool_calls[0]);
    expect(calls.length).toBeGreaterThan(1);
    expect(calls[0]).toEqual({ index: 0, id: expect.any(String), type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } });
    for (const c of calls.slice(1)) expect(c).toEqual({ index: 0, function: { arguments: expect.any(String) } });
    expect(JSON.parse(calls.map((c) => c.function.arguments).join(''))).toHaveProperty('city');
    expect(chunks.at(-1).choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' });
  });

  it('streams reasoning_content deltas of a thinking model before its content', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'qwen3:8b', messages: [user('If a train goes 60 km/h for 2 hours, how far does it go?')], stream: true });
    const deltas = chunksOf(sseEvents(await r.text())).map((c) => c.choices[0].delta);
    const firstReasoning = deltas.findIndex((d) => typeof d.reasoning_content === 'string');
    const firstContent = deltas.findIndex((d) => typeof d.content === 'string' && d.content.length > 0);
    expect(firstReasoning).toBeGreaterThan(0);
    expect(firstContent).toBeGreaterThan(firstReasoning);
    expect(deltas.filter((d) => d.reasoning_content).map((d) => d.reasoning_content).join('').length).toBeGreaterThan(5);
  });

  it('aborts the upstream generation when the client disconnects mid-stream', async () => {
    // Its own router: a very slow model behind a TCP tap, where no other test can be routed to it.
    const slowSim = await startOllamaSimulator({ models: [{ id: 'tortoise:1b', tokensPerSecond: 0.5 }] });
    const tap = await startTap(slowSim.url);
    const slow = await startTestRouter({ ROUTER_BACKENDS: `slow=ollama:${tap.url}`, ROUTER_EXPOSE_MODELS: 'true' });
    try {
      await waitForModels(slow, ['tortoise:1b']);
      const ac = new AbortController();
      const r = await fetch(`${slow.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tortoise:1b', messages: [user('Tell me everything about the history of rivers and their names')], stream: true }),
        signal: ac.signal,
      });
      expect(r.status).toBe(200);
      const reader = r.body!.getReader();
      let seen = '';
      while (!/"content":"[^"]/.test(seen)) seen += Buffer.from((await reader.read()).value!).toString();
      const chat = tap.connections.find((c) => c.sent.includes('POST /api/chat') && c.closedAt === undefined);
      expect(chat).toBeDefined();
      const abortedAt = Date.now();
      ac.abort();
      // The next token is 2 s away (0.5 tokens/s), so nothing is written to the dead client before
      // then: only the abort signal tied to the client's socket can close the upstream this early.
      await waitFor(async () => (chat!.closedAt !== undefined ? true : undefined), 'the upstream connection to close', 3000);
      expect(chat!.closedAt! - abortedAt).toBeLessThan(1000);

      // The router is fine afterwards: the next request on the same backend succeeds.
      const again = await post(`${slow.url}/v1/chat/completions`, { model: 'tortoise:1b', messages: [user('hi')], max_tokens: 1 });
      expect(again.status).toBe(200);
      expect(((await again.json()) as any).choices[0].finish_reason).toBe('length');
    } finally {
      await slow.stop();
      await Promise.all([slowSim.close(), tap.close()]);
    }
  });
});

describe('CORS on /v1 only', () => {
  it('answers preflights on /v1 with the allowed origin, methods, headers and max age', async () => {
    const r = await fetch(`${base}/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(r.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(Number(r.headers.get('access-control-max-age'))).toBeGreaterThan(0);

    const noList = await fetch(`${base}/models`, { method: 'OPTIONS', headers: { origin: 'https://x.example', 'access-control-request-method': 'GET' } });
    expect(noList.headers.get('access-control-allow-headers')).toMatch(/authorization.*content-type.*x-router-quality-preference/);
  });

  it('puts CORS headers on real /v1 responses (streaming ones too), never on /admin or /health', async () => {
    const models = await fetch(`${base}/models`, { headers: { origin: 'https://chat.example.com' } });
    expect(models.headers.get('access-control-allow-origin')).toBe('*');
    expect(models.headers.get('access-control-expose-headers')).toMatch(/X-Router-Model.*X-Request-ID/);

    const stream = await post(`${base}/chat/completions`, { model: 'qwen2.5-coder:7b', messages: [user('hi')], stream: true }, { origin: 'https://chat.example.com' });
    expect(stream.headers.get('access-control-allow-origin')).toBe('*');
    expect(stream.headers.get('access-control-expose-headers')).toMatch(/X-Router-Model/);
    await stream.text();

    const invalid = await post(`${base}/chat/completions`, { messages: [] }, { origin: 'https://chat.example.com' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('access-control-allow-origin')).toBe('*');

    const adminPreflight = await fetch(`${router.url}/admin/models`, { method: 'OPTIONS', headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'GET' } });
    expect(adminPreflight.headers.get('access-control-allow-origin')).toBeNull();
    const admin = await fetch(`${router.url}/admin/models`, { headers: { origin: 'https://chat.example.com' } });
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
    const health = await fetch(`${router.url}/health`, { headers: { origin: 'https://chat.example.com' } });
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('/v1/models', () => {
  it('lists router aliases and, with ROUTER_EXPOSE_MODELS, backend models owned by their backend', async () => {
    const r = await fetch(`${base}/models`);
    expect(r.status).toBe(200);
    const json = (await r.json()) as any;
    expect(json.object).toBe('list');
    expect(json.data[0]).toEqual({ id: 'smarterrouter/main', object: 'model', created: expect.any(Number), owned_by: 'smarterrouter' });
    expect(json.data).toContainEqual({ id: 'qwen3:8b', object: 'model', created: expect.any(Number), owned_by: 'sim' });
    expect(json.data).toContainEqual({ id: 'gpt-tools', object: 'model', created: expect.any(Number), owned_by: 'cloud' });

    // Ids with '/' and ':' work with and without percent-encoding.
    expect(((await (await fetch(`${base}/models/smarterrouter/main`)).json()) as any).id).toBe('smarterrouter/main');
    expect(((await (await fetch(`${base}/models/smarterrouter%2Fmain`)).json()) as any).id).toBe('smarterrouter/main');
    expect(((await (await fetch(`${base}/models/qwen3:8b`)).json()) as any)).toEqual({ id: 'qwen3:8b', object: 'model', created: expect.any(Number), owned_by: 'sim' });
    const missing = await fetch(`${base}/models/ghost:1b`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
  });

  it('lists no backend models without ROUTER_EXPOSE_MODELS (but finds one by id), and echoes only listed CORS origins', async () => {
    const other = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${ollama.url}`, ROUTER_CORS_ORIGINS: 'https://chat.example.com,https://ui.example.org' });
    try {
      const json = (await (await fetch(`${other.url}/v1/models`)).json()) as any;
      expect(json.data.every((m: any) => m.owned_by === 'smarterrouter')).toBe(true);
      expect(json.data.map((m: any) => m.id)).toContain('smarterrouter/main');
      // Hidden from the list, but a client naming it can chat with it, so it can also look it up.
      let retrieved = await fetch(`${other.url}/v1/models/qwen3:8b`);
      for (let i = 0; i < 50 && retrieved.status === 404; i++) {
        await new Promise((r) => setTimeout(r, 100));
        retrieved = await fetch(`${other.url}/v1/models/qwen3:8b`);
      }
      expect(retrieved.status).toBe(200);
      expect((await fetch(`${other.url}/v1/models/ghost:1b`)).status).toBe(404);

      const allowed = await fetch(`${other.url}/v1/models`, { method: 'OPTIONS', headers: { origin: 'https://ui.example.org', 'access-control-request-method': 'GET' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://ui.example.org');
      expect(allowed.headers.get('vary')).toMatch(/Origin/);
      const refused = await fetch(`${other.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
      expect(refused.status).toBe(200);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await other.stop();
    }
  });
});

describe('/v1/feedback', () => {
  it('accepts feedback for a routed answer and names the model that gave it', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'smarterrouter/main', messages: [user('Write a haiku about autumn')] });
    const answer = (await r.json()) as any;
    const model = r.headers.get('x-router-model');
    // Decisions are stored off the request path; a thumbs-up comes seconds later in real use.
    const feedback = await waitFor(async () => {
      const f = await post(`${base}/feedback`, { response_id: answer.id, score: 1, comment: 'lovely' });
      return f.status === 200 ? f : undefined;
    }, 'the decision to be stored');
    expect(await feedback.json()).toEqual({ accepted: true, response_id: answer.id, model });
  });

  it('answers 404 for an unknown response id and 400 for a bad score', async () => {
    const unknown = await post(`${base}/feedback`, { response_id: 'chatcmpl-doesnotexist', score: 1 });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error).toMatchObject({ type: 'invalid_request_error', code: 'not_found', param: 'response_id' });

    const bad = await post(`${base}/feedback`, { response_id: 'chatcmpl-x', score: 2 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatchObject({ type: 'invalid_request_error', param: 'score' });

    const missing = await post(`${base}/feedback`, { score: 0.5 });
    expect(((await missing.json()) as any).error).toMatchObject({ param: 'response_id', message: "Missing required parameter: 'response_id'." });

    const long = await post(`${base}/feedback`, { response_id: 'chatcmpl-x', score: 0, comment: 'x'.repeat(2001) });
    expect(((await long.json()) as any).error).toMatchObject({ param: 'comment' });
  });

  it('counts one rating per answer: a changed or repeated rating replaces the earlier one', async () => {
    const r = await post(`${base}/chat/completions`, { model: 'smarterrouter/main', messages: [user('Write a limerick about a lighthouse keeper')] });
    const answer = (await r.json()) as any;
    const model = r.headers.get('x-router-model')!;
    const category = r.headers.get('x-router-category') as 'creativity';
    const mean = () => router.core.router.feedbackBook.mean(model, category);
    await waitFor(async () => ((await post(`${base}/feedback`, { response_id: answer.id, score: 1 })).status === 200 ? true : undefined), 'the decision to be stored');
    const afterUp = mean()!;
    expect((await post(`${base}/feedback`, { response_id: answer.id, score: -1 })).status).toBe(200);
    const afterDown = mean()!;
    for (let i = 0; i < 4; i++) expect((await post(`${base}/feedback`, { response_id: answer.id, score: -1 })).status).toBe(200);
    // +1 became -1 (the mean fell), and repeating -1 counts nothing more.
    expect(afterDown).toBeLessThan(afterUp);
    expect(mean()).toBe(afterDown);
  });
});
