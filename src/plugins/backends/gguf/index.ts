/**
 * Plugin definition of the embedded GGUF backend (`ROUTER_BACKENDS=local=gguf:/models`).
 * Options: location (folder), threads, contextSize, maxLoadedModels, recursive, gpu, defaultMaxTokens.
 */
import { SPECIFICATION_VERSION, type BackendPlugin, type PluginDefinition } from '../../../plugin-api/index.js';
import { GgufBackend, GGUF_PROVIDER } from './backend.js';
import { resolveGgufOptions } from './options.js';

export const ggufBackendDefinition: PluginDefinition<'backend'> = {
  manifest: {
    name: GGUF_PROVIDER,
    version: '1.0.0',
    kind: 'backend',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'Runs GGUF models from a local folder in-process with node-llama-cpp (CPU by default).',
  },
  create(options, context): BackendPlugin {
    return new GgufBackend(resolveGgufOptions(options), context);
  },
};

export default ggufBackendDefinition;
export { GgufBackend, GGUF_PROVIDER } from './backend.js';
export { defaultThreads, resolveGgufOptions, DEFAULT_CONTEXT_SIZE, DEFAULT_MAX_TOKENS, type GgufBackendOptions } from './options.js';
export { scanModelFolder, describeHeader, type GgufFile } from './catalog.js';
