/**
 * SmarterRouter plugin contract, specification v1.
 *
 * Types only (plus the error classes in errors.ts): third-party packages depend on this module and
 * nothing else of the router. Every plugin object carries the literal `specificationVersion: 'v1'`;
 * a future v2 will live beside v1 and the loader will adapt v1 plugins.
 */
import type { PluginError } from './errors.js';

export const SPECIFICATION_VERSION = 'v1' as const;
export type SpecificationVersion = typeof SPECIFICATION_VERSION;

export type PluginKind = 'backend' | 'classifier' | 'judge';

// ---------------------------------------------------------------------------------------------
// Plugin definition (what a plugin module exports)

export interface PluginManifest<K extends PluginKind = PluginKind> {
  /** Package-style name, e.g. "smarterrouter-backend-acme". Unique among loaded plugins. */
  name: string;
  /** The plugin's own semver version. */
  version: string;
  kind: K;
  /** The contract version the plugin was built against. */
  specificationVersion: SpecificationVersion;
  description?: string;
}

/** Minimal structured logger handed to plugins (a pino child logger satisfies it). */
export interface PluginLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface PluginContext {
  logger: PluginLogger;
  /** The fetch to use for HTTP (tests may inject one). */
  fetch: typeof fetch;
  /** Aborted when the router shuts down. */
  signal: AbortSignal;
}

/**
 * What a plugin module exports (as `default` or as the named export `plugin`).
 * `create` receives the instance options (for a backend: its name, location, api key and any extra
 * options) and returns the implementation.
 */
export interface PluginDefinition<K extends PluginKind = PluginKind> {
  manifest: PluginManifest<K>;
  create(options: PluginOptions, context: PluginContext): PluginInstance<K> | Promise<PluginInstance<K>>;
}

export type PluginInstance<K extends PluginKind> = K extends 'backend'
  ? BackendPlugin
  : K extends 'classifier'
    ? ClassifierPlugin
    : K extends 'judge'
      ? JudgePlugin
      : never;

/** Options for one plugin instance. Backends always receive `name` and `location`. */
export interface PluginOptions {
  /** Instance name (for a backend: the name in ROUTER_BACKENDS, e.g. "gpu"). */
  name: string;
  /** For a backend: base URL or folder. */
  location?: string;
  apiKey?: string;
  /** Anything else a plugin understands, namespaced by the plugin's own keys. */
  [key: string]: unknown;
}

export interface CallOptions {
  /** Aborted when the client disconnects, a deadline passes or the router shuts down. */
  signal: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// Conversation shapes shared by backends, classifiers and judges

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export type ContentPart =
  | { type: 'text'; text: string }
  /** An image: `data` is base64 without a data: prefix, or `url` is an http(s) URL. */
  | {
      type: 'image';
      mediaType?: string;
      data?: string;
      url?: string;
      /** OpenAI's image detail (what the model sees and what it costs); backends without one ignore it. */
      detail?: 'auto' | 'low' | 'high';
    };

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text, exactly as the model produced it (OpenAI convention). */
  arguments: string;
}

export interface ChatMessage {
  role: ChatRole;
  content: string | ContentPart[];
  /** Optional participant name (OpenAI `name`). */
  name?: string;
  /** Tool calls an assistant message made. */
  toolCalls?: ToolCall[];
  /** For role "tool": the call this message answers. */
  toolCallId?: string;
  /** Reasoning text of a thinking model, when the client sends it back. */
  reasoning?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON schema of the arguments. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name?: string; schema?: Record<string, unknown>; strict?: boolean };

export interface ChatRequest {
  /** Backend-local model id (as listModels returned it). */
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /**
   * False: at most one tool call per answer (agents that run tools one at a time). Undefined: the
   * backend's default (parallel where supported). Backends without the setting ignore it.
   */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  stop?: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Plugin-specific settings, namespaced by plugin name; a plugin ignores other namespaces. */
  providerOptions?: Record<string, Record<string, unknown>>;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error' | 'other';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** Typed stream parts: every consumer switches on `type`. */
export type ChatStreamPart =
  | { type: 'text-delta'; delta: string }
  | { type: 'reasoning-delta'; delta: string }
  /**
   * A piece of a tool call. The first part for an index carries `id` and `name`; later parts append
   * to `argumentsDelta`. A backend that gets whole calls emits one part per call.
   */
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'finish'; finishReason: FinishReason; usage: Usage }
  /** A failure after the stream started. The stream ends after it. */
  | { type: 'error'; error: PluginError };

// ---------------------------------------------------------------------------------------------
// Backend

export interface ModelCapabilities {
  chat: boolean;
  vision: boolean;
  tools: boolean;
  embeddings: boolean;
  /** Emits reasoning text (thinking models). */
  thinking?: boolean;
}

export interface BackendModelInfo {
  /** Backend-local id, the one to pass to chat/embed. */
  id: string;
  family?: string;
  /** Parameter count in billions (7.6 for "7.6B"). */
  parameterCountB?: number;
  /** e.g. "Q4_K_M", "F16". */
  quantization?: string;
  contextLength?: number;
  capabilities: ModelCapabilities;
  /** Size on disk in bytes, when known. */
  sizeBytes?: number;
  /** Content digest; a changed digest means a changed model (re-profile). */
  digest?: string;
}

export interface BackendCapabilities {
  /** Can report which models are in memory. */
  loadedModels: boolean;
  /** Can load a model on request. */
  load: boolean;
  /** Can evict a model on request. */
  unload: boolean;
  embeddings: boolean;
}

export interface EmbedRequest {
  model: string;
  input: string[];
  dimensions?: number;
}

export interface EmbedResult {
  /** One vector per input, in order. */
  embeddings: number[][];
  usage: { promptTokens: number };
}

export interface LoadedModel {
  id: string;
  sizeBytes: number;
  /**
   * Bytes resident on the GPU: 0 for a model that runs on the CPU. Leave it out when the backend
   * cannot tell where the weights live (the router then estimates, or measures with nvidia-smi).
   */
  vramBytes?: number;
  expiresAt?: Date;
}

export interface HealthStatus {
  ok: boolean;
  latencyMs: number;
  message?: string;
}

export interface BackendPlugin {
  readonly specificationVersion: SpecificationVersion;
  /** Instance name, e.g. "gpu". */
  readonly name: string;
  /** Plugin kind name, e.g. "ollama". */
  readonly provider: string;
  readonly capabilities: BackendCapabilities;
  listModels(options: CallOptions): Promise<BackendModelInfo[]>;
  /**
   * Streams one answer. Failures before the first part throw (or reject on first `next()`) a
   * PluginError; failures after it are yielded as an `error` part. The stream always ends with
   * exactly one `finish` or `error` part.
   */
  chat(request: ChatRequest, options: CallOptions): AsyncIterable<ChatStreamPart>;
  embed(request: EmbedRequest, options: CallOptions): Promise<EmbedResult>;
  loadedModels(options: CallOptions): Promise<LoadedModel[]>;
  /** Returns false where the backend cannot load on request. */
  load(model: string, options: CallOptions): Promise<boolean>;
  /** Returns false where the backend cannot unload on request. */
  unload(model: string, options: CallOptions): Promise<boolean>;
  health(options: CallOptions): Promise<HealthStatus>;
  dispose?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Classifier

export const CATEGORIES = ['coding', 'reasoning', 'creativity', 'general'] as const;
export type Category = (typeof CATEGORIES)[number];
export const COMPLEXITIES = ['simple', 'medium', 'hard'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

export interface ClassificationInput {
  /** The whole conversation, system prompt included. */
  messages: ChatMessage[];
  tools?: ToolDefinition[];
}

export interface Classification {
  category: Category;
  complexity: Complexity;
  /** 0 (trivial) .. 1 (hardest). */
  complexityScore: number;
  /** 0..1: how sure the classifier is of `category`. */
  confidence: number;
  /** Optional per-category scores (sum to about 1). */
  categoryScores?: Partial<Record<Category, number>>;
}

export interface ClassifierPlugin {
  readonly specificationVersion: SpecificationVersion;
  readonly name: string;
  /** Returns null when it cannot decide (the next classifier, or the built-in, is used). */
  classify(input: ClassificationInput, options: CallOptions): Classification | null | Promise<Classification | null>;
  dispose?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Judge

export interface JudgeInput {
  category: Category;
  /** The conversation the model answered. */
  prompt: ChatMessage[];
  answer: string;
  /** What a good answer contains, when the prompt set provides it. */
  reference?: string;
}

export interface JudgeVerdict {
  /** 0 (useless) .. 1 (excellent). */
  score: number;
  /** Short justification, for logs and the dashboard. */
  reasoning?: string;
}

export interface JudgePlugin {
  readonly specificationVersion: SpecificationVersion;
  readonly name: string;
  judge(input: JudgeInput, options: CallOptions): Promise<JudgeVerdict>;
  dispose?(): Promise<void>;
}
