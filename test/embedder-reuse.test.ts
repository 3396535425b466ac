/**
 * Embedder.embedText, the router's own single-text embeddings (semantic cache, embedding
 * classifier), against a real Ollama simulator: a text embedded in the last minute, or being
 * embedded, is not sent to the backend again; failures and abandoned calls are not reused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedder } from '../src/core/cache/embedder.js';
import { ModelRegistry } from '../src/core/registry.js';
import { ollamaBackendDefinition } from '../src/plugins/backends/ollama/index.js';
import type { BackendPlugin, PluginLogger } from '../src/plugin-api/index.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';

const NOMIC = 'nomic-embed-text:latest';
const quiet: PluginLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let sim: RunningSimulator;
let registry: ModelRegistry;
let clock = 0;
let embedder: Embedder;

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: NOMIC, capabilities: { embeddings: true }, embeddingDim: 64 }] });
  const backend = (await ollamaBackendDefinition.create({ name: 'sim', location: sim.url }, { logger: quiet, fetch, signal: new AbortController().signal })) as BackendPlugin;
  registry = new ModelRegistry([backend], { prefix: '', logger: quiet });
  await registry.refresh(new AbortController().signal);
  embedder = new Embedder(registry, { embedModel: NOMIC, routerNames: ['smarterrouter/main'], timeoutMs: 10_000 }, () => clock);
});

afterAll(async () => {
  await sim?.close();
});

/** The /api/embed calls the simulator saw since request number `from`, as their inputs. */
function embedCalls(from: number): string[][] {
  return sim.requests.slice(from).filter((r) => r.path === '/api/embed').map((r) => (r.body as { input: string[] }).input);
}

const live = () => new AbortController().signal;

describe('Embedder.embedText', () => {
  it('reuses a vector for the same text for a minute, under any name of the embedding model', async () => {
    const mark = sim.requests.length;
    const first = await embedder.embedText('', 'the same prompt', live());
    const again = await embedder.embedText(NOMIC, 'the same prompt', live());
    expect(again).toEqual(first);
    await embedder.embedText('', 'another prompt', live());
    expect(embedCalls(mark)).toEqual([['the same prompt'], ['another prompt']]);
    clock += 61_000;
    await embedder.embedText('', 'the same prompt', live());
    expect(embedCalls(mark)).toHaveLength(3);
  });

  it('shares one backend call between callers asking at the same time', async () => {
    const mark = sim.requests.length;
    const [a, b] = await Promise.all([embedder.embedText('', 'asked twice at once', live()), embedder.embedText('', 'asked twice at once', live())]);
    expect(a).toEqual(b);
    expect(embedCalls(mark)).toEqual([['asked twice at once']]);
  });

  it('does not keep a failure: the next caller asks the backend again', async () => {
    const mark = sim.requests.length;
    sim.setFailure('http500', NOMIC);
    await expect(embedder.embedText('', 'fails once', live())).rejects.toThrow();
    sim.setFailure('none');
    expect(await embedder.embedText('', 'fails once', live())).toHaveLength(64);
    expect(embedCalls(mark)).toHaveLength(2);
  });

  it('a caller that leaves does not fail another one waiting on the same call', async () => {
    sim.setFailure('slow-first-token', NOMIC);
    const leaving = new AbortController();
    const first = embedder.embedText('', 'one caller leaves', leaving.signal);
    const second = embedder.embedText('', 'one caller leaves', live());
    await new Promise((r) => setTimeout(r, 50));
    sim.setFailure('none');
    leaving.abort(new Error('client went away'));
    await expect(first).rejects.toThrow();
    expect(await second).toHaveLength(64);
  });

  it('a waiting caller whose own signal aborts stops waiting at once', async () => {
    sim.setFailure('slow-first-token', NOMIC);
    try {
      const owner = embedder.embedText('', 'slow to embed', live());
      const impatient = new AbortController();
      const waiting = embedder.embedText('', 'slow to embed', impatient.signal);
      const started = performance.now();
      impatient.abort(new Error('gave up'));
      await expect(waiting).rejects.toThrow('gave up');
      expect(performance.now() - started).toBeLessThan(1000);
      sim.setFailure('none');
      owner.catch(() => {});
    } finally {
      sim.setFailure('none');
    }
  });
});
