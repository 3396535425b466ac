/**
 * Options of one embedded GGUF backend instance, normalised once with explicit defaults. Values may
 * arrive as strings (environment variables), so numbers are parsed here and nowhere else.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { PluginError, type PluginOptions } from '../../../plugin-api/index.js';

/** The provider name of the embedded GGUF backend. */
export const GGUF_PROVIDER = 'gguf';

export interface GgufBackendOptions {
  /** Instance name (ROUTER_BACKENDS entry). */
  name: string;
  /** Absolute folder scanned for .gguf files. */
  location: string;
  /** CPU threads per context. */
  threads: number;
  /** Context size cap; the effective size is min(this, the model's training context). */
  contextSize: number;
  /** Models kept in memory at once; the least recently used one is unloaded beyond this. */
  maxLoadedModels: number;
  /** Also scan subfolders (ids then contain "/"). */
  recursive: boolean;
  /** Offload to a GPU when node-llama-cpp has a usable prebuilt binary for it. */
  gpu: boolean;
  /** Completion budget when a request sets no maxTokens. */
  defaultMaxTokens: number;
}

/** Default context cap: enough for routed chat turns without allocating a 32k+ KV cache per model. */
export const DEFAULT_CONTEXT_SIZE = 4096;
export const DEFAULT_MAX_TOKENS = 256;
/** Beyond ~8 threads CPU inference is memory-bandwidth bound and extra threads only add contention. */
const MAX_DEFAULT_THREADS = 8;

/**
 * One core is left to the event loop and the other work of the router. On 2 cores even two llama.cpp
 * threads contend badly (measured: 40 tokens took 3-49 s with default threads, ~45 ms with 1).
 */
export function defaultThreads(cores: number = availableParallelism()): number {
  if (cores <= 2) return 1;
  return Math.max(1, Math.min(cores - 1, MAX_DEFAULT_THREADS));
}

/** Every option the gguf backend reads: anything else (a misspelt "maxLoadedModel") stops start-up instead of silently not applying. */
const KNOWN_OPTIONS = new Set(['name', 'location', 'apiKey', 'threads', 'contextSize', 'maxLoadedModels', 'recursive', 'gpu', 'defaultMaxTokens']);

export function resolveGgufOptions(options: PluginOptions): GgufBackendOptions {
  const name = options.name;
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key) && options[key] !== undefined);
  if (unknown.length > 0) {
    throw invalid(name, unknown.map((k) => JSON.stringify(k)).join(', '), `is not a gguf option (known: ${[...KNOWN_OPTIONS].filter((k) => k !== 'name' && k !== 'location' && k !== 'apiKey').join(', ')})`);
  }
  if (typeof options.location !== 'string' || options.location.trim() === '') {
    throw invalid(name, 'location', 'must be the folder holding .gguf files');
  }
  return {
    name,
    location: resolve(options.location.trim()),
    threads: integer(name, 'threads', options.threads, defaultThreads(), 1, 1024),
    contextSize: integer(name, 'contextSize', options.contextSize, DEFAULT_CONTEXT_SIZE, 64, 1 << 22),
    maxLoadedModels: integer(name, 'maxLoadedModels', options.maxLoadedModels, 1, 1, 64),
    recursive: boolean(name, 'recursive', options.recursive, true),
    gpu: boolean(name, 'gpu', options.gpu, false),
    defaultMaxTokens: integer(name, 'defaultMaxTokens', options.defaultMaxTokens, DEFAULT_MAX_TOKENS, 1, 1 << 20),
  };
}

function integer(backend: string, key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const parsed = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw invalid(backend, key, `must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function boolean(backend: string, key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|1|yes|on)$/i.test(value.trim())) return true;
  if (typeof value === 'string' && /^(false|0|no|off)$/i.test(value.trim())) return false;
  throw invalid(backend, key, `must be a boolean, got ${JSON.stringify(value)}`);
}

function invalid(backend: string, key: string, message: string): PluginError {
  return new PluginError({ code: 'bad_request', message: `gguf option ${key} ${message}`, backend, retryable: false });
}
