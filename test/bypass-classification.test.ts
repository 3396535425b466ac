/**
 * A request that names a concrete model (routing bypassed) is still classified, for its decision
 * record and the X-Router-Category header, but not in front of the model: the classifier runs once
 * the request has gone to the backend, while the model works. A routed request is classified first,
 * because the classification chooses the model. The core alone, with a recording backend and
 * classifier plugin.
 */
import { describe, expect, it } from 'vitest';
import { MemoryDecisionStore } from '../src/core/decisions.js';
import { ModelRegistry } from '../src/core/registry.js';
import { Router } from '../src/core/router.js';
import { TEST_ROUTER_SETTINGS } from './support/router-settings.js';
import { RouterError, type RouteRequest } from '../src/core/types.js';
import { PluginError, SPECIFICATION_VERSION, type ChatStreamPart, type ClassifierPlugin } from '../src/plugin-api/index.js';
import { fakeBackend } from './support/fake-backend.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

const settings = TEST_ROUTER_SETTINGS;

/** A backend and a classifier that write down when the model got its request and when classification ran. */
async function setup(options: { failChat?: boolean; classifyDelayMs?: number } = {}) {
  const events: string[] = [];
  const backend = fakeBackend({
    name: 'b',
    listModels: async () => [{ id: 'writer-7b', capabilities: { chat: true, vision: false, tools: false, embeddings: false }, parameterCountB: 7 }],
    async *chat(): AsyncGenerator<ChatStreamPart> {
      // An HTTP backend sends its request on the first next(): this is that moment.
      events.push('model has the request');
      if (options.failChat) throw new PluginError({ code: 'unreachable', message: 'connection refused', backend: 'b', model: 'writer-7b' });
      yield { type: 'text-delta', delta: 'Once upon a time' };
      yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 4 } };
    },
  });
  const classifier: ClassifierPlugin = {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'recording',
    async classify() {
      events.push('classified');
      if (options.classifyDelayMs) await new Promise((r) => setTimeout(r, options.classifyDelayMs));
      return { category: 'creativity', complexity: 'hard', complexityScore: 0.8, confidence: 0.9 };
    },
  };
  const registry = new ModelRegistry([backend], { prefix: '', logger: quiet });
  await registry.refresh(new AbortController().signal);
  const store = new MemoryDecisionStore();
  const router = new Router({ settings, registry, classifiers: [classifier], store, logger: quiet });
  return { events, router, store };
}

const request = (model: string): RouteRequest => ({ model, messages: [{ role: 'user', content: 'Write a short story about a lighthouse keeper.' }], protocol: 'rest' });

async function drain(parts: AsyncIterable<ChatStreamPart>): Promise<string> {
  let text = '';
  for await (const part of parts) if (part.type === 'text-delta') text += part.delta;
  return text;
}

describe('classification of a request that names its model', () => {
  it('runs after the request went to the model, and still reaches the answer and its record', async () => {
    const { events, router, store } = await setup();
    const routed = await router.chat(request('writer-7b'), new AbortController().signal);
    expect(events).toEqual(['model has the request', 'classified']);
    expect(routed.info).toMatchObject({ selectedModel: 'writer-7b', routed: false, category: 'creativity', complexity: 'hard', complexityScore: 0.8 });
    expect(await drain(routed.parts)).toBe('Once upon a time');
    expect(await store.find(routed.info.responseId)).toMatchObject({ category: 'creativity', complexity: 'hard', routed: false, status: 'ok' });
  });

  it('runs before dispatch when the router chooses (the classification picks the model)', async () => {
    const { events, router } = await setup();
    const routed = await router.chat(request('smarterrouter/main'), new AbortController().signal);
    expect(events).toEqual(['classified', 'model has the request']);
    expect(routed.info).toMatchObject({ routed: true, category: 'creativity' });
    await drain(routed.parts);
  });

  it('a model that fails while the classifier still works: the model\'s error, recorded with the classification', async () => {
    const { router, store } = await setup({ failChat: true, classifyDelayMs: 50 });
    const error = await router.chat(request('writer-7b'), new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouterError);
    expect((error as RouterError).code).toBe('all_candidates_failed');
    // The client's message names the model and the code; the backend's own words stay in the record.
    expect((error as Error).message).toBe('every model tried failed: writer-7b (unreachable)');
    expect((error as RouterError).details.attempts?.[0]?.error?.message).toContain('connection refused');
    const [decision] = await store.list({ limit: 1 });
    expect(decision).toMatchObject({ status: 'all_candidates_failed', category: 'creativity', routed: false });
    expect(JSON.stringify(decision!.attempts)).toContain('connection refused');
  });

  it('Explain of a named model reports the classifier\'s opinion', async () => {
    const { router } = await setup();
    const explained = await router.explain(request('writer-7b'));
    expect(explained).toMatchObject({ category: 'creativity', complexity: 'hard', classifier: 'recording', selectedModel: 'writer-7b' });
  });
});
