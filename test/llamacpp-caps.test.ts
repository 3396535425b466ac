/**
 * Tool (and vision) support of llama.cpp models comes from what the server reports, not the model
 * name: GET /props `chat_template_caps.supports_tools` and `modalities.vision`, asked of a plain
 * llama-server directly, of llama-swap through /upstream/{model}/props and of router mode through
 * /props?model= — in both only for models already loaded (asking would load them). A /props that
 * fails, is missing or predates those fields keeps the guess from the model id. A server without
 * jinja templates refuses tools outright; the model is then listed without them. Against the
 * llama.cpp simulator over real HTTP on 127.0.0.1, and through a real router.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PluginError, type ChatRequest, type ChatStreamPart, type PluginContext } from '../src/plugin-api/index.js';
import { LlamaCppBackend, llamaCppBackendDefinition } from '../src/plugins/backends/llamacpp/index.js';
import { startLlamaCppSimulator, startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { startTestRouter, waitForModels, type TestRouter } from './support/router.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const shutdown = new AbortController();
const context: PluginContext = { logger: silent, fetch: globalThis.fetch, signal: shutdown.signal };
afterAll(() => shutdown.abort());

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const call = () => ({ signal: new AbortController().signal });

type SimOptions = Parameters<typeof startLlamaCppSimulator>[0];
async function sim(options: SimOptions): Promise<RunningSimulator> {
  const s = await startLlamaCppSimulator(options);
  cleanups.push(() => s.close());
  return s;
}

async function backendFor(url: string, extra: Record<string, unknown> = {}): Promise<LlamaCppBackend> {
  return (await llamaCppBackendDefinition.create({ name: 'box', location: url, ...extra }, context)) as LlamaCppBackend;
}

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const withTools = (model: string): ChatRequest => ({
  model,
  messages: [{ role: 'user', content: 'What is the weather in Paris? Use the tool.' }],
  tools: [WEATHER_TOOL],
});

// A chat model whose template has no tool support: the id alone would say it can call tools.
const NO_TOOLS: SimModel = { id: 'gemma-3-12b-it', family: 'gemma3', parameterSizeB: 12.2, capabilities: { chat: true, vision: true } };
const TOOLS: SimModel = { id: 'qwen2.5-7b-instruct', parameterSizeB: 7.6, capabilities: { chat: true, tools: true } };

const capsOf = async (backend: LlamaCppBackend) =>
  Object.fromEntries((await backend.listModels(call())).map((m) => [m.id, { tools: m.capabilities.tools, vision: m.capabilities.vision }]));

describe('plain llama-server: /props chat_template_caps', () => {
  it('supports_tools false -> tools false (and vision from modalities)', async () => {
    const s = await sim({ models: [NO_TOOLS] });
    expect(await capsOf(await backendFor(s.url))).toEqual({ 'gemma-3-12b-it': { tools: false, vision: true } });
  });

  it('supports_tools true -> tools true', async () => {
    const s = await sim({ models: [TOOLS] });
    expect(await capsOf(await backendFor(s.url))).toEqual({ 'qwen2.5-7b-instruct': { tools: true, vision: false } });
  });

  it('an older /props without chat_template_caps keeps the guess from the id', async () => {
    const s = await sim({ models: [NO_TOOLS], props: 'legacy' });
    const [model] = await (await backendFor(s.url)).listModels(call());
    expect(model.capabilities.tools).toBe(true);
    // The rest of /props still counts (context from default_generation_settings).
    expect(model.contextLength).toBe(8192);
  });

  it('a server without /props (404) still lists, with the guess from the id', async () => {
    const s = await sim({ models: [NO_TOOLS], props: 'missing' });
    const models = await (await backendFor(s.url)).listModels(call());
    expect(models).toHaveLength(1);
    expect(models[0].capabilities.tools).toBe(true);
    expect(s.requests.some((r) => r.path === '/props')).toBe(true);
  });
});

describe('llama-server router mode: /props?model= for loaded models only', () => {
  it('asks loaded models (autoload=false), keeps the answer after unload, never asks unloaded ones', async () => {
    const s = await sim({ models: [NO_TOOLS, TOOLS], mode: 'router' });
    const backend = await backendFor(s.url);
    const propsCalls = () => s.requests.filter((r) => r.path.startsWith('/props'));

    expect(await capsOf(backend)).toMatchObject({ 'gemma-3-12b-it': { tools: true }, 'qwen2.5-7b-instruct': { tools: true } });
    expect(propsCalls()).toEqual([]);

    await backend.load('gemma-3-12b-it', call());
    expect(await capsOf(backend)).toMatchObject({ 'gemma-3-12b-it': { tools: false, vision: true }, 'qwen2.5-7b-instruct': { tools: true } });
    expect(propsCalls().map((r) => r.path)).toEqual(['/props?model=gemma-3-12b-it&autoload=false']);

    // Still loaded: not asked again. Unloaded: the last answer stands, nothing is asked (or loaded).
    await backend.listModels(call());
    await backend.unload('gemma-3-12b-it', call());
    expect((await capsOf(backend))['gemma-3-12b-it']).toEqual({ tools: false, vision: true });
    expect(propsCalls()).toHaveLength(1);
    expect(s.loaded()).toEqual([]);
  });

  it('a /props that fails (500) or hangs keeps the guess, and the listing still succeeds', async () => {
    const s = await sim({ models: [NO_TOOLS], mode: 'router' });
    const backend = await backendFor(s.url, { requestTimeoutMs: 300 });
    await backend.load('gemma-3-12b-it', call());

    s.setFailure('http500', 'gemma-3-12b-it');
    expect((await capsOf(backend))['gemma-3-12b-it'].tools).toBe(true);

    s.setFailure('hang', 'gemma-3-12b-it');
    const started = Date.now();
    expect((await capsOf(backend))['gemma-3-12b-it'].tools).toBe(true);
    expect(Date.now() - started).toBeLessThan(2500);

    // Once it answers, its answer is used.
    s.setFailure('none');
    expect((await capsOf(backend))['gemma-3-12b-it'].tools).toBe(false);
  });
});

describe('llama-swap: /upstream/{model}/props for running models only', () => {
  it('never starts a model to ask it; a running one is asked once; the answer outlives the swap', async () => {
    const s = await sim({ models: [NO_TOOLS, TOOLS], mode: 'swap' });
    const backend = await backendFor(s.url);
    const upstream = () => s.requests.filter((r) => r.path.startsWith('/upstream/'));

    // Nothing running: nothing to ask, the id decides (and nothing got loaded by the listing).
    expect(await capsOf(backend)).toMatchObject({ 'gemma-3-12b-it': { tools: true }, 'qwen2.5-7b-instruct': { tools: true } });
    expect(upstream()).toEqual([]);
    expect(s.loaded()).toEqual([]);

    // Running after a request: its own server says no tools.
    await collect(backend.chat({ model: 'gemma-3-12b-it', messages: [{ role: 'user', content: 'hi' }] }, call()));
    expect(await capsOf(backend)).toMatchObject({ 'gemma-3-12b-it': { tools: false, vision: true }, 'qwen2.5-7b-instruct': { tools: true } });
    expect(upstream().map((r) => r.path)).toEqual(['/upstream/gemma-3-12b-it/props']);
    expect(s.loaded()).toEqual(['gemma-3-12b-it']);

    // Swapped out for the other model: gemma keeps what it said, the other one is asked now.
    await backend.load('qwen2.5-7b-instruct', call());
    expect(await capsOf(backend)).toMatchObject({ 'gemma-3-12b-it': { tools: false }, 'qwen2.5-7b-instruct': { tools: true } });
    expect(upstream().map((r) => r.path)).toEqual(['/upstream/gemma-3-12b-it/props', '/upstream/qwen2.5-7b-instruct/props']);
    expect(s.loaded()).toEqual(['qwen2.5-7b-instruct']);
  });
});

describe('a server without jinja templates', () => {
  it('refuses tools: a retryable bad_request, and the model is listed without tools from then on', async () => {
    const s = await sim({ models: [TOOLS], jinja: false });
    const backend = await backendFor(s.url);
    // /props reads the template, which has tool support: the listing cannot know about the flag.
    expect((await capsOf(backend))['qwen2.5-7b-instruct'].tools).toBe(true);

    let error: unknown;
    try {
      await collect(backend.chat(withTools('qwen2.5-7b-instruct'), call()));
    } catch (caught) {
      error = caught;
    }
    expect(PluginError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'bad_request', retryable: true, status: 500, model: 'qwen2.5-7b-instruct' });
    expect((error as Error).message).toMatch(/--jinja/);
    expect((await capsOf(backend))['qwen2.5-7b-instruct'].tools).toBe(false);

    // Requests without tools are unaffected.
    const parts = await collect(backend.chat({ model: 'qwen2.5-7b-instruct', messages: [{ role: 'user', content: 'hi' }] }, call()));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
  });
});

describe('through the router', () => {
  let router: TestRouter | undefined;
  afterEach(async () => {
    await router?.stop();
    router = undefined;
  });

  const listed = (r: TestRouter) => Object.fromEntries(r.core.router.listModels().map((m) => [m.id, m.capabilities.tools]));
  const ask = (r: TestRouter, content: string, tools = true) =>
    fetch(`${r.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'smarterrouter/main',
        messages: [{ role: 'user', content }],
        ...(tools ? { tools: [{ type: 'function', function: WEATHER_TOOL }] } : {}),
      }),
    });
  const toolRequestsTo = (s: RunningSimulator) =>
    s.requests.filter((r) => r.path.endsWith('/chat/completions') && Array.isArray((r.body as { tools?: unknown })?.tools));

  it('lists the model without tools and never sends it a request with tools', async () => {
    const llama = await sim({ models: [NO_TOOLS] });
    const ollama = await startOllamaSimulator({ models: [{ id: 'qwen2.5-coder:7b', capabilities: { tools: true } }] });
    cleanups.push(() => ollama.close());
    router = await startTestRouter({
      ROUTER_BACKENDS: `gpu=ollama:${ollama.url},box=llama.cpp:${llama.url}`,
      ROUTER_EXPOSE_MODELS: 'true',
      ROUTER_CACHE_ENABLED: 'false',
    });
    await waitForModels(router, ['gemma-3-12b-it', 'qwen2.5-coder:7b']);
    expect(listed(router)).toMatchObject({ 'gemma-3-12b-it': false, 'qwen2.5-coder:7b': true });

    const prompts = ['Weather in Paris?', 'Write a poem about rain, then check the weather in Oslo', 'Is it sunny in Rome?', 'Explain why the sky is blue and look up Lima'];
    for (const prompt of prompts) {
      const res = await ask(router, prompt);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-router-model')).toBe('qwen2.5-coder:7b');
    }
    expect(toolRequestsTo(llama)).toEqual([]);

    // Named directly, the request goes to the server, which decides (with --jinja, a real llama.cpp
    // serves tools to a model without a tool template through its generic format; this simulated one
    // refuses): its refusal reaches the client as a 400 with its reason.
    const named = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemma-3-12b-it', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: WEATHER_TOOL }] }),
    });
    expect(named.status).toBe(400);
    expect(((await named.json()) as { error: { message: string } }).error.message).toContain('The model "gemma-3-12b-it" rejected the request');
    expect(toolRequestsTo(llama)).toHaveLength(1);
  });

  it('with only that model, a request with tools finds no candidate instead of reaching it', async () => {
    const llama = await sim({ models: [NO_TOOLS] });
    router = await startTestRouter({ ROUTER_BACKENDS: `box=llama.cpp:${llama.url}`, ROUTER_EXPOSE_MODELS: 'true', ROUTER_CACHE_ENABLED: 'false' });
    await waitForModels(router, ['gemma-3-12b-it']);
    expect(listed(router)['gemma-3-12b-it']).toBe(false);
    const res = await ask(router, 'Weather in Paris?');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(toolRequestsTo(llama)).toEqual([]);
    // Without tools it is used.
    expect((await ask(router, 'Say hello', false)).status).toBe(200);
  });

  it('llama-swap (the demo setup): learnt once the model has run, at the next discovery', async () => {
    const swap = await sim({ models: [NO_TOOLS], mode: 'swap' });
    router = await startTestRouter({ ROUTER_BACKENDS: `swap=llama.cpp:${swap.url}`, ROUTER_EXPOSE_MODELS: 'true', ROUTER_CACHE_ENABLED: 'false' });
    await waitForModels(router, ['gemma-3-12b-it']);
    // Not running: llama-swap cannot say without starting it, so the id decides for now.
    expect(listed(router)['gemma-3-12b-it']).toBe(true);
    expect(swap.loaded()).toEqual([]);

    expect((await ask(router, 'Say hello', false)).status).toBe(200);
    await router.core.registry.refresh(new AbortController().signal);
    expect(listed(router)['gemma-3-12b-it']).toBe(false);
    expect((await ask(router, 'Weather in Paris?')).status).toBeGreaterThanOrEqual(400);
    expect(toolRequestsTo(swap)).toEqual([]);
  });
});
