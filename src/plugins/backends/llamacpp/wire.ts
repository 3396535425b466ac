/**
 * What llama-server (single-model and router mode) and llama-swap report about their models, and the
 * mapping to BackendModelInfo. Field names follow the upstream servers; every field is optional
 * because servers of different ages (and a model still loading) leave them out.
 */
import { createHash } from 'node:crypto';
import type { BackendModelInfo, ModelCapabilities } from '../../../plugin-api/index.js';
import { baseName, inferModelInfo } from '../openai/model-info.js';

/** The three shapes a llama.cpp location can have (see the plugin's header comment). */
export type LlamaCppMode = 'single' | 'swap' | 'router';

export interface WireMeta {
  n_params?: number;
  n_ctx_train?: number;
  n_ctx?: number;
  size?: number;
  [key: string]: unknown;
}

export interface WireModelEntry {
  id?: unknown;
  name?: unknown;
  path?: unknown;
  meta?: WireMeta | null;
  architecture?: { input_modalities?: unknown } | null;
  description?: unknown;
  /** Router mode: load state and the command line the model runs (or will run) with. */
  status?: { value?: unknown; failed?: unknown; exit_code?: unknown; args?: unknown } | null;
  /** Capability names some servers list (llama-swap metadata, LM Studio-style). */
  capabilities?: unknown;
  owned_by?: unknown;
}

export interface WireProps {
  default_generation_settings?: { n_ctx?: number } | null;
  /** Newer builds: what the loaded model (and its mmproj) takes as input. */
  modalities?: { vision?: boolean; audio?: boolean } | null;
  model_path?: string;
  chat_template?: string;
  /**
   * Newer builds: what llama.cpp read from the chat template (`supports_tools`, `supports_tool_calls`,
   * `supports_system_role`, `supports_parallel_tool_calls`, ...). Older builds leave it out.
   */
  chat_template_caps?: Record<string, unknown> | null;
}

/** The part of /props that describes what a model can do (no context, no path: see capabilityProps). */
export type WireCapabilityProps = Pick<WireProps, 'modalities' | 'chat_template' | 'chat_template_caps'>;

/**
 * Only the capability fields of a model's /props. Swap and router mode ask /props only while a model
 * is loaded; taking its path or context from there would change the model's digest (and so trigger
 * a new profiling run) whenever it happens to be loaded at listing time.
 */
export function capabilityProps(props: WireProps): WireCapabilityProps {
  const out: WireCapabilityProps = {};
  if (props.modalities && typeof props.modalities === 'object') out.modalities = props.modalities;
  if (typeof props.chat_template === 'string') out.chat_template = props.chat_template;
  if (props.chat_template_caps && typeof props.chat_template_caps === 'object') out.chat_template_caps = props.chat_template_caps;
  return out;
}

/**
 * Whether the server says its chat template takes tools: `chat_template_caps.supports_tools`
 * (or `supports_tool_calls` when only that one is there). Undefined when it does not say (an older
 * build, a failed /props): the caller keeps its guess from the model id.
 */
export function toolsFromProps(props?: WireProps): boolean | undefined {
  const caps = props?.chat_template_caps;
  if (!caps || typeof caps !== 'object') return undefined;
  if (typeof caps.supports_tools === 'boolean') return caps.supports_tools;
  if (typeof caps.supports_tool_calls === 'boolean') return caps.supports_tool_calls;
  return undefined;
}

export interface WireRunning {
  running?: { model?: string; state?: string }[];
}

export function statusOf(entry: WireModelEntry): string | undefined {
  return typeof entry.status?.value === 'string' ? entry.status.value : undefined;
}

/** Builds model info from what the server says, filling the gaps by inference from the id. */
export function toModelInfo(entry: WireModelEntry & { id: string }, props?: WireProps): BackendModelInfo {
  const path = typeof entry.path === 'string' ? entry.path : props?.model_path;
  // The id is often an alias ("qwen-coder"); the GGUF file name says more about size and quantisation.
  const inferred = inferModelInfo(entry.id);
  const fromPath = path ? inferModelInfo(baseName(path)) : undefined;
  const meta = entry.meta ?? undefined;
  const capabilities: ModelCapabilities = { ...inferred.capabilities };
  if (fromPath?.capabilities.embeddings) Object.assign(capabilities, fromPath.capabilities);
  const vision = visionFrom(entry, props);
  if (vision !== undefined && capabilities.chat) capabilities.vision = vision;
  if (capabilities.chat && !capabilities.thinking && /<think>|reasoning_content|enable_thinking/.test(props?.chat_template ?? '')) {
    capabilities.thinking = true;
  }
  if (Array.isArray(entry.capabilities)) applyCapabilityNames(capabilities, entry.capabilities);
  // The server's own reading of the chat template beats any name: for a template without tool
  // support llama.cpp has only a generic prompt-and-grammar stand-in, so such a model is not offered
  // to requests that need tools.
  const tools = toolsFromProps(props);
  if (tools !== undefined) capabilities.tools = capabilities.chat && tools;

  // llama-swap users often describe a model ("Qwen 2.5 Coder 7B Q4_K_M") under a short alias.
  const described = typeof entry.description === 'string' ? inferModelInfo(entry.description) : undefined;
  const nParams = positive(meta?.n_params);
  const parameterCountB =
    nParams !== undefined
      ? Math.round(nParams / 1e7) / 100
      : (inferred.parameterCountB ?? fromPath?.parameterCountB ?? described?.parameterCountB);
  // The context the server was started with is what a request can use; the training context is only
  // an upper bound when the server does not say.
  const contextLength =
    positive(props?.default_generation_settings?.n_ctx) ??
    positive(meta?.n_ctx) ??
    contextFromArgs(entry.status?.args) ??
    positive(meta?.n_ctx_train);
  const sizeBytes = positive(meta?.size);
  const family = inferred.family ?? fromPath?.family;
  const quantization = inferred.quantization ?? fromPath?.quantization ?? described?.quantization;
  const info: BackendModelInfo = { id: entry.id, capabilities };
  if (family) info.family = family;
  if (parameterCountB !== undefined) info.parameterCountB = parameterCountB;
  if (quantization) info.quantization = quantization;
  if (contextLength !== undefined) info.contextLength = contextLength;
  if (sizeBytes !== undefined) info.sizeBytes = sizeBytes;
  // llama.cpp has no content digest; a different file (path, size or parameter count) is a different model.
  if (path || sizeBytes !== undefined || nParams !== undefined) {
    info.digest = createHash('sha256').update(`${path ?? entry.id}|${sizeBytes ?? ''}|${nParams ?? ''}`).digest('hex');
  }
  return info;
}

function visionFrom(entry: WireModelEntry, props?: WireProps): boolean | undefined {
  if (typeof props?.modalities?.vision === 'boolean') return props.modalities.vision;
  const inputs = entry.architecture?.input_modalities;
  if (Array.isArray(inputs)) return inputs.includes('image');
  return undefined;
}

function applyCapabilityNames(capabilities: ModelCapabilities, names: unknown[]): void {
  const set = new Set(names.filter((n): n is string => typeof n === 'string').map((n) => n.toLowerCase()));
  if (set.has('vision') || set.has('image')) capabilities.vision = true;
  if (set.has('tools')) capabilities.tools = true;
  if (set.has('thinking') || set.has('reasoning')) capabilities.thinking = true;
  if (set.has('embedding') || set.has('embeddings')) {
    capabilities.embeddings = true;
    if (!set.has('completion') && !set.has('chat')) capabilities.chat = false;
  }
}

/** Router mode: `--ctx-size N` / `-c N` in the model's command line. */
function contextFromArgs(args: unknown): number | undefined {
  if (!Array.isArray(args)) return undefined;
  const at = args.findIndex((arg) => arg === '--ctx-size' || arg === '-c');
  return at >= 0 ? positive(Number(args[at + 1])) : undefined;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
