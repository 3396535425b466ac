/**
 * A classifier plugin that hangs, throws or answers nonsense costs its own opinion, never the
 * request: past its deadline, or with a category, complexity or score outside the contract, the next
 * classifier (in the end the built-in one) decides; each cause is warned about once. The core alone,
 * with plugin classifiers in front of the real built-in one.
 */
import { describe, expect, it } from 'vitest';
import { MemoryDecisionStore } from '../src/core/decisions.js';
import { ModelRegistry } from '../src/core/registry.js';
import { Router } from '../src/core/router.js';
import { TEST_ROUTER_SETTINGS } from './support/router-settings.js';
import type { RouteRequest } from '../src/core/types.js';
import { createBuiltinClassifier } from '../src/plugins/classifiers/builtin/index.js';
import { SPECIFICATION_VERSION, type ChatStreamPart, type Classification, type ClassifierPlugin } from '../src/plugin-api/index.js';
import { fakeBackend } from './support/fake-backend.js';

const settings = TEST_ROUTER_SETTINGS;

function plugin(name: string, classify: ClassifierPlugin['classify']): ClassifierPlugin {
  return { specificationVersion: SPECIFICATION_VERSION, name, classify };
}

async function routerWith(classifiers: ClassifierPlugin[], classifierTimeoutMs?: number) {
  const warnings: Array<{ classifier?: string; err?: string }> = [];
  const logger = { debug: () => {}, info: () => {}, warn: (o: object) => warnings.push(o as { classifier?: string; err?: string }), error: () => {} };
  const backend = fakeBackend({
    name: 'b',
    listModels: async () => [{ id: 'coder-7b', capabilities: { chat: true, vision: false, tools: false, embeddings: false }, parameterCountB: 7 }],
    async *chat(): AsyncGenerator<ChatStreamPart> {
      yield { type: 'text-delta', delta: 'def f(): pass' };
      yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 4 } };
    },
  });
  const registry = new ModelRegistry([backend], { prefix: '', logger });
  await registry.refresh(new AbortController().signal);
  const router = new Router({
    settings,
    registry,
    classifiers: [...classifiers, createBuiltinClassifier()],
    store: new MemoryDecisionStore(),
    logger,
    ...(classifierTimeoutMs !== undefined ? { classifierTimeoutMs } : {}),
  });
  return { router, warnings };
}

const request: RouteRequest = { model: 'smarterrouter/main', messages: [{ role: 'user', content: 'Write a Python function that reverses a linked list.' }], protocol: 'rest' };

describe('misbehaving classifier plugins', () => {
  it('one that never answers: past its deadline the built-in decides, and the plugin is asked to stop', async () => {
    let stopped = false;
    const hangs = plugin('hangs', (_input, { signal }) => new Promise<Classification | null>(() => signal.addEventListener('abort', () => (stopped = true))));
    const { router, warnings } = await routerWith([hangs], 100);
    const started = performance.now();
    const explained = await router.explain(request);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(explained).toMatchObject({ classifier: 'builtin', category: 'coding', selectedModel: 'coder-7b' });
    expect(stopped).toBe(true);
    expect(warnings).toEqual([expect.objectContaining({ classifier: 'hangs', err: 'no answer within 100 ms' })]);
  });

  it.each([
    ['an unknown category', { category: 'astrology', complexity: 'hard', complexityScore: 0.5, confidence: 0.9 }, /category "astrology"/],
    ['an unknown complexity', { category: 'coding', complexity: 'huge', complexityScore: 0.5, confidence: 0.9 }, /complexity "huge"/],
    ['a score outside 0..1', { category: 'coding', complexity: 'hard', complexityScore: 7, confidence: 0.9 }, /complexityScore 7/],
    ['no confidence', { category: 'coding', complexity: 'hard', complexityScore: 0.5 }, /confidence/],
    ['a string', 'coding', /category undefined|not an object/],
  ])('one that answers %s: the built-in decides, the request is served', async (_name, answer, reason) => {
    const { router, warnings } = await routerWith([plugin('garbage', async () => answer as unknown as Classification)]);
    const routed = await router.chat(request, new AbortController().signal);
    expect(routed.info).toMatchObject({ selectedModel: 'coder-7b', category: 'coding' });
    for await (const _ of routed.parts) void _;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.err).toMatch(reason);
  });

  it('warns once per cause, not on every request', async () => {
    const { router, warnings } = await routerWith([plugin('throws', async () => Promise.reject(new Error('model file missing')))]);
    for (let i = 0; i < 5; i++) expect((await router.explain(request)).classifier).toBe('builtin');
    expect(warnings).toEqual([expect.objectContaining({ classifier: 'throws', err: 'model file missing' })]);
  });

  it('a plugin that answers in time is used; null defers to the next', async () => {
    const good = plugin('good', async () => ({ category: 'creativity', complexity: 'simple', complexityScore: 0.2, confidence: 0.7 }));
    expect((await (await routerWith([good])).router.explain(request)).classifier).toBe('good');
    expect((await (await routerWith([plugin('unsure', async () => null), good])).router.explain(request)).classifier).toBe('good');
  });
});
