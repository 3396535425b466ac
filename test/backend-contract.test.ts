/**
 * The exported backend contract suite, run against every backend the router ships and against the
 * example third-party plugin: one set of assertions for all of them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendPlugin, PluginContext, PluginDefinition, PluginLogger } from '../src/plugin-api/index.js';
import { describeBackendContract, type BackendContractSubject } from '../src/plugin-api/testing/index.js';
import { createBackends, loadPlugins, type PluginRegistry } from '../src/plugins/loader.js';
import { createHttpFetch } from '../src/plugins/backends/node-fetch.js';
import { startLlamaCppSimulator, startOllamaSimulator, startOpenAISimulator, type SimModel } from '../src/simulators/index.js';
import { probeGgufInChildProcess, writeTinyGguf } from './support/tiny-gguf.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ECHO_DIR = join(REPO, 'examples/backend-plugin-echo');

const silent: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };
const context = (fetchImpl: typeof fetch = fetch): PluginContext => ({ logger: silent, fetch: fetchImpl, signal: new AbortController().signal });

/**
 * The HTTP backends run the suite twice: with the platform fetch (what a plugin author tests with)
 * and with the node:http fetch the router hands its backends at start-up.
 */
const routerFetch = createHttpFetch();
const FETCHES: Array<[string, typeof fetch]> = [
  ['fetch', fetch],
  ['node:http fetch', routerFetch],
];

const CHAT_MODEL: SimModel = { id: 'llama3.2:3b', parameterSizeB: 3.2, capabilities: { chat: true, tools: true } };
const EMBED_MODEL: SimModel = { id: 'nomic-embed-text:latest', capabilities: { embeddings: true, chat: false } };

let registry: Promise<PluginRegistry> | undefined;
/** One registry for the file: built-ins plus the example plugin, loaded the way the router loads them. */
const plugins = () => (registry ??= loadPlugins({ specs: [ECHO_DIR], logger: silent }));

/** Creates a backend through the loader, exactly as start-up does (validated and guarded). */
async function viaLoader(kind: string, name: string, location: string): Promise<{ backend: BackendPlugin; definition: PluginDefinition }> {
  const reg = await plugins();
  const [backend] = await createBackends(reg, [{ name, kind, location }], context());
  return { backend, definition: reg.backendDefinition(kind)! };
}

/** Creates a backend straight from its definition, so the suite sees the plugin itself, unguarded. */
async function direct(kind: string, options: Record<string, unknown> & { name: string; location: string }, fetchImpl: typeof fetch = fetch) {
  const definition = (await plugins()).backendDefinition(kind)!;
  return { backend: await definition.create(options, context(fetchImpl)), definition };
}

// The example third-party plugin: through the loader (what the router runs) and bare (what its author tests).
describeBackendContract('example echo plugin, through the loader', async () => ({
  ...(await viaLoader('smarterrouter-backend-echo', 'echo', 'memory')),
  chatModel: 'echo-small',
  embedModel: 'echo-embed',
}));

describeBackendContract('example echo plugin, unguarded', async () => ({
  ...(await direct('smarterrouter-backend-echo', { name: 'echo-raw', location: 'memory', delayMs: 1 })),
  chatModel: 'echo-large',
  embedModel: 'echo-embed',
}));

for (const [fetchName, fetchImpl] of FETCHES) {
  describeBackendContract(`ollama (simulator, ${fetchName})`, async (): Promise<BackendContractSubject> => {
    const sim = await startOllamaSimulator({ models: [CHAT_MODEL, EMBED_MODEL] });
    return {
      ...(await direct('ollama', { name: 'gpu', location: sim.url }, fetchImpl)),
      chatModel: CHAT_MODEL.id,
      embedModel: EMBED_MODEL.id,
      missingModel: 'no-such-model:7b',
      teardown: () => sim.close(),
    };
  });

  for (const mode of ['single', 'swap'] as const) {
    describeBackendContract(`llama.cpp ${mode} (simulator, ${fetchName})`, async (): Promise<BackendContractSubject> => {
      // A single llama-server serves one model; llama-swap fronts several.
      const sim = await startLlamaCppSimulator({ models: mode === 'single' ? [CHAT_MODEL] : [CHAT_MODEL, EMBED_MODEL], mode });
      return {
        ...(await direct('llama.cpp', { name: `llama-${mode}`, location: sim.url }, fetchImpl)),
        chatModel: CHAT_MODEL.id,
        embedModel: mode === 'swap' ? EMBED_MODEL.id : undefined,
        teardown: () => sim.close(),
      };
    });
  }

  describeBackendContract(`openai (simulator, ${fetchName})`, async (): Promise<BackendContractSubject> => {
    const sim = await startOpenAISimulator({ models: [CHAT_MODEL, EMBED_MODEL], apiKey: 'sk-test' });
    return {
      ...(await direct('openai', { name: 'cloud', location: `${sim.url}/v1`, apiKey: 'sk-test' }, fetchImpl)),
      chatModel: CHAT_MODEL.id,
      embedModel: EMBED_MODEL.id,
      teardown: () => sim.close(),
    };
  });
}

describeBackendContract(
  'gguf (tiny model)',
  async (): Promise<BackendContractSubject> => {
    const dir = await mkdtemp(join(tmpdir(), 'gguf-contract-'));
    const path = join(dir, 'tiny.gguf');
    await writeTinyGguf(path, { seed: 5 });
    // llama.cpp aborts the process on a bad file; proving it loads in a child keeps this worker alive.
    const probe = await probeGgufInChildProcess(path);
    if (!probe.ok) throw new Error(`tiny GGUF does not load:\n${probe.output}`);
    return {
      ...(await direct('gguf', { name: 'local', location: dir, threads: 1 })),
      chatModel: 'tiny',
      embedModel: 'tiny',
      teardown: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { timeoutMs: 60_000 },
);
