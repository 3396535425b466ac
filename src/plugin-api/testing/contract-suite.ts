/**
 * The backend contract suite: the one set of assertions every backend plugin must pass, built-in or
 * third-party. Exported so a plugin author runs in their own repository exactly the tests the router
 * runs against its own backends.
 *
 * It is written for vitest (it imports describe/it/expect from 'vitest'): call it at the top level of a
 * `*.test.ts` / `*.test.js` file. Every check goes through the public BackendPlugin interface, and
 * errors are recognised with `PluginError.isInstance`, never `instanceof`, because a plugin built
 * against another copy of the contract must pass too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../errors.js';
import type {
  BackendModelInfo,
  BackendPlugin,
  ChatRequest,
  ChatStreamPart,
  FinishReason,
  PluginDefinition,
} from '../types.js';

export interface BackendContractSubject {
  /** A ready backend instance (the suite calls `dispose()` on it, when present, before `teardown`). */
  backend: BackendPlugin;
  /** When given, its manifest is checked too. */
  definition?: PluginDefinition;
  /** A model id that answers chat. */
  chatModel: string;
  /** An embeddings model id; when omitted, only the "embeddings unsupported" behaviour is checked. */
  embedModel?: string;
  /** A model id the backend does not have; default "smarterrouter-contract-missing-model". */
  missingModel?: string;
  /** Stops simulators, removes temp files. */
  teardown?: () => Promise<void>;
}

export interface BackendContractOptions {
  /** Per-test timeout in ms (default 20 s; raise it for slow local inference). */
  timeoutMs?: number;
  /** The prompt for chat checks; default asks for a short greeting. */
  prompt?: string;
}

export const FINISH_REASONS: readonly FinishReason[] = ['stop', 'length', 'tool_calls', 'content_filter', 'error', 'other'];

const PART_TYPES = new Set<ChatStreamPart['type']>(['text-delta', 'reasoning-delta', 'tool-call-delta', 'finish', 'error']);
/** Tokenizers count a little differently from what a backend was asked (a stop token, BOS): allow that much. */
const MAX_TOKENS_SLACK = 2;
const SMALL_MAX_TOKENS = 3;

/** What a consumed chat stream looked like. */
export interface CollectedStream {
  parts: ChatStreamPart[];
  text: string;
  /** The last part (finish or error) when the stream ended properly. */
  end?: Extract<ChatStreamPart, { type: 'finish' | 'error' }>;
  /** What chat() or the iteration threw, if anything. */
  thrown?: unknown;
}

/**
 * Consumes a chat stream completely, catching a synchronous throw of chat() and a rejected next().
 * Exported because plugin authors use it in their own extra tests.
 */
export async function collectChat(backend: BackendPlugin, request: ChatRequest, signal: AbortSignal): Promise<CollectedStream> {
  const parts: ChatStreamPart[] = [];
  try {
    for await (const part of backend.chat(request, { signal })) parts.push(part);
  } catch (thrown) {
    return { parts, text: textOf(parts), thrown };
  }
  const last = parts.at(-1);
  const end = last && (last.type === 'finish' || last.type === 'error') ? last : undefined;
  return { parts, text: textOf(parts), end };
}

/**
 * Asserts the stream grammar: zero or more content parts, then exactly one finish or error part,
 * nothing after it; every part well-formed.
 */
export function expectValidStream(parts: readonly ChatStreamPart[]): void {
  expect(parts.length, 'a stream has at least its finish or error part').toBeGreaterThan(0);
  parts.forEach((part, i) => {
    expect(PART_TYPES.has(part.type), `part ${i} has an unknown type ${JSON.stringify(part.type)}`).toBe(true);
    const isLast = i === parts.length - 1;
    if (part.type === 'finish' || part.type === 'error') {
      expect(isLast, `part ${i} (${part.type}) must be the last part, but ${parts.length - 1 - i} part(s) follow it`).toBe(true);
    } else {
      expect(isLast, `the stream ended with a ${part.type} part instead of finish or error`).toBe(false);
    }
    switch (part.type) {
      case 'text-delta':
      case 'reasoning-delta':
        expect(typeof part.delta, `part ${i}: delta is a string`).toBe('string');
        break;
      case 'tool-call-delta':
        expect(Number.isInteger(part.index) && part.index >= 0, `part ${i}: tool-call index is a non-negative integer`).toBe(true);
        expect(typeof part.argumentsDelta, `part ${i}: argumentsDelta is a string`).toBe('string');
        break;
      case 'finish':
        expect(FINISH_REASONS, `part ${i}: finishReason`).toContain(part.finishReason);
        expectCount(part.usage?.promptTokens, 'usage.promptTokens');
        expectCount(part.usage?.completionTokens, 'usage.completionTokens');
        break;
      case 'error':
        expect(PluginError.isInstance(part.error), `part ${i}: an error part carries a PluginError`).toBe(true);
        break;
    }
  });
}

/** Registers the contract tests for one backend. Call at the top level of a vitest test file. */
export function describeBackendContract(
  name: string,
  setup: () => Promise<BackendContractSubject>,
  options: BackendContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 20_000;
  const prompt = options.prompt ?? 'Say hello in one short sentence.';

  describe(`backend contract: ${name}`, () => {
    let subject: BackendContractSubject | undefined;
    // Every call gets a live signal; aborting it in afterAll releases anything a failed test left running.
    const controller = new AbortController();
    const call = { signal: controller.signal };
    const get = (): BackendContractSubject => {
      if (!subject) throw new Error(`setup of "${name}" failed; see the beforeAll error`);
      return subject;
    };
    const chatRequest = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
      model: get().chatModel,
      messages: [{ role: 'user', content: prompt }],
      maxTokens: 24,
      temperature: 0,
      ...extra,
    });

    beforeAll(async () => {
      subject = await setup();
    }, timeout * 3);

    afterAll(async () => {
      controller.abort();
      if (!subject) return;
      try {
        await subject.backend.dispose?.();
      } finally {
        await subject.teardown?.();
      }
    }, timeout * 3);

    it('declares specification v1, its names and a well-formed capabilities record', () => {
      const { backend, definition } = get();
      expect(backend.specificationVersion).toBe('v1');
      expect(typeof backend.name === 'string' && backend.name.length > 0, 'backend.name is a non-empty string').toBe(true);
      expect(typeof backend.provider === 'string' && backend.provider.length > 0, 'backend.provider is a non-empty string').toBe(true);
      for (const key of ['loadedModels', 'load', 'unload', 'embeddings'] as const) {
        expect(typeof backend.capabilities?.[key], `capabilities.${key} is a boolean`).toBe('boolean');
      }
      for (const method of ['listModels', 'chat', 'embed', 'loadedModels', 'load', 'unload', 'health'] as const) {
        expect(typeof backend[method], `${method} is a function`).toBe('function');
      }
      if (definition) {
        expect(definition.manifest.specificationVersion).toBe('v1');
        expect(definition.manifest.kind).toBe('backend');
        expect(definition.manifest.name.length).toBeGreaterThan(0);
        expect(definition.manifest.version).toMatch(/^\d+\.\d+\.\d+/);
        expect(typeof definition.create).toBe('function');
      }
    });

    it('lists well-formed models, including the chat model', async () => {
      const { backend, chatModel, embedModel } = get();
      const models = await backend.listModels(call);
      expect(Array.isArray(models), 'listModels returns an array').toBe(true);
      const ids = models.map((m) => m.id);
      expect(new Set(ids).size, `model ids are unique: ${ids.join(', ')}`).toBe(ids.length);
      for (const model of models) expectModelInfo(model);
      const chat = models.find((m) => m.id === chatModel);
      expect(chat, `listModels includes the chat model "${chatModel}" (got ${ids.join(', ')})`).toBeDefined();
      expect(chat!.capabilities.chat, `"${chatModel}" has capabilities.chat`).toBe(true);
      if (embedModel) {
        const embed = models.find((m) => m.id === embedModel);
        expect(embed, `listModels includes the embeddings model "${embedModel}"`).toBeDefined();
        expect(embed!.capabilities.embeddings, `"${embedModel}" has capabilities.embeddings`).toBe(true);
      }
    }, timeout);

    it('streams an answer: deltas, then exactly one finish part with usage', async () => {
      const { backend } = get();
      const result = await collectChat(backend, chatRequest(), controller.signal);
      expect(result.thrown, 'chat does not throw for a valid request').toBeUndefined();
      expectValidStream(result.parts);
      expect(result.end?.type, `the stream ends with finish (got ${describeEnd(result)})`).toBe('finish');
      expect(result.text.length, 'the answer has text').toBeGreaterThan(0);
    }, timeout);

    it('honours a small maxTokens', async () => {
      const { backend } = get();
      const result = await collectChat(backend, chatRequest({ maxTokens: SMALL_MAX_TOKENS }), controller.signal);
      expect(result.thrown, 'chat does not throw for a valid request').toBeUndefined();
      expectValidStream(result.parts);
      const end = result.end;
      if (end?.type !== 'finish') throw new Error(`expected a finish part, got ${describeEnd(result)}`);
      // A short answer may stop on its own before the limit; both are correct.
      expect(['length', 'stop']).toContain(end.finishReason);
      expect(end.usage.completionTokens).toBeLessThanOrEqual(SMALL_MAX_TOKENS + MAX_TOKENS_SLACK);
    }, timeout);

    it('stops for an already-aborted signal: rejects with code "aborted" or ends without text', async () => {
      const { backend } = get();
      const aborted = new AbortController();
      aborted.abort();
      const result = await collectChat(backend, chatRequest(), aborted.signal);
      if (result.thrown !== undefined) {
        expect(PluginError.isInstance(result.thrown), `threw a PluginError, not ${String(result.thrown)}`).toBe(true);
        expect((result.thrown as PluginError).code).toBe('aborted');
        return;
      }
      expectValidStream(result.parts);
      expect(result.text, 'an aborted request produces no text').toBe('');
      if (result.end?.type === 'error') expect(result.end.error.code).toBe('aborted');
    }, timeout);

    it('ends the stream when the signal is aborted after the first part', async () => {
      const { backend } = get();
      const stop = new AbortController();
      const parts: ChatStreamPart[] = [];
      let thrown: unknown;
      try {
        for await (const part of backend.chat(chatRequest({ maxTokens: 64 }), { signal: stop.signal })) {
          parts.push(part);
          if (parts.length === 1) stop.abort();
        }
      } catch (error) {
        thrown = error;
      }
      // Parts already read may still come out; then the stream ends (a fast answer may even finish).
      if (thrown !== undefined) {
        expect(PluginError.isInstance(thrown), `threw a PluginError, not ${String(thrown)}`).toBe(true);
        expect((thrown as PluginError).code).toBe('aborted');
        return;
      }
      expectValidStream(parts);
      const end = parts.at(-1)!;
      if (end.type === 'error') expect(end.error.code).toBe('aborted');
    }, timeout);

    it('reports a missing model as a PluginError (not_found or bad_request) naming the backend', async () => {
      const { backend, missingModel } = get();
      const model = missingModel ?? 'smarterrouter-contract-missing-model';
      const result = await collectChat(backend, chatRequest({ model }), controller.signal);
      const error = result.thrown ?? (result.end?.type === 'error' ? result.end.error : undefined);
      expect(error, `chat with a missing model fails (got ${describeEnd(result)})`).toBeDefined();
      expect(PluginError.isInstance(error), `the failure is a PluginError, not ${String(error)}`).toBe(true);
      const pluginError = error as PluginError;
      expect(['not_found', 'bad_request']).toContain(pluginError.code);
      expect(pluginError.backend, 'the error names the backend instance').toBe(backend.name);
      if (result.thrown === undefined) expectValidStream(result.parts);
    }, timeout);

    it('embeds each input as a vector of one consistent dimension, or rejects as unsupported', async () => {
      const { backend, embedModel, chatModel } = get();
      if (!embedModel) {
        if (backend.capabilities.embeddings) return; // Capable, but the caller named no embeddings model.
        const error = await backend.embed({ model: chatModel, input: ['hello'] }, call).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(PluginError.isInstance(error), 'embed on a backend without embeddings rejects with a PluginError').toBe(true);
        expect((error as PluginError).code).toBe('unsupported');
        return;
      }
      expect(backend.capabilities.embeddings, 'a backend with an embeddings model declares capabilities.embeddings').toBe(true);
      const input = ['the quick brown fox', 'hello world', 'the quick brown fox'];
      const result = await backend.embed({ model: embedModel, input }, call);
      expect(result.embeddings).toHaveLength(input.length);
      const dimension = result.embeddings[0]?.length ?? 0;
      expect(dimension, 'vectors are not empty').toBeGreaterThan(0);
      for (const vector of result.embeddings) {
        expect(vector).toHaveLength(dimension);
        expect(vector.every((x) => typeof x === 'number' && Number.isFinite(x)), 'vector entries are finite numbers').toBe(true);
      }
      expectCount(result.usage?.promptTokens, 'usage.promptTokens');
    }, timeout);

    it('reports loaded models as well-formed entries', async () => {
      const { backend } = get();
      const loaded = await backend.loadedModels(call);
      expect(Array.isArray(loaded), 'loadedModels returns an array').toBe(true);
      for (const model of loaded) {
        expect(typeof model.id === 'string' && model.id.length > 0, 'loaded model id is a non-empty string').toBe(true);
        expectCount(model.sizeBytes, `${model.id}: sizeBytes`);
        if (model.vramBytes !== undefined) expectCount(model.vramBytes, `${model.id}: vramBytes`);
        if (model.expiresAt !== undefined) expect(model.expiresAt).toBeInstanceOf(Date);
      }
    }, timeout);

    it('load/unload return booleans, false exactly when the capability is missing', async () => {
      const { backend, chatModel } = get();
      const loaded = await backend.load(chatModel, call);
      expect(typeof loaded).toBe('boolean');
      expect(loaded, `load() returns capabilities.load (${backend.capabilities.load})`).toBe(backend.capabilities.load);
      const unloaded = await backend.unload(chatModel, call);
      expect(typeof unloaded).toBe('boolean');
      expect(unloaded, `unload() returns capabilities.unload (${backend.capabilities.unload})`).toBe(backend.capabilities.unload);
    }, timeout);

    it('reports health with ok and a non-negative latency', async () => {
      const { backend } = get();
      const health = await backend.health(call);
      expect(typeof health.ok).toBe('boolean');
      expectCount(health.latencyMs, 'latencyMs', false);
      // The subject under test is up, so a healthy answer is expected.
      expect(health.ok, `health is ok (message: ${health.message ?? 'none'})`).toBe(true);
    }, timeout);

    it('serves two chats at once', async () => {
      const { backend } = get();
      const [a, b] = await Promise.all([
        collectChat(backend, chatRequest(), controller.signal),
        collectChat(backend, chatRequest({ messages: [{ role: 'user', content: 'Name a colour.' }] }), controller.signal),
      ]);
      for (const result of [a, b]) {
        expect(result.thrown, 'concurrent chat does not throw').toBeUndefined();
        expectValidStream(result.parts);
        expect(result.end?.type, `each stream ends with finish (got ${describeEnd(result)})`).toBe('finish');
        expect(result.text.length).toBeGreaterThan(0);
      }
    }, timeout * 2);
  });
}

function expectModelInfo(model: BackendModelInfo): void {
  const label = `model ${JSON.stringify(model?.id)}`;
  expect(typeof model.id === 'string' && model.id.length > 0, `${label}: id is a non-empty string`).toBe(true);
  expect(typeof model.capabilities, `${label}: capabilities is an object`).toBe('object');
  for (const key of ['chat', 'vision', 'tools', 'embeddings'] as const) {
    expect(typeof model.capabilities[key], `${label}: capabilities.${key} is a boolean`).toBe('boolean');
  }
  if (model.capabilities.thinking !== undefined) expect(typeof model.capabilities.thinking, `${label}: capabilities.thinking`).toBe('boolean');
  if (model.parameterCountB !== undefined) expectCount(model.parameterCountB, `${label}: parameterCountB`, false);
  if (model.contextLength !== undefined) {
    expect(Number.isInteger(model.contextLength) && model.contextLength > 0, `${label}: contextLength is a positive integer`).toBe(true);
  }
  if (model.sizeBytes !== undefined) expectCount(model.sizeBytes, `${label}: sizeBytes`, false);
  for (const key of ['family', 'quantization', 'digest'] as const) {
    if (model[key] !== undefined) expect(typeof model[key], `${label}: ${key} is a string`).toBe('string');
  }
}

/** A finite number >= 0 (an integer unless `integer` is false). */
function expectCount(value: unknown, label: string, integer = true): void {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= 0 && (!integer || Number.isInteger(value));
  expect(ok, `${label} is a ${integer ? 'non-negative integer' : 'finite number >= 0'} (got ${String(value)})`).toBe(true);
}

function textOf(parts: readonly ChatStreamPart[]): string {
  return parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
}

function describeEnd(result: CollectedStream): string {
  if (result.thrown !== undefined) return `a throw: ${String(result.thrown)}`;
  if (!result.end) return `no finish/error part after ${result.parts.length} part(s)`;
  return result.end.type === 'error' ? `error part: ${String(result.end.error)}` : `finish (${result.end.finishReason})`;
}
