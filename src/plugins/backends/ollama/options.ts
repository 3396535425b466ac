/**
 * Instance options of the Ollama backend, normalised once at create() with explicit defaults, so a
 * bad ROUTER_MODEL_KEEP_ALIVE fails at start-up rather than on every request.
 */
import { PluginError, type PluginOptions } from '../../../plugin-api/index.js';
import type { KeepAlive } from './wire.js';

export const DEFAULT_LOCATION = 'http://127.0.0.1:11434';
export const DEFAULT_KEEP_ALIVE = '5m';

export interface OllamaBackendOptions {
  name: string;
  /** Base URL without a trailing slash. */
  baseUrl: string;
  apiKey?: string;
  /** Sent as `keep_alive` on chat, embed and load. */
  keepAlive: KeepAlive;
  /** Most /api/show calls in flight at once while listing models. */
  showConcurrency: number;
  /** Time for the response headers of metadata calls (tags, show, ps, load, unload). */
  requestTimeoutMs: number;
  /** Time for a health probe; short, so a hung backend is reported down quickly. */
  healthTimeoutMs: number;
}

// A Go time.ParseDuration string: one or more <number><unit> groups, optionally signed (bare numbers are handled as seconds).
const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const SECONDS = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Ollama parses a JSON string keep_alive with Go's time.ParseDuration, which rejects a bare number
 * such as "300" or "-1" ("missing unit"). So numeric text is sent as a JSON number (seconds), and
 * duration text as a string.
 */
export function parseKeepAlive(value: unknown, backend: string): KeepAlive {
  if (value === undefined || value === null || value === '') return DEFAULT_KEEP_ALIVE;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (SECONDS.test(text)) return Number(text);
    if (GO_DURATION.test(text)) return text;
  }
  throw new PluginError({
    code: 'bad_request',
    message: `keepAlive ${JSON.stringify(value)} is not a Go duration ("5m", "1h30m"), a number of seconds, or -1 (forever)`,
    backend,
    retryable: false,
  });
}

function positiveInt(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : fallback;
}

export function normaliseOptions(options: PluginOptions): OllamaBackendOptions {
  const name = options.name || 'ollama';
  const location = (options.location ?? '').trim() || DEFAULT_LOCATION;
  if (!/^https?:\/\//i.test(location)) {
    throw new PluginError({ code: 'bad_request', message: `location "${location}" must be an http(s) URL`, backend: name, retryable: false });
  }
  return {
    name,
    baseUrl: location.replace(/\/+$/, ''),
    apiKey: typeof options.apiKey === 'string' && options.apiKey ? options.apiKey : undefined,
    keepAlive: parseKeepAlive(options.keepAlive, name),
    showConcurrency: positiveInt(options.showConcurrency, 4),
    requestTimeoutMs: positiveInt(options.requestTimeoutMs, 30_000),
    healthTimeoutMs: positiveInt(options.healthTimeoutMs, 5_000),
  };
}
