/**
 * Error classes of the plugin contract.
 *
 * A plugin may be built against its own copy of this module (a duplicate npm install), so
 * `instanceof` is not reliable across packages. Every error carries a `Symbol.for` mark and the
 * static `isInstance` checks the mark, not the prototype chain.
 */

const PLUGIN_ERROR_MARK = Symbol.for('smarterrouter.plugin-api.error');

/** Closed set of failure codes a plugin may report. The router maps each to retry / fallback policy. */
export const PLUGIN_ERROR_CODES = [
  /** Connection refused, DNS failure, socket reset before any answer. */
  'unreachable',
  /** No answer (or no first token) within the allowed time. */
  'timeout',
  /** The model (or route) does not exist on this backend. */
  'not_found',
  /** The backend rejected the request as invalid (4xx other than auth / not found / rate limit). */
  'bad_request',
  /** The backend answered something we cannot parse: HTML error page, malformed JSON, cut stream. */
  'bad_response',
  /** 429, 503, "server busy", no free slot: try elsewhere or later. */
  'overloaded',
  /** 401 / 403 from the backend. */
  'unauthorized',
  /** The operation is not supported by this backend or model (e.g. embeddings on a chat-only model). */
  'unsupported',
  /** The caller aborted (client disconnected, shutdown). */
  'aborted',
  /** Any other failure inside the plugin (a bug, an unexpected exception). */
  'internal',
] as const;

export type PluginErrorCode = (typeof PLUGIN_ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(PLUGIN_ERROR_CODES);

/** Codes for which trying another model or backend makes sense. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<PluginErrorCode> = new Set([
  'unreachable',
  'timeout',
  'not_found',
  'bad_response',
  'overloaded',
  'internal',
]);

export interface PluginErrorOptions {
  code: PluginErrorCode;
  message: string;
  /** Defaults by code: unreachable, timeout, not_found, bad_response, overloaded and internal are retryable. */
  retryable?: boolean;
  /** HTTP status the backend answered with, when there was one. */
  status?: number;
  /** Backend instance name (e.g. "gpu"). */
  backend?: string;
  /** Model id the call was for. */
  model?: string;
  /** For overloaded: how long the backend asked callers to wait (its Retry-After), in seconds. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class PluginError extends Error {
  readonly [PLUGIN_ERROR_MARK] = true;
  readonly code: PluginErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly backend?: string;
  readonly model?: string;
  readonly retryAfterSeconds?: number;

  constructor(options: PluginErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginError';
    this.code = options.code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(options.code);
    this.status = options.status;
    this.backend = options.backend;
    this.model = options.model;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** True for any PluginError, including ones created by another copy of this module. */
  static isInstance(error: unknown): error is PluginError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[PLUGIN_ERROR_MARK] === true;
  }

  /** Wraps anything thrown into a PluginError, keeping an existing one as is (adding names if missing). */
  static from(error: unknown, context: { backend?: string; model?: string; code?: PluginErrorCode } = {}): PluginError {
    if (PluginError.isInstance(error)) {
      // Ours and complete: as is. One from another copy of the contract (or an object that only
      // carries the mark) is rebuilt, so that a missing `retryable` takes its code's default and a
      // code outside the closed set reads as internal, whatever that copy did.
      const known = KNOWN_CODES.has(error.code);
      const ours = error instanceof PluginError && known;
      if (ours && (error.backend || !context.backend) && (error.model || !context.model)) return error;
      return new PluginError({
        code: known ? error.code : 'internal',
        message: known ? String(error.message) : `${String(error.message)} (unknown error code ${JSON.stringify(String(error.code)).slice(0, 40)})`,
        retryable: typeof error.retryable === 'boolean' ? error.retryable : undefined,
        status: error.status,
        backend: error.backend ?? context.backend,
        model: error.model ?? context.model,
        retryAfterSeconds: error.retryAfterSeconds,
        cause: (error as Error).cause,
      });
    }
    if (isAbortError(error)) {
      return new PluginError({ code: 'aborted', message: 'request aborted', retryable: false, ...context, cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new PluginError({ code: context.code ?? 'internal', message, backend: context.backend, model: context.model, cause: error });
  }

  override toString(): string {
    const where = [this.backend && `backend=${this.backend}`, this.model && `model=${this.model}`].filter(Boolean).join(' ');
    return `PluginError[${this.code}${this.status ? ` ${this.status}` : ''}]${where ? ` (${where})` : ''}: ${this.message}`;
  }
}

/** Thrown by the loader when a plugin module does not honour the contract. */
const PLUGIN_LOAD_ERROR_MARK = Symbol.for('smarterrouter.plugin-api.load-error');

export class PluginLoadError extends Error {
  readonly [PLUGIN_LOAD_ERROR_MARK] = true;
  readonly plugin: string;
  constructor(plugin: string, message: string, cause?: unknown) {
    super(`plugin "${plugin}": ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'PluginLoadError';
    this.plugin = plugin;
  }
  static isInstance(error: unknown): error is PluginLoadError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[PLUGIN_LOAD_ERROR_MARK] === true;
  }
}

export function isAbortError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'AbortError' || (PluginError.isInstance(error) && error.code === 'aborted');
}
