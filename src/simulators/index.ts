/**
 * Protocol-faithful simulators of the backends SmarterRouter talks to. Used by the test suite,
 * `npm run demo` and `npm run bench`. See types.ts for the contract.
 */
export type {
  SimModel,
  FailureMode,
  SimulatorOptions,
  RecordedRequest,
  RunningSimulator,
  LlamaCppMode,
} from './types.js';
export { startOpenAISimulator } from './openai.js';
export { startLlamaCppSimulator } from './llamacpp.js';
export { startOllamaSimulator } from './ollama.js';
export { demoFleet, type DemoFleet } from './fleet.js';
/** The simulators' deterministic embedding function (tests can compute expected vectors with it). */
export { embedText } from './embeddings.js';
