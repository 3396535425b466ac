/**
 * Built-in judges: the heuristic judge (no network, the default), the LLM judge (a rubric prompt to
 * a model) and the fallback wrapper that pairs them.
 */
export { createHeuristicJudge, heuristicJudgeDefinition, heuristicScore } from './heuristic.js';
export {
  backoff,
  createLlmJudge,
  isTransient,
  llmJudgeDefinition,
  parseJudgeScore,
  parseRetryAfter,
  type LlmJudgeOptions,
  type ParsedJudgeScore,
} from './llm.js';
export { withFallback } from './fallback.js';
export { guardJudge } from './guard.js';
export { buildJudgeMessages } from './rubric.js';
export {
  checkCode,
  extractCodeBlocks,
  javascriptProblem,
  pythonProblem,
  sniffLanguage,
  type CodeBlock,
  type CodeCheck,
  type CodeVerdict,
} from './code-check.js';
