/**
 * The built-in backends' streams reach the router unguarded (loader.ts, GuardOptions.trustStream),
 * so they must stop on their own when the call's signal fires: created as the router creates them,
 * against slow simulators of each wire protocol, an abort after the first token ends the stream at
 * once, with an `aborted` error part or rejection and no more tokens than had already arrived.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PluginError, type ChatStreamPart, type PluginContext } from '../src/plugin-api/index.js';
import { createBackends, loadPlugins } from '../src/plugins/loader.js';
import { createHttpFetch } from '../src/plugins/backends/node-fetch.js';
import { startLlamaCppSimulator, startOllamaSimulator, startOpenAISimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const fetchImpl = createHttpFetch();
const context: PluginContext = { logger: silent, fetch: fetchImpl as typeof fetch, signal: new AbortController().signal };
// 20 tokens a second: 200 tokens would take 10 s.
const SLOW: SimModel = { id: 'slow:3b', parameterSizeB: 3, tokensPerSecond: 20 };
const sims: RunningSimulator[] = [];
afterAll(async () => {
  fetchImpl.destroy();
  await Promise.all(sims.map((s) => s.close()));
});

const cases: Array<[string, () => Promise<{ kind: string; location: string }>]> = [
  ['ollama', async () => ({ kind: 'ollama', location: (await track(startOllamaSimulator({ models: [SLOW] }))).url })],
  ['llama.cpp', async () => ({ kind: 'llama.cpp', location: (await track(startLlamaCppSimulator({ models: [SLOW], mode: 'single' }))).url })],
  ['openai', async () => ({ kind: 'openai', location: `${(await track(startOpenAISimulator({ models: [SLOW] }))).url}/v1` })],
];

async function track<T extends RunningSimulator>(sim: Promise<T>): Promise<T> {
  const started = await sim;
  sims.push(started);
  return started;
}

describe.each(cases)('built-in %s backend, trusted stream', (_name, start) => {
  it('ends at once when the signal fires after the first token', async () => {
    const { kind, location } = await start();
    const registry = await loadPlugins({ specs: [], logger: silent });
    expect(registry.isBuiltinBackend(kind)).toBe(true);
    const [backend] = await createBackends(registry, [{ name: 'b', kind, location }], context);
    const stop = new AbortController();
    const parts: ChatStreamPart[] = [];
    let thrown: unknown;
    const began = performance.now();
    let abortedAt = 0;
    try {
      for await (const part of backend.chat({ model: SLOW.id, messages: [{ role: 'user', content: 'tell me a long story' }], maxTokens: 200 }, { signal: stop.signal })) {
        parts.push(part);
        if (part.type === 'text-delta' && !abortedAt) {
          abortedAt = performance.now();
          stop.abort();
        }
      }
    } catch (error) {
      thrown = error;
    }
    const ended = performance.now();
    expect(abortedAt).toBeGreaterThan(began);
    // Well before the rest of the answer could have come (10 s at this speed).
    expect(ended - abortedAt).toBeLessThan(1_000);
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeLessThan(10);
    const end = parts.at(-1);
    if (thrown !== undefined) expect(PluginError.isInstance(thrown) && (thrown as PluginError).code).toBe('aborted');
    else expect(end?.type === 'error' && end.error.code).toBe('aborted');
    await backend.dispose?.();
  });
});
