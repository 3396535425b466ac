/**
 * An inert backend plugin for tests that need one object honouring the contract and care about one
 * or two of its methods: every method answers "nothing here", chat ends at once with a finish part.
 */
import { SPECIFICATION_VERSION, type BackendPlugin } from '../../src/plugin-api/index.js';

export function fakeBackend(overrides: Partial<BackendPlugin> = {}): BackendPlugin {
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'fake',
    provider: 'test',
    capabilities: { loadedModels: false, load: false, unload: false, embeddings: false },
    listModels: async () => [],
    chat: async function* () {
      yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 } };
    },
    embed: async () => ({ embeddings: [], usage: { promptTokens: 0 } }),
    loadedModels: async () => [],
    load: async () => false,
    unload: async () => false,
    health: async () => ({ ok: true, latencyMs: 0 }),
    ...overrides,
  };
}
