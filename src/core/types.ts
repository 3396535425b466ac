/**
 * The routing core's public shapes. The REST facade and the RouterService RPCs translate their wire
 * formats to RouteRequest and back from RoutedStream / Explanation; every behaviour lives in the core.
 */
import type {
  Category,
  ChatMessage,
  ChatStreamPart,
  Complexity,
  FinishReason,
  ModelCapabilities,
  ResponseFormat,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  Usage,
} from '../plugin-api/index.js';
import type { CandidateFactors, RouteNeeds } from './scoring.js';

export type Protocol = 'rest' | 'connect' | 'grpc' | 'grpc-web';

export interface RouteRequest {
  /** The router model (e.g. "smarterrouter/main", "smarterrouter/fast") or a concrete model id (bypasses routing). */
  model: string;
  /** The conversation; adapters map OpenAI's "developer" role to "system". */
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /** See ChatRequest.parallelToolCalls. */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  stop?: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Per-request override of ROUTER_QUALITY_PREFERENCE (0 speed .. 1 quality). */
  qualityPreference?: number;
  providerOptions?: Record<string, Record<string, unknown>>;
  /**
   * False when the client waits for the whole answer (non-streaming): nothing reaches the client
   * before the end, so a failure anywhere in the generation can still move to the next model.
   * Undefined or true: only failures before the first token cascade.
   */
  stream?: boolean;
  /**
   * The client's Cache-Control (REST header, or the same key in RPC metadata): no-cache answers
   * fresh (and may store the answer), no-store neither reads nor writes the caches.
   */
  cacheControl?: { noCache?: boolean; noStore?: boolean };
  /**
   * Whose cached and in-flight answers this request may share: a digest of the caller's API key
   * (undefined: sent without one). Part of every cache key, so one key's answers (or a semantic
   * match of them) are never served to another key.
   */
  cacheScope?: string;
  /** Which door the request came through (stored with the decision). */
  protocol: Protocol;
  requestId?: string;
}

export interface Attempt {
  model: string;
  backend: string;
  ok: boolean;
  durationMs: number;
  error?: { code: string; message: string };
}

export type CacheStatus = 'miss' | 'hit' | 'semantic';

export interface RouteInfo {
  /** Id of this answer (chatcmpl-...), the key for feedback. */
  responseId: string;
  /** Unix seconds. */
  created: number;
  requestedModel: string;
  /** Router-wide key of the model that answers. */
  selectedModel: string;
  backend: string;
  category: Category;
  complexity: Complexity;
  complexityScore: number;
  qualityPreference: number;
  /** False when the client named a concrete model and routing was bypassed. */
  routed: boolean;
  attempts: Attempt[];
  cache: CacheStatus;
}

export interface RoutedStream {
  info: RouteInfo;
  /** The answer as typed parts; ends with exactly one finish or error part. */
  parts: AsyncIterable<ChatStreamPart>;
}

/** A non-streaming answer: the collected stream. */
export interface CollectedAnswer {
  text: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
}

export interface CandidateExplanation {
  model: string;
  backend: string;
  /** Present for ranked candidates. */
  total?: number;
  factors?: CandidateFactors;
  /** Factors estimated from priors rather than measured. */
  estimated?: string[];
  excluded: boolean;
  reason?: string;
}

export interface Explanation {
  category: Category;
  complexity: Complexity;
  complexityScore: number;
  confidence: number;
  classifier: string;
  needs: RouteNeeds;
  qualityPreference: number;
  selectedModel: string | null;
  candidates: CandidateExplanation[];
}

export interface ModelListing {
  id: string;
  backend: string;
  provider: string;
  family?: string;
  parameterCountB?: number;
  quantization?: string;
  contextLength?: number;
  capabilities: ModelCapabilities;
  available: boolean;
  /** True for the router's own names (smarterrouter/main and its aliases). */
  routerAlias: boolean;
  qualityPreference?: number;
}

export interface FeedbackInput {
  responseId: string;
  /** -1 (bad) .. 1 (good). */
  score: number;
  comment?: string;
}

/** Domain errors of the core, mapped to HTTP statuses and Connect codes in one place per door. */
export type RouterErrorCode =
  | 'invalid_request'
  | 'model_not_found'
  | 'no_candidates'
  | 'all_candidates_failed'
  /** Every model tried was busy (rate limited or overloaded): try again shortly. */
  | 'overloaded'
  | 'not_found'
  | 'disabled'
  | 'aborted';

const ROUTER_ERROR_MARK = Symbol.for('smarterrouter.core.router-error');

export class RouterError extends Error {
  readonly [ROUTER_ERROR_MARK] = true;
  constructor(
    readonly code: RouterErrorCode,
    message: string,
    readonly details: { param?: string; attempts?: Attempt[]; /** When a retry may succeed (REST: Retry-After). */ retryAfterSeconds?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RouterError';
  }
  static isInstance(error: unknown): error is RouterError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[ROUTER_ERROR_MARK] === true;
  }
}
