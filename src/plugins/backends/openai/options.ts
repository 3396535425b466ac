/**
 * Option parsing shared by the OpenAI-compatible backends: PluginOptions is an open record, so every
 * value is checked once here and the plugins work with a typed, defaulted object.
 */
import { PluginError, type PluginOptions } from '../../../plugin-api/index.js';

export interface HttpBackendOptions {
  name: string;
  /** Base URL without trailing slash. */
  baseUrl: string;
  headers: Record<string, string>;
  /** Milliseconds until the first streamed part (0 = only the caller's signal limits it). */
  firstTokenTimeoutMs: number;
  /** Milliseconds for metadata calls: model lists, health, load/unload requests. */
  requestTimeoutMs: number;
}

export function parseHttpBackendOptions(
  options: PluginOptions,
  provider: string,
  defaults: { firstTokenTimeoutMs: number; requestTimeoutMs: number },
): HttpBackendOptions {
  const name = typeof options.name === 'string' && options.name ? options.name : provider;
  const location = typeof options.location === 'string' ? options.location.trim() : '';
  if (!/^https?:\/\//i.test(location)) {
    throw new PluginError({
      code: 'bad_request',
      message: `backend "${name}" (${provider}): location must be an http(s) URL, got ${JSON.stringify(location)}`,
      backend: name,
      retryable: false,
    });
  }
  const headers: Record<string, string> = {};
  if (options.headers && typeof options.headers === 'object') {
    for (const [key, value] of Object.entries(options.headers as Record<string, unknown>)) {
      if (typeof value === 'string') headers[key.toLowerCase()] = value;
    }
  }
  if (typeof options.apiKey === 'string' && options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return {
    name,
    baseUrl: location.replace(/\/+$/, ''),
    headers,
    firstTokenTimeoutMs: nonNegative(options.firstTokenTimeoutMs, defaults.firstTokenTimeoutMs),
    requestTimeoutMs: nonNegative(options.requestTimeoutMs, defaults.requestTimeoutMs),
  };
}

function nonNegative(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fallback;
}
