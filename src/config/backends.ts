/**
 * Which backends to start. ROUTER_BACKENDS (name=kind:location,...) when set; otherwise the
 * original single-backend variables (ROUTER_PROVIDER + its URL) so old setups work unchanged.
 */
import { ConfigError, parseJsonObject } from './spec.js';

export interface BackendSpec {
  /** Instance name, unique, [a-z0-9_-]. */
  name: string;
  /** Plugin kind: ollama, llama.cpp, openai, gguf, or a third-party backend's manifest name. */
  kind: string;
  /** Base URL or folder. */
  location: string;
  apiKey?: string;
  /** ROUTER_BACKEND_<NAME>_OPTIONS: more options for the plugin's create() (a JSON object). */
  options?: Record<string, unknown>;
}

interface SingleBackendVars {
  backends: string[];
  provider: string;
  ollamaUrl?: string;
  llamaCppUrl?: string;
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  ggufDir: string;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
const KIND_ALIASES: Record<string, string> = { llamacpp: 'llama.cpp', 'llama-cpp': 'llama.cpp', 'llama-swap': 'llama.cpp', openai_compatible: 'openai' };

export function apiKeyVariable(name: string): string {
  return `ROUTER_BACKEND_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;
}

export function optionsVariable(name: string): string {
  return `ROUTER_BACKEND_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_OPTIONS`;
}

/** The options object of one backend; name, location and apiKey have their own settings. */
function backendOptions(name: string, env: Record<string, string | undefined>): Record<string, unknown> | undefined {
  const variable = optionsVariable(name);
  const raw = env[variable]?.trim();
  if (!raw) return undefined;
  const options = parseJsonObject(variable, raw);
  for (const reserved of ['name', 'location', 'apiKey']) {
    if (reserved in options) throw new ConfigError(variable, `"${reserved}" is set by ROUTER_BACKENDS${reserved === 'apiKey' ? ` and ${apiKeyVariable(name)}` : ''}, not here`);
  }
  return options;
}

export function backendSpecsFrom(vars: SingleBackendVars, env: Record<string, string | undefined>): BackendSpec[] {
  if (vars.backends.length === 0) return [singleBackend(vars)];
  const specs: BackendSpec[] = [];
  for (const entry of vars.backends) {
    const eq = entry.indexOf('=');
    const colon = entry.indexOf(':', eq + 1);
    if (eq <= 0 || colon < 0) {
      throw new ConfigError('ROUTER_BACKENDS', `"${entry}" is not name=kind:location (e.g. gpu=ollama:http://10.0.0.5:11434)`);
    }
    const name = entry.slice(0, eq).trim();
    const rawKind = entry.slice(eq + 1, colon).trim().toLowerCase();
    const location = entry.slice(colon + 1).trim();
    if (!NAME.test(name)) throw new ConfigError('ROUTER_BACKENDS', `backend name "${name}" must be letters, digits, "_" or "-"`);
    if (!rawKind) throw new ConfigError('ROUTER_BACKENDS', `"${entry}" has no kind (e.g. ollama, llama.cpp, openai, gguf)`);
    if (!location) throw new ConfigError('ROUTER_BACKENDS', `"${entry}" has no location (a URL or a folder)`);
    if (specs.some((s) => s.name === name)) throw new ConfigError('ROUTER_BACKENDS', `backend name "${name}" is used twice`);
    const kind = KIND_ALIASES[rawKind] ?? rawKind;
    if (kind !== 'gguf' && /^(ollama|llama\.cpp|openai)$/.test(kind) && !/^https?:\/\//.test(location)) {
      throw new ConfigError('ROUTER_BACKENDS', `backend "${name}": location "${location}" must be an http(s) URL for kind ${kind}`);
    }
    const apiKey = env[apiKeyVariable(name)]?.trim() || undefined;
    const options = backendOptions(name, env);
    specs.push({ name, kind, location: location.replace(/\/+$/, ''), apiKey, ...(options ? { options } : {}) });
  }
  return specs;
}

function singleBackend(vars: SingleBackendVars): BackendSpec {
  switch (vars.provider) {
    case 'ollama':
      return { name: 'ollama', kind: 'ollama', location: vars.ollamaUrl ?? 'http://localhost:11434' };
    case 'llama.cpp':
      return { name: 'llamacpp', kind: 'llama.cpp', location: vars.llamaCppUrl ?? 'http://localhost:8080' };
    case 'openai':
      if (!vars.openaiBaseUrl) {
        throw new ConfigError('ROUTER_OPENAI_BASE_URL', 'is required when ROUTER_PROVIDER=openai (e.g. https://api.openai.com/v1)');
      }
      return { name: 'openai', kind: 'openai', location: vars.openaiBaseUrl, apiKey: vars.openaiApiKey };
    case 'gguf':
      return { name: 'gguf', kind: 'gguf', location: vars.ggufDir };
    default:
      throw new ConfigError('ROUTER_PROVIDER', `"${vars.provider}" is not allowed (allowed: ollama, llama.cpp, openai, gguf)`);
  }
}
