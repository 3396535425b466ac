/**
 * Turns Ollama's /api/tags entry plus its /api/show answer into the router's BackendModelInfo:
 * capabilities, context length, parameter count, quantization. Older Ollama versions do not report
 * `capabilities`, so those are inferred from the family, the name, the projector and the template.
 */
import type { BackendModelInfo, ModelCapabilities } from '../../../plugin-api/index.js';
import type { OllamaShowResponse, OllamaTagModel } from './wire.js';

const UNIT: Record<string, number> = { K: 1e-6, M: 1e-3, B: 1, T: 1e3 };

/**
 * "7.6B" -> 7.6, "494.03M" -> 0.49403, "8x7B" -> 56 (experts times size: the total, which is what
 * memory needs), "1.5T" -> 1500. Returns undefined for anything else.
 */
export function parseParameterSize(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const match = /^\s*(?:(\d+)\s*x\s*)?(\d+(?:\.\d+)?)\s*([KMBT])\s*$/i.exec(text);
  if (!match) return undefined;
  const experts = match[1] ? Number(match[1]) : 1;
  const value = experts * Number(match[2]) * UNIT[match[3].toUpperCase()];
  return value > 0 ? round(value) : undefined;
}

function round(value: number): number {
  return Math.round(value * 1e5) / 1e5;
}

function positiveNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function contextLengthOf(show: OllamaShowResponse | undefined, tag: OllamaTagModel): number | undefined {
  const info = show?.model_info ?? {};
  const arch = info['general.architecture'];
  if (typeof arch === 'string') {
    const fromInfo = positiveNumber(info[`${arch}.context_length`]);
    if (fromInfo) return fromInfo;
  }
  // Some GGUFs name the architecture differently from the key prefix; any "*.context_length" will do.
  for (const [key, value] of Object.entries(info)) {
    if (key.endsWith('.context_length') && positiveNumber(value)) return value as number;
  }
  return positiveNumber(show?.details?.context_length) ?? positiveNumber(tag.details?.context_length);
}

function parameterCountOf(show: OllamaShowResponse | undefined, tag: OllamaTagModel): number | undefined {
  // The GGUF count is exact ("8x7B" overstates Mixtral's shared weights); the label is the fallback.
  const exact = positiveNumber(show?.model_info?.['general.parameter_count']);
  if (exact) return round(exact / 1e9);
  return parseParameterSize(show?.details?.parameter_size) ?? parseParameterSize(tag.details?.parameter_size);
}

// Encoder-only architectures Ollama serves for embeddings.
const EMBEDDING_FAMILIES = new Set(['bert', 'nomic-bert', 'nomic-bert-moe', 'xlm-roberta', 'jina-bert-v2']);

function inferCapabilities(show: OllamaShowResponse | undefined, tag: OllamaTagModel, id: string): ModelCapabilities {
  const details = { ...tag.details, ...show?.details };
  const families = [details.family, ...(details.families ?? [])].filter((f): f is string => typeof f === 'string').map((f) => f.toLowerCase());
  const embeddings = families.some((f) => EMBEDDING_FAMILIES.has(f)) || /embed/i.test(id);
  const projector = show?.projector_info && Object.keys(show.projector_info).length > 0;
  const vision = !embeddings && (Boolean(projector) || families.some((f) => f === 'clip' || f === 'mllama'));
  // Before `capabilities` existed, Ollama itself decided tool support by the template using .Tools.
  const template = show?.template ?? '';
  return {
    chat: !embeddings,
    vision,
    tools: !embeddings && /\.Tools\b/.test(template),
    embeddings,
    thinking: !embeddings && /\.(Think|IsThinkSet)\b/.test(template),
  };
}

export function capabilitiesOf(show: OllamaShowResponse | undefined, tag: OllamaTagModel, id: string): ModelCapabilities {
  const reported = show?.capabilities ?? tag.capabilities;
  if (!Array.isArray(reported)) return inferCapabilities(show, tag, id);
  const has = (c: string) => reported.includes(c);
  return {
    chat: has('completion'),
    vision: has('vision'),
    tools: has('tools'),
    embeddings: has('embedding'),
    thinking: has('thinking'),
  };
}

/** `show` is undefined when /api/show failed: the tags entry alone still gives a usable record. */
export function toModelInfo(tag: OllamaTagModel, show: OllamaShowResponse | undefined): BackendModelInfo {
  const id = (tag.name ?? tag.model) as string;
  const details = { ...tag.details, ...show?.details };
  const info: BackendModelInfo = { id, capabilities: capabilitiesOf(show, tag, id) };
  if (details.family) info.family = details.family;
  const params = parameterCountOf(show, tag);
  if (params !== undefined) info.parameterCountB = params;
  if (details.quantization_level) info.quantization = details.quantization_level;
  const context = contextLengthOf(show, tag);
  if (context !== undefined) info.contextLength = context;
  if (positiveNumber(tag.size)) info.sizeBytes = tag.size;
  if (tag.digest) info.digest = tag.digest;
  return info;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
