/**
 * The OpenAI-compatible backend plugin against the OpenAI simulator over real HTTP on 127.0.0.1:
 * listing with inferred capabilities, streamed chat (text, usage, tools, images, reasoning),
 * embeddings, and every failure mode mapped to the right PluginError code.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PluginError, type BackendPlugin, type ChatRequest, type ChatStreamPart, type PluginContext } from '../src/plugin-api/index.js';
import { openaiBackendDefinition } from '../src/plugins/backends/openai/index.js';
import { inferModelInfo } from '../src/plugins/backends/openai/model-info.js';
import { startOpenAISimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';

const MODELS: SimModel[] = [
  { id: 'llama-3.1-8b-instruct', capabilities: { chat: true, tools: true } },
  { id: 'gpt-4o-mini', capabilities: { chat: true, vision: true, tools: true } },
  { id: 'deepseek-r1-distill-qwen-7b', capabilities: { chat: true, thinking: true } },
  { id: 'text-embedding-3-small', capabilities: { embeddings: true }, embeddingDim: 16 },
];
const API_KEY = 'sk-test-key-123456';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const shutdown = new AbortController();
const context: PluginContext = { logger: silent, fetch: globalThis.fetch, signal: shutdown.signal };

function signal(): AbortSignal {
  return new AbortController().signal;
}

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

async function failure(promise: Promise<unknown>): Promise<PluginError> {
  try {
    await promise;
  } catch (error) {
    expect(PluginError.isInstance(error)).toBe(true);
    return error as PluginError;
  }
  throw new Error('expected a PluginError');
}

const text = (parts: ChatStreamPart[]) => parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('');
const hello = (model: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model,
  messages: [{ role: 'user', content: 'Say hello and tell me about the weather.' }],
  ...extra,
});

let sim: RunningSimulator;
let backend: BackendPlugin;

beforeAll(async () => {
  sim = await startOpenAISimulator({ models: MODELS, apiKey: API_KEY });
  backend = await openaiBackendDefinition.create({ name: 'cloud', location: `${sim.url}/v1`, apiKey: API_KEY }, context);
});
afterAll(async () => {
  await sim.close();
  shutdown.abort();
});
afterEach(() => sim.setFailure('none'));

describe('openai backend: models and chat', () => {
  it('has the right manifest and capabilities', () => {
    expect(openaiBackendDefinition.manifest).toMatchObject({ name: 'openai', kind: 'backend', specificationVersion: 'v1' });
    expect(backend.provider).toBe('openai');
    expect(backend.name).toBe('cloud');
    expect(backend.capabilities).toEqual({ loadedModels: false, load: false, unload: false, embeddings: true });
  });

  it('lists models with capabilities inferred from the ids', async () => {
    const models = await backend.listModels({ signal: signal() });
    const byId = new Map(models.map((m) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual(MODELS.map((m) => m.id).sort());
    expect(byId.get('llama-3.1-8b-instruct')).toMatchObject({
      family: 'llama',
      parameterCountB: 8,
      capabilities: { chat: true, vision: false, tools: true, embeddings: false },
    });
    expect(byId.get('gpt-4o-mini')?.capabilities).toMatchObject({ chat: true, vision: true, tools: true });
    expect(byId.get('deepseek-r1-distill-qwen-7b')).toMatchObject({ parameterCountB: 7, capabilities: { thinking: true } });
    expect(byId.get('text-embedding-3-small')?.capabilities).toEqual({ chat: false, vision: false, tools: false, embeddings: true });
    const listing = sim.requests.find((r) => r.path === '/v1/models');
    expect(listing?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('infers size, family and capabilities from common id shapes', () => {
    expect(inferModelInfo('mistralai/Mixtral-8x7B-Instruct-v0.1')).toMatchObject({ family: 'mixtral', parameterCountB: 56 });
    expect(inferModelInfo('Qwen/Qwen2.5-0.5B-Instruct')).toMatchObject({ family: 'qwen', parameterCountB: 0.5 });
    expect(inferModelInfo('meta-llama/Llama-3.3-70B-Instruct')).toMatchObject({ family: 'llama', parameterCountB: 70 });
    expect(inferModelInfo('Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf')).toMatchObject({
      parameterCountB: 7,
      quantization: 'Q4_K_M',
      capabilities: { vision: true },
    });
    expect(inferModelInfo('nomic-embed-text-v1.5').capabilities).toMatchObject({ chat: false, embeddings: true });
    expect(inferModelInfo('BAAI/bge-m3').capabilities.embeddings).toBe(true);
    expect(inferModelInfo('whisper-1').capabilities.chat).toBe(false);
    expect(inferModelInfo('SmolLM2-135M-Instruct').parameterCountB).toBe(0.135);
  });

  it('streams text and ends with finish, usage and the stop reason', async () => {
    const parts = await collect(backend.chat(hello('llama-3.1-8b-instruct'), { signal: signal() }));
    const deltas = parts.filter((p) => p.type === 'text-delta');
    expect(deltas.length).toBeGreaterThan(3);
    expect(text(parts).length).toBeGreaterThan(20);
    const last = parts.at(-1);
    expect(last?.type).toBe('finish');
    if (last?.type !== 'finish') return;
    expect(last.finishReason).toBe('stop');
    expect(last.usage.promptTokens).toBeGreaterThan(0);
    expect(last.usage.completionTokens).toBe(deltas.length);
    expect(parts.filter((p) => p.type === 'finish' || p.type === 'error')).toHaveLength(1);
  });

  it('sends the request in the OpenAI wire shape', async () => {
    const request: ChatRequest = {
      model: 'llama-3.1-8b-instruct',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is the weather in Paris?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }] },
        { role: 'tool', toolCallId: 'call_1', content: '{"temp":21}' },
      ],
      temperature: 0.2,
      topP: 0.9,
      maxTokens: 40,
      seed: 7,
      stop: ['\n\n'],
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' } },
      providerOptions: { openai: { reasoning_effort: 'low', model: 'ignored' }, other: { nope: true } },
    };
    const parts = await collect(backend.chat(request, { signal: signal() }));
    expect(parts.at(-1)?.type).toBe('finish');
    const sent = sim.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      model: 'llama-3.1-8b-instruct',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 40,
      seed: 7,
      stop: ['\n\n'],
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      reasoning_effort: 'low',
    });
    expect(sent.nope).toBeUndefined();
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is the weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
    ]);
  });

  it('assembles streamed tool-call deltas into a call', async () => {
    const request = hello('llama-3.1-8b-instruct', {
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
      toolChoice: { name: 'get_weather' },
    });
    const parts = await collect(backend.chat(request, { signal: signal() }));
    const calls = parts.filter((p) => p.type === 'tool-call-delta');
    expect(calls.length).toBeGreaterThan(1);
    expect(calls[0]).toMatchObject({ index: 0, name: 'get_weather' });
    expect(calls[0].type === 'tool-call-delta' && calls[0].id).toBeTruthy();
    expect(calls.slice(1).every((p) => p.type === 'tool-call-delta' && p.id === undefined && p.name === undefined)).toBe(true);
    const args = calls.map((p) => (p.type === 'tool-call-delta' ? p.argumentsDelta : '')).join('');
    expect(JSON.parse(args)).toHaveProperty('city');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' });
    const sent = sim.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(sent.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ]);
  });

  it('sends images to a vision model as image_url parts', async () => {
    const request: ChatRequest = {
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image', mediaType: 'image/jpeg', data: 'aGVsbG8gaW1hZ2U=' },
            { type: 'image', url: 'https://example.com/cat.png' },
          ],
        },
      ],
    };
    const parts = await collect(backend.chat(request, { signal: signal() }));
    expect(text(parts)).toMatch(/image shows/);
    const sent = sim.requests.at(-1)?.body as { messages: { content: unknown }[] };
    expect(sent.messages[0].content).toEqual([
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,aGVsbG8gaW1hZ2U=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
    ]);
  });

  it('streams reasoning deltas from a thinking model before the answer', async () => {
    const parts = await collect(backend.chat(hello('deepseek-r1-distill-qwen-7b'), { signal: signal() }));
    const firstText = parts.findIndex((p) => p.type === 'text-delta');
    const reasoning = parts.filter((p) => p.type === 'reasoning-delta');
    expect(reasoning.length).toBeGreaterThan(0);
    expect(parts.findIndex((p) => p.type === 'reasoning-delta')).toBeLessThan(firstText);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('maps max tokens to finish reason length', async () => {
    const parts = await collect(backend.chat(hello('llama-3.1-8b-instruct', { maxTokens: 3 }), { signal: signal() }));
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(3);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'length', usage: { completionTokens: 3 } });
  });

  it('embeds several inputs in order', async () => {
    const result = await backend.embed({ model: 'text-embedding-3-small', input: ['alpha', 'beta', 'alpha'] }, { signal: signal() });
    expect(result.embeddings).toHaveLength(3);
    expect(result.embeddings[0]).toHaveLength(16);
    expect(result.embeddings[0]).toEqual(result.embeddings[2]);
    expect(result.embeddings[0]).not.toEqual(result.embeddings[1]);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(sim.requests.at(-1)?.body).toMatchObject({ encoding_format: 'float' });
  });

  it('has nothing to load or unload and reports health with latency', async () => {
    expect(await backend.loadedModels({ signal: signal() })).toEqual([]);
    expect(await backend.load('gpt-4o-mini', { signal: signal() })).toBe(false);
    expect(await backend.unload('gpt-4o-mini', { signal: signal() })).toBe(false);
    const health = await backend.health({ signal: signal() });
    expect(health.ok).toBe(true);
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
  });
});

describe('openai backend: failures', () => {
  const chatError = (request = hello('llama-3.1-8b-instruct'), abort = signal()) => failure(collect(backend.chat(request, { signal: abort })));

  it('a wrong API key is unauthorized', async () => {
    const wrong = await openaiBackendDefinition.create({ name: 'cloud', location: `${sim.url}/v1`, apiKey: 'sk-wrong' }, context);
    const listError = await failure(wrong.listModels({ signal: signal() }));
    expect(listError).toMatchObject({ code: 'unauthorized', status: 401, backend: 'cloud' });
    const error = await failure(collect(wrong.chat(hello('gpt-4o-mini'), { signal: signal() })));
    expect(error).toMatchObject({ code: 'unauthorized', backend: 'cloud', model: 'gpt-4o-mini' });
    expect(error.message).toMatch(/Incorrect API key/);
    expect((await wrong.health({ signal: signal() })).ok).toBe(false);
  });

  it('a rate-limited model list (429) keeps health ok, a broken server (500) does not', async () => {
    sim.setFailure('overloaded');
    try {
      const limited = await backend.health({ signal: signal() });
      expect(limited).toMatchObject({ ok: true, message: expect.stringMatching(/^rate limited/) });
      sim.setFailure('http500');
      expect((await backend.health({ signal: signal() })).ok).toBe(false);
    } finally {
      sim.setFailure('none');
    }
  });

  it('an unknown model is not_found', async () => {
    expect(await chatError(hello('no-such-model'))).toMatchObject({ code: 'not_found', status: 404, model: 'no-such-model' });
  });

  it('a reset socket is unreachable before the first token', async () => {
    sim.setFailure('reset');
    const error = await chatError();
    expect(['unreachable', 'bad_response']).toContain(error.code);
    expect(error).toMatchObject({ backend: 'cloud', model: 'llama-3.1-8b-instruct', retryable: true });
  });

  it('an HTTP 500 is bad_response', async () => {
    sim.setFailure('http500', 'llama-3.1-8b-instruct');
    expect(await chatError()).toMatchObject({ code: 'bad_response', status: 500, retryable: true });
  });

  it('an HTML error page is bad_response with a clear message', async () => {
    sim.setFailure('html-error');
    const error = await chatError();
    expect(error).toMatchObject({ code: 'bad_response', status: 502 });
    expect(error.message).toMatch(/HTML page/);
    expect(error.message).not.toMatch(/<html/);
    expect(await failure(backend.listModels({ signal: signal() }))).toMatchObject({ code: 'bad_response' });
    const health = await backend.health({ signal: signal() });
    expect(health).toMatchObject({ ok: false });
    expect(health.message).toMatch(/bad_response/);
  });

  it('malformed JSON is bad_response (model list, and as an error part inside a started stream)', async () => {
    sim.setFailure('malformed');
    expect(await failure(backend.listModels({ signal: signal() }))).toMatchObject({ code: 'bad_response' });
    const parts = await collect(backend.chat(hello('llama-3.1-8b-instruct'), { signal: signal() }));
    expect(parts[0].type).toBe('text-delta');
    const last = parts.at(-1);
    expect(last?.type).toBe('error');
    if (last?.type === 'error') {
      expect(last.error).toMatchObject({ code: 'bad_response', model: 'llama-3.1-8b-instruct' });
      expect(last.error.message).toMatch(/malformed stream chunk/);
    }
  });

  it('a 429 is overloaded', async () => {
    sim.setFailure('overloaded');
    expect(await chatError()).toMatchObject({ code: 'overloaded', status: 429, retryable: true });
  });

  it('an abort while the server hangs is aborted, quickly', async () => {
    sim.setFailure('hang');
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    expect(await chatError(hello('llama-3.1-8b-instruct'), controller.signal)).toMatchObject({ code: 'aborted', retryable: false });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an abort after tokens stops the stream with an aborted error part', async () => {
    const slow = await startOpenAISimulator({ models: [{ id: 'llama-3.1-8b-instruct', tokensPerSecond: 50 }] });
    try {
      const plugin = await openaiBackendDefinition.create({ name: 'slow', location: `${slow.url}/v1` }, context);
      const controller = new AbortController();
      const parts: ChatStreamPart[] = [];
      for await (const part of plugin.chat(hello('llama-3.1-8b-instruct'), { signal: controller.signal })) {
        parts.push(part);
        if (parts.length === 2) controller.abort();
      }
      expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    } finally {
      await slow.close();
    }
  });

  it('a slow first token past firstTokenTimeoutMs is timeout', async () => {
    sim.setFailure('slow-first-token');
    const impatient = await openaiBackendDefinition.create(
      { name: 'cloud', location: `${sim.url}/v1`, apiKey: API_KEY, firstTokenTimeoutMs: 200 },
      context,
    );
    const started = Date.now();
    const error = await failure(collect(impatient.chat(hello('llama-3.1-8b-instruct'), { signal: signal() })));
    expect(error).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a caller deadline (AbortSignal.timeout) is timeout, not aborted', async () => {
    sim.setFailure('hang');
    expect(await chatError(hello('llama-3.1-8b-instruct'), AbortSignal.timeout(100))).toMatchObject({ code: 'timeout' });
  });

  it('a stream cut after tokens ends with a bad_response error part', async () => {
    sim.setFailure('cut-stream');
    const parts = await collect(backend.chat(hello('llama-3.1-8b-instruct'), { signal: signal() }));
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(0);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'bad_response', backend: 'cloud' } });
    expect(parts.filter((p) => p.type === 'finish')).toHaveLength(0);
  });

  it('a connection refused is unreachable', async () => {
    const probe = await startOpenAISimulator({ models: [] });
    const url = probe.url;
    await probe.close();
    const gone = await openaiBackendDefinition.create({ name: 'gone', location: `${url}/v1` }, context);
    expect(await failure(gone.listModels({ signal: signal() }))).toMatchObject({ code: 'unreachable', backend: 'gone' });
    expect(await failure(collect(gone.chat(hello('x'), { signal: signal() })))).toMatchObject({ code: 'unreachable', model: 'x' });
  });
});

/** Stream shapes the simulator does not produce, from a hand-written server. */
describe('openai wire: stream edge cases', () => {
  let server: Server;
  let body = '';
  let contentType = 'text/event-stream';
  let plugin: BackendPlugin;
  /** Replaces the canned answer for one test. */
  let custom: ((res: ServerResponse) => void) | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (custom) return custom(res);
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    plugin = await openaiBackendDefinition.create({ name: 'edge', location: `http://127.0.0.1:${port}/v1` }, context);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    custom = undefined;
  });

  const chunk = (delta: object, finish: string | null = null) => JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] });
  const run = (sse: string, type = 'text/event-stream') => {
    body = sse;
    contentType = type;
    return collect(plugin.chat(hello('m'), { signal: signal() }));
  };

  it('accepts keep-alive comments, data: without a space, reasoning fields and counts tokens without usage', async () => {
    const parts = await run(
      `: keep-alive\n\ndata:${chunk({ role: 'assistant', content: '' })}\n\n` +
        `data: ${chunk({ reasoning: 'hmm' })}\n\n: ping\n\ndata: ${chunk({ content: 'Hi' })}\n\n` +
        `data: ${chunk({ content: ' there' })}\n\ndata: ${chunk({}, 'stop')}\n\ndata: [DONE]\n\n`,
    );
    expect(parts).toEqual([
      { type: 'reasoning-delta', delta: 'hmm' },
      { type: 'text-delta', delta: 'Hi' },
      { type: 'text-delta', delta: ' there' },
      { type: 'finish', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 3 } },
    ]);
  });

  it('turns an error object before any token into a thrown PluginError', async () => {
    const error = await failure(run(`data: {"error":{"message":"Rate limit reached","type":"rate_limit_error"}}\n\n`));
    expect(error).toMatchObject({ code: 'overloaded', message: 'Rate limit reached' });
  });

  it('turns an error object after tokens into an error part', async () => {
    const parts = await run(`data: ${chunk({ content: 'Hi' })}\n\ndata: {"error":{"message":"boom","code":500}}\n\n`);
    expect(parts).toHaveLength(2);
    expect(parts[1]).toMatchObject({ type: 'error', error: { code: 'bad_response', message: 'boom', status: 500 } });
  });

  it('a malformed first chunk is thrown as bad_response', async () => {
    expect(await failure(run('data: {"choices":[\n\n'))).toMatchObject({ code: 'bad_response' });
  });

  it('a stream that ends without finish_reason or [DONE] is bad_response (thrown before any token)', async () => {
    expect(await failure(run(`data: ${chunk({ role: 'assistant' })}\n\n`))).toMatchObject({ code: 'bad_response' });
    const parts = await run(`data: ${chunk({ content: 'Hi' })}\n\n`);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'bad_response', message: /ended before/ } });
  });

  it('a 200 HTML page is bad_response', async () => {
    const error = await failure(run('<html><body>Login</body></html>', 'text/html'));
    expect(error).toMatchObject({ code: 'bad_response' });
    expect(error.message).toMatch(/HTML page/);
  });

  it('a non-streamed JSON answer is converted to parts', async () => {
    const answer = {
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    };
    expect(await run(JSON.stringify(answer), 'application/json')).toEqual([
      { type: 'text-delta', delta: 'Hello' },
      { type: 'tool-call-delta', index: 0, id: 'c1', name: 'f', argumentsDelta: '{}' },
      { type: 'finish', finishReason: 'tool_calls', usage: { promptTokens: 5, completionTokens: 2 } },
    ]);
  });

  it('a cut after the finish_reason still finishes (only usage and [DONE] were lost)', async () => {
    custom = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${chunk({ content: 'Hi' })}\n\ndata: ${chunk({}, 'stop')}\n\n`, () => res.destroy());
    };
    const parts = await collect(plugin.chat(hello('m'), { signal: signal() }));
    expect(parts).toEqual([
      { type: 'text-delta', delta: 'Hi' },
      { type: 'finish', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 1 } },
    ]);
  });

  /** A server that sends one token and then holds the stream open; resolves when the client lets go. */
  function holdOpen(): Promise<void> {
    return new Promise<void>((closed) => {
      custom = (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${chunk({ content: 'Hi' })}\n\n`);
        res.on('close', () => closed());
      };
    });
  }

  it('a consumer that stops reading releases the upstream connection', async () => {
    const closed = holdOpen();
    for await (const part of plugin.chat(hello('m'), { signal: signal() })) {
      expect(part).toEqual({ type: 'text-delta', delta: 'Hi' });
      break;
    }
    await closed;
  });

  it('an abort mid-stream releases the upstream connection and ends with an aborted part', async () => {
    const closed = holdOpen();
    const controller = new AbortController();
    const parts: ChatStreamPart[] = [];
    for await (const part of plugin.chat(hello('m'), { signal: controller.signal })) {
      parts.push(part);
      controller.abort();
    }
    await closed;
    expect(parts.map((p) => p.type)).toEqual(['text-delta', 'error']);
    expect(parts[1]).toMatchObject({ error: { code: 'aborted', backend: 'edge', model: 'm' } });
  });

  it('uses llama.cpp timings for usage when no usage chunk comes', async () => {
    const last = JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }], timings: { prompt_n: 9, cache_n: 3, predicted_n: 4 } });
    const parts = await run(`data: ${chunk({ content: 'a' })}\n\ndata: ${last}\n\ndata: [DONE]\n\n`);
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'length', usage: { promptTokens: 12, completionTokens: 4 } });
  });
});
