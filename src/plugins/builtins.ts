/**
 * The plugins that ship with the router, by kind and by the name configuration uses for them
 * (ROUTER_BACKENDS kinds, classifier names). The loader starts from this table and adds third-party
 * plugins on top; a third-party plugin may not reuse one of these names.
 */
import type { PluginDefinition, PluginKind } from '../plugin-api/index.js';
import { ggufBackendDefinition } from './backends/gguf/index.js';
import { llamaCppBackendDefinition } from './backends/llamacpp/index.js';
import { ollamaBackendDefinition } from './backends/ollama/index.js';
import { openaiBackendDefinition } from './backends/openai/index.js';
import { builtinClassifierDefinition } from './classifiers/builtin/index.js';
import { heuristicJudgeDefinition, llmJudgeDefinition } from './judges/index.js';

export type BuiltinPlugins = { readonly [K in PluginKind]: Readonly<Record<string, PluginDefinition<K>>> };

export const BUILTIN_PLUGINS: BuiltinPlugins = Object.freeze({
  backend: Object.freeze({
    ollama: ollamaBackendDefinition,
    'llama.cpp': llamaCppBackendDefinition,
    openai: openaiBackendDefinition,
    gguf: ggufBackendDefinition,
  }),
  classifier: Object.freeze({
    builtin: builtinClassifierDefinition,
  }),
  judge: Object.freeze({
    heuristic: heuristicJudgeDefinition,
    llm: llmJudgeDefinition,
  }),
});

/** Built-in backend kinds, in the order docs and error messages list them. */
export const BUILTIN_BACKEND_KINDS = Object.keys(BUILTIN_PLUGINS.backend);
