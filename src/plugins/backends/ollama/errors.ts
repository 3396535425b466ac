/**
 * Ollama-specific refinements of the generic HTTP error mapping: Ollama reports several conditions
 * only through the message text of a 400/500 (`{"error":"..."}`), and the router's fallback policy
 * needs the real reason (another model may support tools; another backend may have free memory).
 */
import { PluginError, type PluginErrorCode } from '../../../plugin-api/index.js';
import type { HttpTarget } from '../http.js';

/**
 * The error for a call whose signal fired. fetch rejects with `signal.reason`, which is only an
 * AbortError when the caller used a bare abort(); a custom reason must still read as aborted, and a
 * deadline (AbortSignal.timeout) as timeout.
 */
export function abortedError(signal: AbortSignal, target: HttpTarget, cause: unknown): PluginError {
  const reason = signal.reason as { name?: string } | undefined;
  if (reason?.name === 'TimeoutError') {
    return new PluginError({ code: 'timeout', message: 'deadline passed before Ollama finished', ...target, cause });
  }
  return new PluginError({ code: 'aborted', message: 'request aborted', retryable: false, ...target, cause });
}

export function classifyOllamaMessage(message: string, fallback: PluginErrorCode): { code: PluginErrorCode; retryable?: boolean } {
  if (/model .*not found|no such model|pull the model|try pulling/i.test(message)) return { code: 'not_found' };
  // "registry.ollama.ai/library/x does not support tools|thinking|embeddings|insert|vision"
  // and "this model is missing data required for image input" (images to a model without a projector).
  if (/does not support|not supported|missing data required for image/i.test(message)) return { code: 'unsupported', retryable: true };
  if (/requires more system memory|out of memory|insufficient memory|server busy|too many requests|max(imum)? queue/i.test(message)) {
    return { code: 'overloaded' };
  }
  return { code: fallback };
}

/** Re-codes an error from http.ts by its message and makes sure backend and model are named. */
export function refineError(error: unknown, signal: AbortSignal, backend: string, model?: string): PluginError {
  if (signal.aborted) return abortedError(signal, { backend, model }, error);
  const base = PluginError.from(error, { backend, model });
  if (base.code !== 'bad_request' && base.code !== 'bad_response') return withModelInMessage(base, model);
  const { code, retryable } = classifyOllamaMessage(base.message, base.code);
  if (code === base.code) return withModelInMessage(base, model);
  return withModelInMessage(
    new PluginError({ code, retryable, message: base.message, status: base.status, backend: base.backend, model: base.model, retryAfterSeconds: base.retryAfterSeconds, cause: base.cause }),
    model,
  );
}

/** A not_found must say which model, whatever the server's wording. */
function withModelInMessage(error: PluginError, model: string | undefined): PluginError {
  if (error.code !== 'not_found' || !model || error.message.includes(model)) return error;
  return new PluginError({
    code: error.code,
    retryable: error.retryable,
    message: `model "${model}" not found: ${error.message}`,
    status: error.status,
    backend: error.backend,
    model: error.model,
    cause: error.cause,
  });
}
