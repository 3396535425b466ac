import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PluginError,
  type BackendPlugin,
  type ChatRequest,
  type ChatStreamPart,
  type PluginContext,
  type PluginLogger,
} from '../src/plugin-api/index.js';
import { defaultThreads, ggufBackendDefinition, resolveGgufOptions } from '../src/plugins/backends/gguf/index.js';
import { buildTinyGguf, probeGgufInChildProcess, writeTinyGguf } from './support/tiny-gguf.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_MODELS = resolve(REPO_ROOT, '../shared/models');
const HAS_SHARED_MODELS = existsSync(join(SHARED_MODELS, 'stories260K.gguf'));

const silent: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };
const context: PluginContext = { logger: silent, fetch, signal: new AbortController().signal };
const call = () => ({ signal: new AbortController().signal });

let dir: string;
let backend: BackendPlugin;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-backend-'));
  await writeTinyGguf(join(dir, 'tiny.gguf'), { seed: 11 });
  await writeTinyGguf(join(dir, 'nested', 'other.gguf'), { seed: 12, contextLength: 1024 });
  const bytes = buildTinyGguf({ seed: 13 });
  await writeFile(join(dir, 'truncated.gguf'), bytes.subarray(0, bytes.length >> 1)); // header intact, data cut
  await writeFile(join(dir, 'notes.txt'), 'not a model');
  // Loaded in a throwaway process first: a file that aborted llama.cpp would otherwise kill this worker.
  const probe = await probeGgufInChildProcess(join(dir, 'tiny.gguf'));
  if (!probe.ok) throw new Error(`tiny GGUF does not load in a child process:\n${probe.output}`);
  backend = await ggufBackendDefinition.create({ name: 'local', location: dir, threads: 1, maxLoadedModels: 2 }, context);
}, 60_000);

afterAll(async () => {
  await backend?.dispose?.();
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

function textOf(parts: ChatStreamPart[]): string {
  return parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
}

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'tiny', messages: [{ role: 'user', content: 'hello world' }], maxTokens: 12, temperature: 0, ...overrides };
}

describe('gguf backend definition and options', () => {
  it('has the v1 backend manifest', () => {
    expect(ggufBackendDefinition.manifest).toMatchObject({ name: 'gguf', kind: 'backend', specificationVersion: 'v1', version: '1.0.0' });
    expect(backend.provider).toBe('gguf');
    expect(backend.name).toBe('local');
    expect(backend.capabilities).toEqual({ loadedModels: true, load: true, unload: true, embeddings: true });
  });

  it('chooses threads from the core count and validates options', () => {
    expect(defaultThreads(1)).toBe(1);
    expect(defaultThreads(2)).toBe(1);
    expect(defaultThreads(4)).toBe(3);
    expect(defaultThreads(64)).toBe(8);
    const options = resolveGgufOptions({ name: 'x', location: dir, threads: '2', contextSize: 1024 });
    expect(options).toMatchObject({ threads: 2, contextSize: 1024, maxLoadedModels: 1, gpu: false });
    expect(() => resolveGgufOptions({ name: 'x' })).toThrow(/location/);
    expect(() => resolveGgufOptions({ name: 'x', location: dir, threads: 0 })).toThrow(/threads/);
    expect(() => resolveGgufOptions({ name: 'x', location: dir, maxLoadedModels: 'many' })).toThrow(/maxLoadedModels/);
    // A misspelt option stops start-up rather than leaving the default in place without a word.
    expect(() => resolveGgufOptions({ name: 'x', location: dir, maxLoadedModel: 2 })).toThrow(/gguf option "maxLoadedModel" is not a gguf option \(known: threads, contextSize, maxLoadedModels/);
  });
});

describe('gguf backend on a generated model', () => {
  it('lists every .gguf file (subfolders included) with header metadata', async () => {
    const models = await backend.listModels(call());
    expect(models.map((m) => m.id)).toEqual(['nested/other', 'tiny', 'truncated']);
    const tiny = models.find((m) => m.id === 'tiny')!;
    expect(tiny).toMatchObject({
      family: 'llama',
      quantization: 'F32',
      contextLength: 2048,
      capabilities: { chat: true, embeddings: true, vision: false, tools: false },
    });
    expect(tiny.sizeBytes).toBe(buildTinyGguf({ seed: 11 }).length);
    expect(tiny.parameterCountB).toBeGreaterThan(0.00003);
    expect(tiny.parameterCountB).toBeLessThan(0.0001);
    expect(tiny.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(models.find((m) => m.id === 'nested/other')?.contextLength).toBe(1024);
  });

  it('streams text deltas and one finish part with usage', async () => {
    const parts = await collect(backend.chat(request({ maxTokens: 12 }), call()));
    const finish = parts.at(-1);
    expect(finish?.type).toBe('finish');
    expect(parts.filter((p) => p.type === 'finish')).toHaveLength(1);
    expect(parts.slice(0, -1).every((p) => p.type === 'text-delta')).toBe(true);
    expect(textOf(parts).trim().length).toBeGreaterThan(0);
    if (finish?.type !== 'finish') throw new Error('no finish part');
    expect(finish.finishReason).toBe('length'); // random weights never pick </s> (its logits row is zero)
    expect(finish.usage.completionTokens).toBe(12);
    expect(finish.usage.promptTokens).toBeGreaterThan(2);
  });

  it('refuses a prompt longer than the context as bad_request, instead of dropping its start', async () => {
    const long = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ');
    const error = await collect(backend.chat(request({ model: 'nested/other', messages: [{ role: 'user', content: long }] }), call())).catch((e: unknown) => e);
    expect(PluginError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/more than the model's context of 1024 tokens \(context_length_exceeded\)/) });
  });

  it('respects maxTokens and is deterministic for a seed', async () => {
    const short = await collect(backend.chat(request({ maxTokens: 3 }), call()));
    expect(short.at(-1)).toMatchObject({ type: 'finish', finishReason: 'length', usage: { completionTokens: 3 } });
    const sampled = request({ maxTokens: 10, temperature: 1, seed: 42 });
    const a = textOf(await collect(backend.chat(sampled, call())));
    const b = textOf(await collect(backend.chat(sampled, call())));
    expect(a).toBe(b);
  });

  it('stops promptly when the signal aborts mid-stream', async () => {
    const controller = new AbortController();
    const parts: ChatStreamPart[] = [];
    const started = Date.now();
    for await (const part of backend.chat(request({ maxTokens: 1500 }), { signal: controller.signal })) {
      parts.push(part);
      if (parts.length === 2) controller.abort();
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    const last = parts.at(-1);
    expect(last?.type).toBe('error');
    if (last?.type === 'error') expect(last.error.code).toBe('aborted');
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeLessThan(50);
    // The model's lock was released: the next request runs normally.
    const next = await collect(backend.chat(request({ maxTokens: 2 }), call()));
    expect(next.at(-1)).toMatchObject({ type: 'finish' });
  });

  it('stops generating when the consumer leaves early, and queues concurrent requests', async () => {
    for await (const part of backend.chat(request({ maxTokens: 1500 }), call())) {
      if (part.type === 'text-delta') break;
    }
    const [a, b] = await Promise.all([
      collect(backend.chat(request({ maxTokens: 4 }), call())),
      collect(backend.chat(request({ maxTokens: 4, messages: [{ role: 'user', content: 'the cat' }] }), call())),
    ]);
    expect(a.at(-1)).toMatchObject({ type: 'finish', usage: { completionTokens: 4 } });
    expect(b.at(-1)).toMatchObject({ type: 'finish', usage: { completionTokens: 4 } });
  });

  it('lets a request queued behind another give up with aborted', async () => {
    const first = backend.chat(request({ maxTokens: 1500 }), call())[Symbol.asyncIterator]();
    expect((await first.next()).value).toMatchObject({ type: 'text-delta' }); // holds the model's lock now
    const waiting = new AbortController();
    const queued = collect(backend.chat(request({ maxTokens: 2 }), { signal: waiting.signal }));
    setTimeout(() => waiting.abort(), 20);
    await expect(queued).rejects.toMatchObject({ code: 'aborted', backend: 'local', model: 'tiny' });
    await first.return?.();
  });

  it('accepts system, assistant, tool and multi-part messages', async () => {
    const parts = await collect(
      backend.chat(
        request({
          maxTokens: 4,
          messages: [
            { role: 'system', content: 'You are terse.' },
            { role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'text', text: 'world' }] },
            { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"q":"cat"}' }] },
            { role: 'tool', toolCallId: 'c1', content: 'a cat' },
            { role: 'user', content: 'and?' },
          ],
        }),
        call(),
      ),
    );
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
  });

  it('constrains output with a JSON grammar for json_object', async () => {
    const parts = await collect(backend.chat(request({ maxTokens: 8, responseFormat: { type: 'json_object' } }), call()));
    expect(textOf(parts).trimStart()).toMatch(/^[[{"\-0-9tfn]/);
  });

  it('embeds one vector of n_embd per input and counts tokens', async () => {
    const result = await backend.embed({ model: 'tiny', input: ['hello world', 'the cat', 'a'] }, call());
    expect(result.embeddings).toHaveLength(3);
    for (const vector of result.embeddings) {
      expect(vector).toHaveLength(32);
      expect(vector.every(Number.isFinite)).toBe(true);
    }
    expect(result.embeddings[0]).not.toEqual(result.embeddings[1]);
    expect(result.usage.promptTokens).toBeGreaterThanOrEqual(3);
  });

  it('loads, evicts the least recently used model beyond maxLoadedModels, and unloads', async () => {
    const own = await ggufBackendDefinition.create({ name: 'lru', location: dir, threads: 1 }, context); // maxLoadedModels 1
    try {
      expect(await own.loadedModels(call())).toEqual([]);
      expect(await own.load('tiny', call())).toBe(true);
      const loaded = await own.loadedModels(call());
      expect(loaded).toHaveLength(1);
      expect(loaded[0]).toMatchObject({ id: 'tiny', vramBytes: 0 });
      expect(loaded[0].sizeBytes).toBeGreaterThan(100_000);

      const parts = await collect(own.chat(request({ model: 'nested/other', maxTokens: 2 }), call()));
      expect(parts.at(-1)).toMatchObject({ type: 'finish' });
      expect((await own.loadedModels(call())).map((m) => m.id)).toEqual(['nested/other']);

      expect(await own.unload('nested/other', call())).toBe(true);
      expect(await own.loadedModels(call())).toEqual([]);
      expect(await own.unload('tiny', call())).toBe(true); // not loaded: nothing to do
    } finally {
      await own.dispose?.();
    }
    await expect(own.listModels(call())).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('serves concurrent requests for two models with room for one: in batches, never unloading a busy model', async () => {
    const lines: Array<{ msg: string; model?: string }> = [];
    const logger: PluginLogger = { debug() {}, info: (obj: object, msg?: string) => void lines.push({ ...(obj as { model?: string }), msg: msg ?? '' }), warn() {}, error() {} };
    const own = await ggufBackendDefinition.create({ name: 'swap', location: dir, threads: 1 }, { ...context, logger }); // maxLoadedModels 1
    try {
      const models = ['tiny', 'nested/other', 'tiny', 'nested/other', 'tiny', 'nested/other', 'tiny', 'nested/other'];
      const results = await Promise.all(models.map((model) => collect(own.chat(request({ model, maxTokens: 3 }), call()))));
      for (const parts of results) expect(parts.at(-1)).toMatchObject({ type: 'finish' });
      // Interleaved arrivals are served as one batch per model: a handful of loads, not one per request.
      const loads = lines.filter((l) => l.msg === 'gguf model loaded').length;
      expect(loads).toBeGreaterThanOrEqual(2);
      expect(loads).toBeLessThanOrEqual(3);

      // An unload waits for the request running on the model, which finishes normally.
      const running = collect(own.chat(request({ model: 'tiny', maxTokens: 8 }), call()));
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await own.unload('tiny', call())).toBe(true);
      expect((await running).at(-1)).toMatchObject({ type: 'finish' });
      expect(await own.loadedModels(call())).toEqual([]);
    } finally {
      await own.dispose?.();
    }
  });

  it('a caller that gives up while queued for a swap leaves nothing behind: the next caller loads the model', async () => {
    const own = await ggufBackendDefinition.create({ name: 'giveup', location: dir, threads: 1 }, context); // maxLoadedModels 1
    try {
      await own.load('tiny', call());
      // tiny stays busy while its stream is held open after the first part; other queues for the
      // room (tiny drains); a second tiny caller then waits for its turn behind other, and gives up.
      const held = own.chat(request({ model: 'tiny', maxTokens: 4 }), call())[Symbol.asyncIterator]();
      await held.next();
      const other = collect(own.chat(request({ model: 'nested/other', maxTokens: 2 }), call()));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const quitter = new AbortController();
      const gaveUp = collect(own.chat(request({ model: 'tiny', maxTokens: 2 }), { signal: quitter.signal })).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 20));
      quitter.abort();
      expect(await gaveUp).toMatchObject({ code: 'aborted' });
      await held.return?.();
      expect((await other).at(-1)).toMatchObject({ type: 'finish' });
      // The model still serves: a fresh request loads it again.
      expect((await collect(own.chat(request({ model: 'tiny', maxTokens: 2 }), call()))).at(-1)).toMatchObject({ type: 'finish' });
      expect(await own.load('tiny', call())).toBe(true);
    } finally {
      await own.dispose?.();
    }
  });

  it('never generates past the context: a max_tokens beyond it finishes with length where the context is full', async () => {
    const small = await ggufBackendDefinition.create({ name: 'ctx', location: dir, threads: 1, contextSize: 64 }, context);
    try {
      const parts = await collect(small.chat(request({ model: 'tiny', maxTokens: 5000, temperature: 0 }), call()));
      const finish = parts.at(-1) as Extract<ChatStreamPart, { type: 'finish' }>;
      expect(finish).toMatchObject({ type: 'finish', finishReason: 'length' });
      // llama.cpp rounds a small context up (to 256 here): the cap is the context it really has.
      expect(finish.usage.completionTokens).toBeLessThan(5000);
      expect(finish.usage.promptTokens + finish.usage.completionTokens).toBeLessThanOrEqual(256);
    } finally {
      await small.dispose?.();
    }
  });

  it('reports a missing model as not_found and a broken file as bad_response', async () => {
    const missing = backend.chat(request({ model: 'nope' }), call());
    const error = await collect(missing).catch((e: unknown) => e);
    expect(PluginError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'not_found', backend: 'local', model: 'nope' });
    await expect(backend.embed({ model: '../etc/passwd', input: ['x'] }, call())).rejects.toMatchObject({ code: 'not_found' });
    await expect(backend.load('truncated', call())).rejects.toMatchObject({ code: 'bad_response', backend: 'local', model: 'truncated' });
    const image = backend.chat(
      request({ messages: [{ role: 'user', content: [{ type: 'image', mediaType: 'image/png', data: 'AAAA' }] }] }),
      call(),
    );
    await expect(collect(image)).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('is healthy when the folder is readable, unhealthy otherwise', async () => {
    const health = await backend.health(call());
    expect(health.ok).toBe(true);
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    const gone = await ggufBackendDefinition.create({ name: 'gone', location: join(dir, 'missing') }, context);
    expect(await gone.health(call())).toMatchObject({ ok: false });
    await expect(gone.listModels(call())).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('finds a model copied into the folder without a restart', async () => {
    await mkdir(join(dir, 'late'), { recursive: true });
    await writeTinyGguf(join(dir, 'late', 'new.gguf'), { seed: 14 });
    expect((await backend.listModels(call())).map((m) => m.id)).toContain('late/new');
    await rm(join(dir, 'late'), { recursive: true });
    expect((await backend.listModels(call())).map((m) => m.id)).not.toContain('late/new');
  });
});

describe.skipIf(!HAS_SHARED_MODELS)('gguf backend on the shared real models (read in place)', () => {
  let shared: BackendPlugin;

  beforeAll(async () => {
    shared = await ggufBackendDefinition.create({ name: 'shared', location: SHARED_MODELS, threads: 1 }, context);
  });

  afterAll(async () => {
    await shared?.dispose?.();
  });

  it('lists both models with their real metadata', async () => {
    const models = await shared.listModels(call());
    const stories = models.find((m) => m.id === 'stories260K');
    expect(stories).toMatchObject({ family: 'llama', quantization: 'F32', contextLength: 2048, sizeBytes: 1_185_376 });
    expect(models.find((m) => m.id === 'llama-2-tiny-random')).toMatchObject({ quantization: 'F16', contextLength: 4096 });
  });

  it('tells a story greedily from "Once upon a time"', async () => {
    // The assistant turn is a prefix to continue: the story model then writes its golden opening.
    const story: ChatRequest = {
      model: 'stories260K',
      messages: [
        { role: 'user', content: 'Tell me a story.' },
        { role: 'assistant', content: 'Once upon a time' },
      ],
      temperature: 0,
      maxTokens: 24,
    };
    const parts = await collect(shared.chat(story, call()));
    const text = textOf(parts);
    expect(text).toMatch(/there was a little/);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'length', usage: { completionTokens: 24 } });

    const stopped = await collect(shared.chat({ ...story, stop: ['Lily'] }, call()));
    expect(textOf(stopped)).not.toContain('Lily');
    expect(stopped.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('loads llama-2-tiny-random (evicting stories260K) and answers', async () => {
    const parts = await collect(shared.chat({ model: 'llama-2-tiny-random', messages: [{ role: 'user', content: 'Hi' }], temperature: 0, maxTokens: 6 }, call()));
    expect(textOf(parts).length).toBeGreaterThan(0);
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect((await shared.loadedModels(call())).map((m) => m.id)).toEqual(['llama-2-tiny-random']);
    const embedded = await shared.embed({ model: 'llama-2-tiny-random', input: ['hello'] }, call());
    expect(embedded.embeddings[0]).toHaveLength(8);
  });
});
