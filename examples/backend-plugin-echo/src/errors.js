// @ts-check
/**
 * This plugin's own copy of the contract's error class.
 *
 * The router recognises plugin errors by the `Symbol.for('smarterrouter.plugin-api.error')` mark,
 * never by `instanceof`, because a plugin usually ends up with its own copy of the contract package
 * (a different version, or npm did not dedupe). This file proves that: it shares no code with the
 * router, yet the router treats these errors exactly like its own PluginError.
 *
 * A published plugin would normally just `import { PluginError } from 'smarterrouter/plugin-api'`.
 */

const PLUGIN_ERROR_MARK = Symbol.for('smarterrouter.plugin-api.error');

/** Codes for which the router may try another model or backend (the contract's defaults). */
const RETRYABLE = new Set(['unreachable', 'timeout', 'not_found', 'bad_response', 'overloaded', 'internal']);

/**
 * @typedef {import('../../../src/plugin-api/index.js').PluginErrorCode} PluginErrorCode
 */

export class EchoPluginError extends Error {
  /**
   * @param {{ code: PluginErrorCode; message: string; retryable?: boolean; status?: number; backend?: string; model?: string; cause?: unknown }} options
   */
  constructor(options) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginError';
    /** @type {true} */
    this[PLUGIN_ERROR_MARK] = true;
    this.code = options.code;
    this.retryable = options.retryable ?? RETRYABLE.has(options.code);
    this.status = options.status;
    this.backend = options.backend;
    this.model = options.model;
  }
}
