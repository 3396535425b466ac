/**
 * Ollama backend plugin (native API). Options: name, location (base URL), keepAlive (Go duration,
 * seconds or -1; the router passes ROUTER_MODEL_KEEP_ALIVE), apiKey (Bearer, for Ollama behind a
 * proxy). Tuning: showConcurrency, requestTimeoutMs, healthTimeoutMs.
 */
import { SPECIFICATION_VERSION, type PluginContext, type PluginDefinition, type PluginOptions } from '../../../plugin-api/index.js';
import { OllamaBackend } from './backend.js';
import { normaliseOptions } from './options.js';

export { OllamaBackend } from './backend.js';
export { normaliseOptions, parseKeepAlive, DEFAULT_KEEP_ALIVE, type OllamaBackendOptions } from './options.js';
export { parseParameterSize } from './models.js';
export type { OllamaProviderOptions } from './request.js';

export function createOllamaBackend(options: PluginOptions, context: PluginContext): OllamaBackend {
  return new OllamaBackend(normaliseOptions(options), context);
}

export const ollamaBackendDefinition: PluginDefinition<'backend'> = {
  manifest: {
    name: 'ollama',
    version: '1.0.0',
    kind: 'backend',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'Ollama native API: discovery with capabilities, streamed chat, embeddings, /api/ps and keep_alive load/unload.',
  },
  create: createOllamaBackend,
};

export default ollamaBackendDefinition;
