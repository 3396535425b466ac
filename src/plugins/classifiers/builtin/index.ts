/**
 * The built-in request classifier: category (coding | reasoning | creativity | general) and
 * complexity of a chat conversation, computed locally in well under a millisecond. See
 * docs/classifier.md for how it works and how it was trained and measured.
 */
import {
  SPECIFICATION_VERSION,
  type ClassifierPlugin,
  type PluginDefinition,
} from '../../../plugin-api/index.js';
import { classify } from './classify.js';

export { classify } from './classify.js';

export const BUILTIN_CLASSIFIER_NAME = 'builtin';

export function createBuiltinClassifier(): ClassifierPlugin {
  return Object.freeze({
    specificationVersion: SPECIFICATION_VERSION,
    name: BUILTIN_CLASSIFIER_NAME,
    // Never null: the built-in is the classifier of last resort.
    classify: (input) => classify(input),
  } satisfies ClassifierPlugin);
}

export const builtinClassifierDefinition: PluginDefinition<'classifier'> = {
  manifest: {
    name: 'smarterrouter-classifier-builtin',
    version: '1.0.0',
    kind: 'classifier',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'Local linear classifier of request category and complexity (no network, sub-millisecond).',
  },
  create: () => createBuiltinClassifier(),
};
