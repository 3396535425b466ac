/**
 * The optional embedding classifier (ROUTER_CLASSIFIER_EMBEDDINGS), as a classifier plugin of
 * contract v1. Unlike the built-in it needs the router's embedder, so the router creates it itself
 * (src/server/wiring.ts, through fromConfig.ts) and asks it just before the built-in classifier.
 * See docs/classification.md.
 */
import { SPECIFICATION_VERSION, type PluginContext, type PluginDefinition, type PluginOptions } from '../../../plugin-api/index.js';
import { createEmbeddingClassifier, type EmbedTexts } from './classifier.js';

export { createEmbeddingClassifier, EMBEDDING_CLASSIFIER_NAME, type EmbeddingClassifier, type EmbeddingClassifierSettings, type EmbedTexts, type WarmState } from './classifier.js';
export { loadExemplars, type Exemplar, type ExemplarSet } from './exemplars.js';
export { embeddingText, MAX_EMBED_CHARS } from './text.js';

/** What create() needs besides the instance name. */
export interface EmbeddingClassifierOptions extends PluginOptions {
  embed: EmbedTexts;
  model: string;
  file: string;
  timeoutMs: number;
  weight: number;
}

export const embeddingClassifierDefinition: PluginDefinition<'classifier'> = {
  manifest: {
    name: 'smarterrouter-classifier-embedding',
    version: '1.0.0',
    kind: 'classifier',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'Nearest labelled exemplars in the embedding model\'s space, blended with the built-in classifier (ROUTER_CLASSIFIER_EMBEDDINGS).',
  },
  create(options: PluginOptions, context: PluginContext) {
    const o = options as Partial<EmbeddingClassifierOptions>;
    if (typeof o.embed !== 'function') throw new TypeError('embedding classifier: options.embed must be a function');
    if (typeof o.model !== 'string' || !o.model) throw new TypeError('embedding classifier: options.model must name the embedding model');
    if (typeof o.file !== 'string' || !o.file) throw new TypeError('embedding classifier: options.file must be a file path');
    if (typeof o.timeoutMs !== 'number' || !(o.timeoutMs > 0)) throw new TypeError('embedding classifier: options.timeoutMs must be a positive number');
    if (typeof o.weight !== 'number' || !(o.weight >= 0 && o.weight <= 1)) throw new TypeError('embedding classifier: options.weight must be in 0..1');
    return createEmbeddingClassifier({
      embed: o.embed,
      model: o.model,
      file: o.file,
      timeoutMs: o.timeoutMs,
      weight: o.weight,
      signal: context.signal,
      logger: context.logger,
    });
  },
};
