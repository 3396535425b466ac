/**
 * The slice of Ollama's native API (docs/api.md, api/types.go) this plugin reads and writes.
 * Every response field is optional: different Ollama versions omit different ones, and the parsers
 * check what they use instead of trusting the shape.
 */

/** `keep_alive`: a Go duration string ("5m", "0") or a number of seconds (negative = forever). */
export type KeepAlive = string | number;

export interface OllamaDetails {
  parent_model?: string;
  format?: string;
  family?: string;
  families?: string[] | null;
  parameter_size?: string;
  quantization_level?: string;
  context_length?: number;
  embedding_length?: number;
}

export interface OllamaTagModel {
  name?: string;
  model?: string;
  modified_at?: string;
  size?: number;
  digest?: string;
  details?: OllamaDetails;
  capabilities?: string[];
}

export interface OllamaTagsResponse {
  models?: OllamaTagModel[];
}

export interface OllamaShowResponse {
  template?: string;
  details?: OllamaDetails;
  model_info?: Record<string, unknown>;
  projector_info?: Record<string, unknown>;
  capabilities?: string[];
}

export interface OllamaPsModel {
  name?: string;
  model?: string;
  size?: number;
  size_vram?: number;
  digest?: string;
  expires_at?: string;
  context_length?: number;
}

export interface OllamaPsResponse {
  models?: OllamaPsModel[];
}

export interface OllamaToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  thinking?: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
  tool_call_id?: string;
}

export interface OllamaTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: true;
  tools?: OllamaTool[];
  format?: 'json' | Record<string, unknown>;
  options?: Record<string, unknown>;
  keep_alive?: KeepAlive;
  think?: boolean | string;
}

/** One NDJSON line of a streamed /api/chat answer. */
export interface OllamaChatChunk {
  model?: string;
  message?: {
    role?: string;
    content?: string;
    thinking?: string;
    tool_calls?: { id?: string; function?: { index?: number; name?: string; arguments?: unknown } }[];
  };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: unknown;
}

export interface OllamaEmbedResponse {
  embeddings?: unknown;
  prompt_eval_count?: number;
}
