/**
 * Plugin definition of the embedded GGUF backend (`ROUTER_BACKENDS=local=gguf:/models`).
 * Options: location (folder), threads, contextSize, maxLoadedModels, recursive, gpu, defaultMaxTokens.
 */
import { SPECIFICATION_VERSION, type BackendPlugin, type PluginDefinition } from '../../../plugin-api/index.js';
// Only light modules here: the manifest must not pull in node-llama-cpp.
import { GGUF_PROVIDER, resolveGgufOptions } from './options.js';

export const ggufBackendDefinition: PluginDefinition<'backend'> = {
  manifest: {
    name: GGUF_PROVIDER,
    version: '1.0.0',
    kind: 'backend',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'Runs GGUF models from a local folder in-process with node-llama-cpp (CPU by default).',
  },
  async create(options, context): Promise<BackendPlugin> {
    const resolved = resolveGgufOptions(options);
    // node-llama-cpp (about 25 MB resident) loads only when a GGUF backend is configured.
    const { GgufBackend } = await import('./backend.js');
    return new GgufBackend(resolved, context);
  },
};

export default ggufBackendDefinition;
export { defaultThreads, resolveGgufOptions, DEFAULT_CONTEXT_SIZE, DEFAULT_MAX_TOKENS, type GgufBackendOptions } from './options.js';
