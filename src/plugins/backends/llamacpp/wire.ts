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
  modalities?: { vision?: boolean } | null;
  model_path?: string;
  chat_template?: string;
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
