/**
 * The llama.cpp backend plugin against the llama.cpp simulator over real HTTP on 127.0.0.1, in its
 * three shapes (plain llama-server, llama-swap, router mode): detection, listing from server
 * metadata, chat through the OpenAI wire, embeddings, load/unload, health and failure codes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PluginError, type BackendPlugin, type ChatRequest, type ChatStreamPart, type PluginContext } from '../src/plugin-api/index.js';
import { LlamaCppBackend, llamaCppBackendDefinition } from '../src/plugins/backends/llamacpp/index.js';
import { startLlamaCppSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const shutdown = new AbortController();
const context: PluginContext = { logger: silent, fetch: globalThis.fetch, signal: shutdown.signal };
afterAll(() => shutdown.abort());

const signal = (): AbortSignal => new AbortController().signal;
const call = () => ({ signal: signal() });

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
  messages: [{ role: 'user', content: 'Say hello and tell me something about rivers.' }],
  ...extra,
});

async function create(url: string, extra: Record<string, unknown> = {}): Promise<LlamaCppBackend> {
  const plugin = await llamaCppBackendDefinition.create({ name: 'box', location: url, ...extra }, context);
  expect(plugin).toBeInstanceOf(LlamaCppBackend);
  return plugin as LlamaCppBackend;
}

describe('llama.cpp single model (plain llama-server)', () => {
  const model: SimModel = {
    id: 'qwen2.5-vl-7b-instruct',
    parameterSizeB: 7.6,
    contextLength: 32768,
    capabilities: { chat: true, vision: true, tools: true, thinking: true },
  };
  let sim: RunningSimulator;
  let backend: LlamaCppBackend;
  beforeAll(async () => {
    sim = await startLlamaCppSimulator({ models: [model], mode: 'single', apiKey: 'secret' });
    backend = await create(sim.url, { apiKey: 'secret' });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.setFailure('none'));

  it('has the manifest and cannot load before it knows the shape', () => {
    expect(llamaCppBackendDefinition.manifest).toMatchObject({ name: 'llama.cpp', kind: 'backend', specificationVersion: 'v1' });
    expect(backend.provider).toBe('llama.cpp');
    expect(backend.capabilities).toEqual({ loadedModels: true, load: false, unload: false, embeddings: true });
  });

  it('detects a plain server and lists its model from meta and /props', async () => {
    const models = await backend.listModels(call());
    expect(backend.detectedMode).toBe('single');
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({
      id: 'qwen2.5-vl-7b-instruct',
      family: 'qwen',
      parameterCountB: 7.6,
      contextLength: 32768,
      quantization: 'Q4_K_M',
      capabilities: { chat: true, vision: true, tools: true, embeddings: false },
    });
    expect(models[0].sizeBytes).toBeGreaterThan(1e9);
    expect(models[0].digest).toMatch(/^[0-9a-f]{64}$/);
    expect(backend.capabilities).toEqual({ loadedModels: true, load: false, unload: false, embeddings: true });
  });

  it('reports the one model as loaded and cannot load or unload', async () => {
    const loaded = await backend.loadedModels(call());
    expect(loaded).toEqual([{ id: 'qwen2.5-vl-7b-instruct', sizeBytes: expect.any(Number) }]); // where the weights live: unknown
    expect(loaded[0].sizeBytes).toBeGreaterThan(0);
    expect(await backend.load('qwen2.5-vl-7b-instruct', call())).toBe(false);
    expect(await backend.unload('qwen2.5-vl-7b-instruct', call())).toBe(false);
  });

  it('streams reasoning then text, with usage and finish reason', async () => {
    const parts = await collect(backend.chat(hello('qwen2.5-vl-7b-instruct'), call()));
    const firstReasoning = parts.findIndex((p) => p.type === 'reasoning-delta');
    const firstText = parts.findIndex((p) => p.type === 'text-delta');
    expect(firstReasoning).toBeGreaterThanOrEqual(0);
    expect(firstReasoning).toBeLessThan(firstText);
    expect(text(parts).length).toBeGreaterThan(20);
    const last = parts.at(-1);
    expect(last).toMatchObject({ type: 'finish', finishReason: 'stop' });
    if (last?.type === 'finish') {
      expect(last.usage.promptTokens).toBeGreaterThan(0);
      expect(last.usage.completionTokens).toBe(parts.length - 1);
    }
    const sent = sim.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    expect(sent?.headers.authorization).toBe('Bearer secret');
    expect(sent?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('passes llama.cpp provider options (chat_template_kwargs) through', async () => {
    const parts = await collect(
      backend.chat(hello('qwen2.5-vl-7b-instruct', { providerOptions: { 'llama.cpp': { chat_template_kwargs: { enable_thinking: false }, top_k: 20 } } }), call()),
    );
    expect(parts.some((p) => p.type === 'reasoning-delta')).toBe(false);
    expect(sim.requests.at(-1)?.body).toMatchObject({ chat_template_kwargs: { enable_thinking: false }, top_k: 20 });
  });

  it('sends an image to the vision model', async () => {
    const request: ChatRequest = {
      model: 'qwen2.5-vl-7b-instruct',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this.' }, { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' }] }],
    };
    const parts = await collect(backend.chat(request, call()));
    expect(text(parts)).toMatch(/image shows/);
    const sent = sim.requests.at(-1)?.body as { messages: { content: unknown }[] };
    expect(sent.messages[0].content).toContainEqual({ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } });
  });

  it('assembles a tool call', async () => {
    const request = hello('qwen2.5-vl-7b-instruct', {
      tools: [{ name: 'lookup', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } }],
      providerOptions: { 'llama.cpp': { chat_template_kwargs: { enable_thinking: false } } },
    });
    const parts = await collect(backend.chat(request, call()));
    const calls = parts.filter((p): p is Extract<ChatStreamPart, { type: 'tool-call-delta' }> => p.type === 'tool-call-delta');
    expect(calls[0]).toMatchObject({ index: 0, name: 'lookup' });
    expect(calls[0].id).toBeTruthy();
    expect(JSON.parse(calls.map((c) => c.argumentsDelta).join(''))).toHaveProperty('query');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' });
  });

  it('reports health (public even with a key) and a wrong key as unauthorized', async () => {
    expect((await backend.health(call())).ok).toBe(true);
    const wrong = await create(sim.url, { apiKey: 'nope' });
    const error = await failure(collect(wrong.chat(hello('qwen2.5-vl-7b-instruct'), call())));
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, backend: 'box', model: 'qwen2.5-vl-7b-instruct' });
    expect(error.message).toMatch(/Invalid API Key/);
  });

  it('once listed, a request for a model this server does not run is not_found (it would answer with its own)', async () => {
    const before = sim.requests.length;
    const error = await failure(collect(backend.chat(hello('some-other-model'), call())));
    expect(error).toMatchObject({ code: 'not_found', backend: 'box', model: 'some-other-model' });
    expect(error.message).toMatch(/qwen2.5-vl-7b-instruct/);
    expect(sim.requests.length).toBe(before);
  });

  it('embeddings on a chat-only server are unsupported', async () => {
    expect(await failure(backend.embed({ model: 'qwen2.5-vl-7b-instruct', input: ['x'] }, call()))).toMatchObject({
      code: 'unsupported',
      status: 501,
    });
  });

  describe('failure modes before the first token', () => {
    const chatError = (abort = signal(), plugin: BackendPlugin = backend) =>
      failure(collect(plugin.chat(hello('qwen2.5-vl-7b-instruct'), { signal: abort })));

    it('reset -> unreachable or bad_response', async () => {
      sim.setFailure('reset');
      expect(['unreachable', 'bad_response']).toContain((await chatError()).code);
    });
    it('http500 -> bad_response', async () => {
      sim.setFailure('http500');
      expect(await chatError()).toMatchObject({ code: 'bad_response', status: 500 });
    });
    it('html-error -> bad_response naming the HTML page', async () => {
      sim.setFailure('html-error');
      const error = await chatError();
      expect(error).toMatchObject({ code: 'bad_response', status: 502 });
      expect(error.message).toMatch(/HTML page/);
    });
    it('overloaded -> overloaded', async () => {
      sim.setFailure('overloaded');
      expect(await chatError()).toMatchObject({ code: 'overloaded', status: 429 });
    });
    it('hang + abort -> aborted', async () => {
      sim.setFailure('hang');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      expect(await chatError(controller.signal)).toMatchObject({ code: 'aborted' });
    });
    it('slow first token -> timeout', async () => {
      sim.setFailure('slow-first-token');
      const impatient = await create(sim.url, { apiKey: 'secret', firstTokenTimeoutMs: 200 });
      expect(await chatError(signal(), impatient)).toMatchObject({ code: 'timeout' });
    });
    it('malformed model list -> bad_response', async () => {
      sim.setFailure('malformed');
      const fresh = await create(sim.url, { apiKey: 'secret', mode: 'single' });
      expect(await failure(fresh.listModels(call()))).toMatchObject({ code: 'bad_response' });
    });
    it('cut-stream after tokens -> error part', async () => {
      sim.setFailure('cut-stream');
      const parts = await collect(backend.chat(hello('qwen2.5-vl-7b-instruct'), call()));
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'bad_response' } });
    });
    it('a detection that fails is retried on the next call', async () => {
      const fresh = await create(sim.url, { apiKey: 'secret' });
      sim.setFailure('http500');
      expect(await failure(fresh.listModels(call()))).toMatchObject({ code: 'bad_response' });
      expect(fresh.detectedMode).toBeUndefined();
      sim.setFailure('none');
      await fresh.listModels(call());
      expect(fresh.detectedMode).toBe('single');
    });
  });
});

describe('llama.cpp single embedding server', () => {
  it('embeds through /v1/embeddings', async () => {
    const sim = await startLlamaCppSimulator({ models: [{ id: 'nomic-embed-text-v1.5', capabilities: { embeddings: true }, embeddingDim: 8 }] });
    try {
      const backend = await create(sim.url);
      const [model] = await backend.listModels(call());
      expect(model.capabilities).toMatchObject({ chat: false, embeddings: true });
      const result = await backend.embed({ model: model.id, input: ['one', 'two'] }, call());
      expect(result.embeddings.map((v) => v.length)).toEqual([8, 8]);
      expect(sim.requests.at(-1)?.path).toBe('/v1/embeddings');
    } finally {
      await sim.close();
    }
  });
});

const FLEET: SimModel[] = [
  { id: 'llama-3.2-3b-instruct', parameterSizeB: 3.2, contextLength: 4096, capabilities: { chat: true, tools: true } },
  { id: 'qwen2.5-coder-7b', capabilities: { chat: true, tools: true } },
  { id: 'llava-1.6-7b', capabilities: { chat: true, vision: true } },
];

describe('llama-swap', () => {
  let sim: RunningSimulator;
  let backend: LlamaCppBackend;
  beforeAll(async () => {
    sim = await startLlamaCppSimulator({ models: FLEET, mode: 'swap' });
    backend = await create(sim.url);
  });
  afterAll(() => sim.close());

  it('is detected by /running and lists every configured model', async () => {
    const models = await backend.listModels(call());
    expect(backend.detectedMode).toBe('swap');
    expect(backend.capabilities).toEqual({ loadedModels: true, load: true, unload: true, embeddings: true });
    expect(models.map((m) => m.id)).toEqual(FLEET.map((m) => m.id));
    expect(models[0]).toMatchObject({ family: 'llama', parameterCountB: 3, contextLength: 4096, capabilities: { chat: true, tools: true } });
    expect(models[2].capabilities.vision).toBe(true);
  });

  it('loads with a one-token request, reports it running and unloads it', async () => {
    expect(await backend.loadedModels(call())).toEqual([]);
    expect(await backend.load('qwen2.5-coder-7b', call())).toBe(true);
    expect(sim.loaded()).toEqual(['qwen2.5-coder-7b']);
    expect((await backend.loadedModels(call())).map((m) => m.id)).toEqual(['qwen2.5-coder-7b']);
    const warmup = sim.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    expect(warmup?.body).toMatchObject({ model: 'qwen2.5-coder-7b', max_tokens: 1, stream: false });
    expect(await backend.unload('qwen2.5-coder-7b', call())).toBe(true);
    expect(sim.loaded()).toEqual([]);
    expect(sim.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/models/unload/qwen2.5-coder-7b' });
  });

  it('routes chat by model, swapping it in', async () => {
    const parts = await collect(backend.chat(hello('llama-3.2-3b-instruct'), call()));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(sim.loaded()).toEqual(['llama-3.2-3b-instruct']);
    expect((await backend.health(call())).ok).toBe(true);
  });

  it('unloading a model the proxy does not know is not_found and unloads nothing else', async () => {
    await backend.load('llava-1.6-7b', call());
    expect(await failure(backend.unload('missing-model', call()))).toMatchObject({ code: 'not_found' });
    expect(sim.loaded()).toEqual(['llava-1.6-7b']);
  });

  it('a model the proxy does not know is not_found', async () => {
    expect(await failure(collect(backend.chat(hello('missing-model'), call())))).toMatchObject({ code: 'not_found', model: 'missing-model' });
  });
});

describe('llama-server router mode', () => {
  let sim: RunningSimulator;
  let backend: LlamaCppBackend;
  beforeAll(async () => {
    sim = await startLlamaCppSimulator({ models: FLEET, mode: 'router' });
    backend = await create(sim.url);
  });
  afterAll(() => sim.close());

  it('is detected by /models status and lists models with their paths', async () => {
    const models = await backend.listModels(call());
    expect(backend.detectedMode).toBe('router');
    expect(models.map((m) => m.id)).toEqual(FLEET.map((m) => m.id));
    // Router mode has no meta: the size comes from the id, the context from the model's --ctx-size.
    expect(models[0]).toMatchObject({ parameterCountB: 3, quantization: 'Q4_K_M', contextLength: 4096 });
    expect(models[2].capabilities.vision).toBe(true);
    expect(models[1].capabilities.vision).toBe(false);
  });

  it('loads and unloads through /models/load and /models/unload', async () => {
    expect(await backend.loadedModels(call())).toEqual([]);
    expect(await backend.load('llava-1.6-7b', call())).toBe(true);
    expect(sim.requests.some((r) => r.path === '/models/load' && (r.body as { model?: string }).model === 'llava-1.6-7b')).toBe(true);
    expect((await backend.loadedModels(call())).map((m) => m.id)).toEqual(['llava-1.6-7b']);
    expect(await backend.unload('llava-1.6-7b', call())).toBe(true);
    expect(await backend.loadedModels(call())).toEqual([]);
  });

  it('loading an unknown model is not_found', async () => {
    expect(await failure(backend.load('nope', call()))).toMatchObject({ code: 'not_found', model: 'nope' });
  });

  it('a configured mode skips detection', async () => {
    const configured = await create(sim.url, { mode: 'router' });
    const before = sim.requests.length;
    await configured.loadedModels(call());
    expect(sim.requests.slice(before).map((r) => r.path)).toEqual(['/models']);
  });
});

describe('llama.cpp health while loading', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('503 Loading model is not ok, with the message', async () => {
    const backend = await create(url);
    const health = await backend.health(call());
    expect(health).toMatchObject({ ok: false, message: 'Loading model' });
    expect(await failure(collect(backend.chat(hello('m'), call())))).toMatchObject({ code: 'overloaded', status: 503 });
  });

  it('a server that is down reports not ok', async () => {
    const backend = await create('http://127.0.0.1:9');
    const health = await backend.health(call());
    expect(health.ok).toBe(false);
    expect(health.message).toMatch(/unreachable/);
  });
});
