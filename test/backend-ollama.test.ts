/**
 * The Ollama backend plugin against the Ollama simulator over real HTTP on 127.0.0.1: discovery
 * (capabilities, size, context, quantization, /api/show caching), streamed chat (text, tools and a
 * tool-result round trip, images, thinking), embeddings, /api/ps with load/unload through
 * keep_alive, every failure mode mapped to the right PluginError, and health.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PluginError, type BackendPlugin, type ChatRequest, type ChatStreamPart, type PluginContext } from '../src/plugin-api/index.js';
import { ollamaBackendDefinition, parseKeepAlive, parseParameterSize } from '../src/plugins/backends/ollama/index.js';
import { startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';

const EMBEDDER = 'nomic-embed-text:latest';
const MODELS: SimModel[] = [
  { id: 'qwen2.5-coder:7b', family: 'qwen2', parameterSizeB: 7.6, quantization: 'Q4_K_M', contextLength: 32768, capabilities: { chat: true, tools: true } },
  { id: 'llava:7b', family: 'llama', capabilities: { chat: true, vision: true } },
  { id: 'deepseek-r1:1.5b', family: 'qwen2', parameterSizeB: 1.8, capabilities: { chat: true, thinking: true } },
  { id: 'nomic-embed-text:latest', family: 'nomic-bert', parameterSizeB: 0.137, quantization: 'F16', capabilities: { embeddings: true }, embeddingDim: 8 },
];
// 1x1 transparent PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const context: PluginContext = { logger: silent, fetch: globalThis.fetch, signal: new AbortController().signal };

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

/** Pulls the first part only: a failure before the first token must reject here. */
function firstPart(stream: AsyncIterable<ChatStreamPart>): Promise<IteratorResult<ChatStreamPart>> {
  return stream[Symbol.asyncIterator]().next();
}

const text = (parts: ChatStreamPart[]) => parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('');
const hello = (model: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model,
  messages: [{ role: 'user', content: 'Say hello and tell me about the weather.' }],
  ...extra,
});
const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let sim: RunningSimulator;
let backend: BackendPlugin;

/** The body of the last recorded request to `path`. */
function lastBody(path: string): Record<string, unknown> {
  const found = [...sim.requests].reverse().find((r) => r.path === path);
  expect(found, `a request to ${path}`).toBeDefined();
  return found!.body as Record<string, unknown>;
}

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: MODELS });
  backend = await ollamaBackendDefinition.create({ name: 'gpu', location: `${sim.url}/`, keepAlive: '10m' }, context);
});
afterAll(async () => {
  await backend.dispose?.();
  await sim.close();
});
afterEach(() => sim.setFailure('none'));

describe('definition and options', () => {
  it('has the v1 backend manifest', () => {
    expect(ollamaBackendDefinition.manifest).toMatchObject({ name: 'ollama', kind: 'backend', specificationVersion: 'v1', version: '1.0.0' });
    expect(backend).toMatchObject({ specificationVersion: 'v1', name: 'gpu', provider: 'ollama' });
    expect(backend.capabilities).toEqual({ loadedModels: true, load: true, unload: true, embeddings: true });
  });

  it('parses keep_alive and parameter sizes', () => {
    expect(parseKeepAlive(undefined, 'x')).toBe('5m');
    expect(parseKeepAlive('1h30m', 'x')).toBe('1h30m');
    expect(parseKeepAlive('-1', 'x')).toBe(-1);
    expect(parseKeepAlive('300', 'x')).toBe(300);
    expect(() => parseKeepAlive('soon', 'x')).toThrow(/keepAlive/);
    expect(parseParameterSize('7.6B')).toBe(7.6);
    expect(parseParameterSize('494.03M')).toBe(0.49403);
    expect(parseParameterSize('8x7B')).toBe(56);
    expect(parseParameterSize('big')).toBeUndefined();
  });

  it('rejects a bad keepAlive at create time', async () => {
    await expect(async () => ollamaBackendDefinition.create({ name: 'x', location: sim.url, keepAlive: 'forever' }, context)).rejects.toSatisfy(
      (e: unknown) => PluginError.isInstance(e) && e.code === 'bad_request',
    );
  });
});

describe('listModels', () => {
  it('reports capabilities, parameters, context, quantization, size and digest', async () => {
    const models = await backend.listModels({ signal: signal() });
    const byId = new Map(models.map((m) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual(MODELS.map((m) => m.id).sort());

    const coder = byId.get('qwen2.5-coder:7b')!;
    expect(coder.capabilities).toMatchObject({ chat: true, tools: true, vision: false, embeddings: false });
    expect(coder.parameterCountB).toBeCloseTo(7.6, 1);
    expect(coder.contextLength).toBe(32768);
    expect(coder.quantization).toBe('Q4_K_M');
    expect(coder.family).toBe('qwen2');
    expect(coder.sizeBytes).toBeGreaterThan(0);
    expect(coder.digest).toMatch(/^[0-9a-f]{12,}/);

    expect(byId.get('llava:7b')!.capabilities).toMatchObject({ chat: true, vision: true });
    expect(byId.get('deepseek-r1:1.5b')!.capabilities).toMatchObject({ chat: true, thinking: true });
    const embed = byId.get('nomic-embed-text:latest')!;
    expect(embed.capabilities).toMatchObject({ chat: false, embeddings: true });
    expect(embed.quantization).toBe('F16');
  });

  it('does not re-show unchanged models on the next poll', async () => {
    await backend.listModels({ signal: signal() });
    const before = sim.requests.filter((r) => r.path === '/api/show').length;
    const again = await backend.listModels({ signal: signal() });
    expect(again).toHaveLength(MODELS.length);
    expect(sim.requests.filter((r) => r.path === '/api/show').length).toBe(before);
  });

  it('names the backend when the server is broken', async () => {
    sim.setFailure('html-error');
    const error = await failure(backend.listModels({ signal: signal() }));
    expect(error.code).toBe('bad_response');
    expect(error.backend).toBe('gpu');
  });
});

describe('chat', () => {
  it('streams text deltas, then one finish with usage', async () => {
    const parts = await collect(backend.chat(hello('qwen2.5-coder:7b', { temperature: 0.2, maxTokens: 200, seed: 7, stop: ['###'] }), { signal: signal() }));
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.slice(0, -1).every((p) => p.type === 'text-delta')).toBe(true);
    expect(text(parts).length).toBeGreaterThan(0);
    const finish = parts.at(-1)!;
    expect(finish.type).toBe('finish');
    if (finish.type !== 'finish') return;
    expect(finish.finishReason).toBe('stop');
    expect(finish.usage.promptTokens).toBeGreaterThan(0);
    expect(finish.usage.completionTokens).toBeGreaterThan(0);

    const body = lastBody('/api/chat');
    expect(body).toMatchObject({ model: 'qwen2.5-coder:7b', stream: true, keep_alive: '10m' });
    expect(body.options).toEqual({ temperature: 0.2, num_predict: 200, seed: 7, stop: ['###'] });
  });

  it('reports length when num_predict runs out', async () => {
    const parts = await collect(backend.chat(hello('qwen2.5-coder:7b', { maxTokens: 2 }), { signal: signal() }));
    const finish = parts.at(-1)!;
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'length' });
  });

  it('sends tools, assembles a call with JSON arguments, and round-trips the tool result', async () => {
    const request: ChatRequest = {
      model: 'qwen2.5-coder:7b',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [weatherTool],
    };
    const parts = await collect(backend.chat(request, { signal: signal() }));
    const calls = parts.filter((p) => p.type === 'tool-call-delta');
    expect(calls).toHaveLength(1);
    const call = calls[0];
    if (call.type !== 'tool-call-delta') return;
    expect(call).toMatchObject({ index: 0, name: 'get_weather' });
    expect(call.id).toBeTruthy();
    expect(typeof JSON.parse(call.argumentsDelta)).toBe('object');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' });
    expect(lastBody('/api/chat').tools).toEqual([{ type: 'function', function: weatherTool }]);

    const followUp: ChatRequest = {
      ...request,
      messages: [
        ...request.messages,
        { role: 'assistant', content: '', toolCalls: [{ id: call.id!, name: call.name!, arguments: call.argumentsDelta }] },
        { role: 'tool', toolCallId: call.id, content: '{"temperature": 21, "sky": "clear"}' },
      ],
    };
    const answer = await collect(backend.chat(followUp, { signal: signal() }));
    expect(answer.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(text(answer).length).toBeGreaterThan(0);

    const sent = lastBody('/api/chat').messages as Record<string, unknown>[];
    expect(sent[1]).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [{ id: call.id, function: { index: 0, name: 'get_weather', arguments: JSON.parse(call.argumentsDelta) } }],
    });
    expect(sent[2]).toEqual({ role: 'tool', content: '{"temperature": 21, "sky": "clear"}', tool_name: 'get_weather', tool_call_id: call.id });
  });

  it('honours toolChoice none by not sending tools', async () => {
    const parts = await collect(
      backend.chat({ model: 'qwen2.5-coder:7b', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool], toolChoice: 'none' }, { signal: signal() }),
    );
    expect(parts.some((p) => p.type === 'tool-call-delta')).toBe(false);
    expect(lastBody('/api/chat').tools).toBeUndefined();
  });

  it('sends images as bare base64 to a vision model', async () => {
    const request: ChatRequest = {
      model: 'llava:7b',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image', mediaType: 'image/png', data: PNG },
            { type: 'image', url: `data:image/png;base64,${PNG}` },
          ],
        },
      ],
    };
    const parts = await collect(backend.chat(request, { signal: signal() }));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    const sent = (lastBody('/api/chat').messages as Record<string, unknown>[])[0];
    expect(sent).toEqual({ role: 'user', content: 'What is in this picture?', images: [PNG, PNG] });
  });

  it('refuses an http image URL before calling Ollama', async () => {
    const count = sim.requests.length;
    const request: ChatRequest = {
      model: 'llava:7b',
      messages: [{ role: 'user', content: [{ type: 'image', url: 'https://example.com/cat.png' }] }],
    };
    const error = await failure(firstPart(backend.chat(request, { signal: signal() })));
    expect(error.code).toBe('bad_request');
    expect(error.message).toMatch(/inline/);
    expect(sim.requests.length).toBe(count);
  });

  it('streams thinking as reasoning parts before the text', async () => {
    const parts = await collect(
      backend.chat(hello('deepseek-r1:1.5b', { providerOptions: { ollama: { think: true } } }), { signal: signal() }),
    );
    const firstText = parts.findIndex((p) => p.type === 'text-delta');
    const reasoning = parts.filter((p) => p.type === 'reasoning-delta');
    expect(reasoning.length).toBeGreaterThan(0);
    expect(parts.findIndex((p) => p.type === 'reasoning-delta')).toBeLessThan(firstText);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(lastBody('/api/chat').think).toBe(true);
  });

  it('maps json formats', async () => {
    await collect(backend.chat(hello('qwen2.5-coder:7b', { responseFormat: { type: 'json_object' } }), { signal: signal() }));
    expect(lastBody('/api/chat').format).toBe('json');
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    await collect(backend.chat(hello('qwen2.5-coder:7b', { responseFormat: { type: 'json_schema', schema } }), { signal: signal() }));
    expect(lastBody('/api/chat').format).toEqual(schema);
  });
});

describe('embed', () => {
  it('returns one vector per input and the prompt token count', async () => {
    const result = await backend.embed({ model: 'nomic-embed-text:latest', input: ['hello world', 'goodbye moon'] }, { signal: signal() });
    expect(result.embeddings).toHaveLength(2);
    expect(result.embeddings[0]).toHaveLength(8);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(lastBody('/api/embed')).toMatchObject({ model: 'nomic-embed-text:latest', input: ['hello world', 'goodbye moon'], keep_alive: '10m' });
  });

  it('maps an unknown model to not_found', async () => {
    const error = await failure(backend.embed({ model: 'nope:1b', input: ['x'] }, { signal: signal() }));
    expect(error.code).toBe('not_found');
    expect(error.model).toBe('nope:1b');
  });
});

describe('memory', () => {
  it('loads with the configured keep_alive, lists it in /api/ps, unloads with keep_alive 0', async () => {
    expect(await backend.load('qwen2.5-coder:7b', { signal: signal() })).toBe(true);
    expect(lastBody('/api/generate')).toMatchObject({ model: 'qwen2.5-coder:7b', keep_alive: '10m' });
    expect(lastBody('/api/generate').prompt).toBeUndefined();
    expect(sim.loaded()).toContain('qwen2.5-coder:7b');

    const loaded = await backend.loadedModels({ signal: signal() });
    const entry = loaded.find((m) => m.id === 'qwen2.5-coder:7b');
    expect(entry).toBeDefined();
    expect(entry!.sizeBytes).toBeGreaterThan(0);
    expect(entry!.vramBytes).toBeGreaterThanOrEqual(0);
    expect(entry!.expiresAt).toBeInstanceOf(Date);

    expect(await backend.unload('qwen2.5-coder:7b', { signal: signal() })).toBe(true);
    expect(lastBody('/api/generate')).toMatchObject({ model: 'qwen2.5-coder:7b', keep_alive: 0 });
    expect(sim.loaded()).not.toContain('qwen2.5-coder:7b');
    expect((await backend.loadedModels({ signal: signal() })).some((m) => m.id === 'qwen2.5-coder:7b')).toBe(false);
  });

  it('loads and unloads an embedding-only model through /api/embed with an empty input (Ollama refuses /api/generate for it)', async () => {
    const fresh = await ollamaBackendDefinition.create({ name: 'embedder', location: sim.url, keepAlive: '10m' }, context);
    // Not listed yet: /api/generate is tried first, its "does not support generate" moves on to /api/embed.
    expect(await fresh.load(EMBEDDER, { signal: signal() })).toBe(true);
    expect(lastBody('/api/embed')).toEqual({ model: EMBEDDER, input: [], keep_alive: '10m' });
    expect(sim.loaded()).toContain(EMBEDDER);
    // Once listed, it goes straight to /api/embed.
    await fresh.listModels({ signal: signal() });
    const before = sim.requests.filter((r) => r.path === '/api/generate').length;
    expect(await fresh.unload(EMBEDDER, { signal: signal() })).toBe(true);
    expect(lastBody('/api/embed')).toEqual({ model: EMBEDDER, input: [], keep_alive: 0 });
    expect(sim.requests.filter((r) => r.path === '/api/generate').length).toBe(before);
    expect(sim.loaded()).not.toContain(EMBEDDER);
    // A chat model's refusal of another kind is not retried as an embedding load.
    await expect(fresh.load('ghost:1b', { signal: signal() })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('sends keep_alive -1 as a number (Ollama rejects "-1" as a duration)', async () => {
    const forever = await ollamaBackendDefinition.create({ name: 'pinned', location: sim.url, keepAlive: '-1' }, context);
    await forever.load('llava:7b', { signal: signal() });
    expect(lastBody('/api/generate')).toMatchObject({ model: 'llava:7b', keep_alive: -1 });
    await forever.unload('llava:7b', { signal: signal() });
  });
});

describe('failures before the first token', () => {
  const cases = [
    ['reset', 'unreachable'],
    ['http500', 'bad_response'],
    ['html-error', 'bad_response'],
    ['overloaded', 'overloaded'],
  ] as const;
  for (const [mode, code] of cases) {
    it(`${mode} -> ${code}`, async () => {
      sim.setFailure(mode, 'qwen2.5-coder:7b');
      const error = await failure(firstPart(backend.chat(hello('qwen2.5-coder:7b'), { signal: signal() })));
      expect(error.code).toBe(code);
      expect(error.backend).toBe('gpu');
      expect(error.model).toBe('qwen2.5-coder:7b');
    });
  }

  it('malformed JSON -> bad_response (non-streaming call)', async () => {
    sim.setFailure('malformed', 'nomic-embed-text:latest');
    const error = await failure(backend.embed({ model: 'nomic-embed-text:latest', input: ['x'] }, { signal: signal() }));
    expect(error.code).toBe('bad_response');
    expect(error.model).toBe('nomic-embed-text:latest');
  });

  it('hang + abort -> aborted', async () => {
    sim.setFailure('hang', 'qwen2.5-coder:7b');
    const controller = new AbortController();
    const pending = firstPart(backend.chat(hello('qwen2.5-coder:7b'), { signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    const error = await failure(pending);
    expect(error.code).toBe('aborted');
    expect(error.retryable).toBe(false);
  });

  it('an abort with a custom reason is still aborted', async () => {
    sim.setFailure('hang', 'qwen2.5-coder:7b');
    const controller = new AbortController();
    const pending = firstPart(backend.chat(hello('qwen2.5-coder:7b'), { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('client went away')), 50);
    expect((await failure(pending)).code).toBe('aborted');
  });

  it('unknown model -> not_found naming it', async () => {
    const error = await failure(firstPart(backend.chat(hello('missing:3b'), { signal: signal() })));
    expect(error.code).toBe('not_found');
    expect(error.model).toBe('missing:3b');
    expect(error.message).toContain('missing:3b');
  });

  it('tools on a model without tool support -> unsupported', async () => {
    const request: ChatRequest = { model: 'llava:7b', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] };
    const error = await failure(firstPart(backend.chat(request, { signal: signal() })));
    expect(error.code).toBe('unsupported');
    // Another model may support tools, so the router may try elsewhere.
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/does not support tools/);
  });

  it('a refused connection -> unreachable', async () => {
    const dead = await ollamaBackendDefinition.create({ name: 'dead', location: 'http://127.0.0.1:9' }, context);
    const error = await failure(firstPart(dead.chat(hello('qwen2.5-coder:7b'), { signal: signal() })));
    expect(error.code).toBe('unreachable');
    expect(error.backend).toBe('dead');
  });
});

describe('failures after the first token', () => {
  it('cut-stream -> text, then one error part', async () => {
    sim.setFailure('cut-stream', 'qwen2.5-coder:7b');
    const parts = await collect(backend.chat(hello('qwen2.5-coder:7b'), { signal: signal() }));
    expect(parts[0].type).toBe('text-delta');
    const last = parts.at(-1)!;
    expect(last.type).toBe('error');
    if (last.type === 'error') expect(last.error.code).toBe('bad_response');
    expect(parts.filter((p) => p.type === 'error' || p.type === 'finish')).toHaveLength(1);
  });

  it('a malformed line mid-stream -> one error part', async () => {
    sim.setFailure('malformed', 'qwen2.5-coder:7b');
    const parts = await collect(backend.chat(hello('qwen2.5-coder:7b'), { signal: signal() }));
    expect(parts[0].type).toBe('text-delta');
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'bad_response' } });
    expect(parts.filter((p) => p.type === 'error' || p.type === 'finish')).toHaveLength(1);
  });

  it('stopping early releases the stream', async () => {
    const stream = backend.chat(hello('qwen2.5-coder:7b'), { signal: signal() });
    for await (const part of stream) {
      expect(part.type).toBe('text-delta');
      break;
    }
    // The same backend keeps working (the socket was released, not leaked).
    const parts = await collect(backend.chat(hello('qwen2.5-coder:7b'), { signal: signal() }));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
  });
});

describe('health', () => {
  it('is ok with a latency when up', async () => {
    const status = await backend.health({ signal: signal() });
    expect(status.ok).toBe(true);
    expect(status.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('is not ok (and does not throw) when the server fails or is closed', async () => {
    sim.setFailure('http500');
    const failing = await backend.health({ signal: signal() });
    expect(failing.ok).toBe(false);
    expect(failing.message).toBeTruthy();
    sim.setFailure('none');

    const other = await startOllamaSimulator({ models: MODELS });
    const probe = await ollamaBackendDefinition.create({ name: 'gone', location: other.url }, context);
    expect((await probe.health({ signal: signal() })).ok).toBe(true);
    await other.close();
    const down = await probe.health({ signal: signal() });
    expect(down.ok).toBe(false);
    expect(down.message).toMatch(/unreachable/);
  });

  it('reports a hung server as down within the health timeout', async () => {
    sim.setFailure('hang');
    const quick = await ollamaBackendDefinition.create({ name: 'quick', location: sim.url, healthTimeoutMs: 200 }, context);
    const status = await quick.health({ signal: signal() });
    expect(status.ok).toBe(false);
    expect(status.message).toMatch(/timeout/);
  });
});

describe('api key', () => {
  it('sends the key as a Bearer token', async () => {
    const guarded = await startOllamaSimulator({ models: MODELS, apiKey: 'proxy-secret' });
    try {
      const withKey = await ollamaBackendDefinition.create({ name: 'proxied', location: guarded.url, apiKey: 'proxy-secret' }, context);
      expect((await withKey.listModels({ signal: signal() })).length).toBe(MODELS.length);
      expect(guarded.requests.at(-1)!.headers.authorization).toBe('Bearer proxy-secret');
      const without = await ollamaBackendDefinition.create({ name: 'open', location: guarded.url }, context);
      expect((await failure(without.listModels({ signal: signal() }))).code).toBe('unauthorized');
    } finally {
      await guarded.close();
    }
  });
});

/**
 * Stream shapes the simulator does not produce (an {"error"} line, a clean end without done) and
 * proof that an abort or an early stop closes the upstream connection: a scripted server.
 */
describe('stream edge cases (scripted server)', () => {
  type Script = (req: IncomingMessage, res: ServerResponse) => void;
  let script: Script = (_req, res) => res.end();
  let closed: Promise<void> = Promise.resolve();
  let markClosed = () => {};
  const server = createServer((req, res) => {
    closed = new Promise((resolve) => (markClosed = resolve));
    res.on('close', () => markClosed());
    req.resume();
    req.on('end', () => script(req, res));
  });
  let scripted: BackendPlugin;
  const ndjson = (res: ServerResponse, lines: unknown[], end = true) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const line of lines) res.write(`${JSON.stringify(line)}\n`);
    if (end) res.end();
  };
  const token = (content: string) => ({ model: 'm', message: { role: 'assistant', content }, done: false });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    scripted = await ollamaBackendDefinition.create({ name: 'scripted', location: `http://127.0.0.1:${port}` }, context);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('an {"error"} line after tokens -> one error part', async () => {
    script = (_req, res) => ndjson(res, [token('Hel'), { error: 'an error was encountered while running the model' }]);
    const parts = await collect(scripted.chat(hello('m'), { signal: signal() }));
    expect(parts.map((p) => p.type)).toEqual(['text-delta', 'error']);
    const last = parts[1];
    if (last.type === 'error') {
      expect(last.error.code).toBe('bad_response');
      expect(last.error.message).toMatch(/error was encountered/);
      expect(last.error).toMatchObject({ backend: 'scripted', model: 'm' });
    }
  });

  it('an {"error"} line before any token -> thrown, classified by its message', async () => {
    script = (_req, res) => ndjson(res, [{ error: 'model requires more system memory (12 GiB) than is available (4 GiB)' }]);
    const error = await failure(firstPart(scripted.chat(hello('m'), { signal: signal() })));
    expect(error.code).toBe('overloaded');
  });

  it('a clean end without done -> an error part after tokens, a throw before', async () => {
    script = (_req, res) => ndjson(res, [token('a'), token('b')]);
    const parts = await collect(scripted.chat(hello('m'), { signal: signal() }));
    expect(parts.map((p) => p.type)).toEqual(['text-delta', 'text-delta', 'error']);
    script = (_req, res) => ndjson(res, []);
    expect((await failure(firstPart(scripted.chat(hello('m'), { signal: signal() })))).code).toBe('bad_response');
  });

  it('several tool calls get distinct indexes and generated ids; done_reason length maps to length', async () => {
    script = (_req, res) =>
      ndjson(res, [
        { model: 'm', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'a', arguments: { x: 1 } } }, { function: { name: 'b', arguments: {} } }] }, done: false },
        { model: 'm', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 5, eval_count: 9 },
      ]);
    const parts = await collect(scripted.chat(hello('m'), { signal: signal() }));
    expect(parts).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'call_0', name: 'a', argumentsDelta: '{"x":1}' },
      { type: 'tool-call-delta', index: 1, id: 'call_1', name: 'b', argumentsDelta: '{}' },
      { type: 'finish', finishReason: 'tool_calls', usage: { promptTokens: 5, completionTokens: 9 } },
    ]);
    script = (_req, res) => ndjson(res, [token('x'), { model: 'm', message: { role: 'assistant', content: '' }, done: true, done_reason: 'length', eval_count: 1 }]);
    expect((await collect(scripted.chat(hello('m'), { signal: signal() }))).at(-1)).toMatchObject({ type: 'finish', finishReason: 'length' });
  });

  it('an abort mid-stream yields an aborted error part and closes the upstream connection', async () => {
    script = (_req, res) => ndjson(res, [token('first')], false);
    const controller = new AbortController();
    const parts: ChatStreamPart[] = [];
    for await (const part of scripted.chat(hello('m'), { signal: controller.signal })) {
      parts.push(part);
      if (part.type === 'text-delta') controller.abort();
    }
    expect(parts.map((p) => p.type)).toEqual(['text-delta', 'error']);
    expect(parts[1]).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    await closed;
  });

  it('infers capabilities on an Ollama without `capabilities`, and keeps a model whose /api/show fails', async () => {
    const tags = {
      models: [
        { name: 'nomic-embed-text:latest', size: 274302450, digest: 'aa11', details: { family: 'nomic-bert', families: ['nomic-bert'], parameter_size: '137M', quantization_level: 'F16' } },
        { name: 'llava:13b', size: 8e9, digest: 'bb22', details: { family: 'llama', families: ['llama', 'clip'], parameter_size: '13B', quantization_level: 'Q4_0' } },
        { name: 'mixtral:8x7b', size: 26e9, digest: 'cc33', details: { family: 'llama', families: ['llama'], parameter_size: '8x7B', quantization_level: 'Q4_0', context_length: 32768 } },
      ],
    };
    script = (req, res) => {
      if (req.url === '/api/tags') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tags));
      if (req.url === '/api/show') {
        // The scripted server does not parse bodies; one answer fits the two models that get here.
        return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"show failed"}');
      }
      res.writeHead(404).end();
    };
    const models = await scripted.listModels({ signal: signal() });
    const byId = new Map(models.map((m) => [m.id, m]));
    expect(byId.get('nomic-embed-text:latest')).toMatchObject({ capabilities: { chat: false, embeddings: true }, parameterCountB: 0.137, quantization: 'F16' });
    expect(byId.get('llava:13b')!.capabilities).toMatchObject({ chat: true, vision: true, embeddings: false });
    expect(byId.get('mixtral:8x7b')).toMatchObject({ parameterCountB: 56, contextLength: 32768, capabilities: { chat: true, vision: false } });
  });

  it('a consumer that stops early closes the upstream connection', async () => {
    script = (_req, res) => ndjson(res, [token('first')], false);
    for await (const part of scripted.chat(hello('m'), { signal: signal() })) {
      expect(part.type).toBe('text-delta');
      break;
    }
    await closed;
  });
});
