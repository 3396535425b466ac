/**
 * OpenAI-compatible servers report model ids and nothing else, so capabilities, size and family are
 * inferred from the id. The patterns follow the naming habits of Hugging Face repos, GGUF files,
 * Ollama tags and the hosted APIs; a wrong guess only costs a routing preference, never a crash.
 */
import type { ModelCapabilities } from '../../../plugin-api/index.js';

const EMBEDDING = /embed|bge|e5-|nomic|minilm|gte/i;
/** Hosted APIs list audio, image and legacy completion models next to chat models; none can chat. */
const NOT_CHAT = /whisper|\btts\b|tts-|dall-e|gpt-image|sora|davinci|babbage|moderation|transcribe|realtime|rerank/i;
const VISION =
  /vision|vl\b|llava|4o|gpt-4\.1|gpt-5|gemini|pixtral|qwen.*vl|claude|moondream|minicpm-v|internvl|llama-?4|gemma-?3(?!n)|mistral-small-3\.[12]/i;
const THINKING = /deepseek-r1|\bqwq|think|reason|(^|\/)o[134](-|$)|gpt-oss|magistral|qwen3(?!.*(coder|instruct))/i;
const QUANTIZATION = /(?:^|[^a-z0-9])(i?q\d(?:_[a-z0-9]+)+|q\d_\d|bf16|fp16|f16|f32|fp8|int[48]|awq|gptq|mxfp4)(?![a-z0-9])/i;

/** Ordered: more specific names first ("mixtral" before "mistral", "codellama" before "llama"). */
const FAMILIES: [RegExp, string][] = [
  [/codellama/i, 'codellama'],
  [/mixtral/i, 'mixtral'],
  [/mistral|ministral|magistral|devstral|pixtral|codestral/i, 'mistral'],
  [/llava/i, 'llava'],
  [/llama/i, 'llama'],
  [/qwq|qwen/i, 'qwen'],
  [/gemma/i, 'gemma'],
  [/gemini/i, 'gemini'],
  [/phi/i, 'phi'],
  [/deepseek/i, 'deepseek'],
  [/gpt-oss/i, 'gpt-oss'],
  [/gpt|(^|\/)o[134](-|$)|chatgpt/i, 'gpt'],
  [/claude/i, 'claude'],
  [/granite/i, 'granite'],
  [/command|cohere|aya/i, 'command'],
  [/falcon/i, 'falcon'],
  [/smollm/i, 'smollm'],
  [/olmo/i, 'olmo'],
  [/internlm|internvl/i, 'internlm'],
  [/\byi\b|yi-/i, 'yi'],
  [/nomic/i, 'nomic-bert'],
  [/bge/i, 'bge'],
  [/minilm/i, 'minilm'],
  [/gte/i, 'gte'],
  [/e5-/i, 'e5'],
];

export interface InferredModelInfo {
  family?: string;
  parameterCountB?: number;
  quantization?: string;
  capabilities: ModelCapabilities;
}

/** The part of an id that names the model: no org prefix, folder, file extension or Ollama tag. */
export function baseName(id: string): string {
  const last = id.split(/[\\/]/).filter(Boolean).pop() ?? id;
  return last.replace(/\.gguf$/i, '');
}

export function inferCapabilities(id: string): ModelCapabilities {
  if (EMBEDDING.test(id)) return { chat: false, vision: false, tools: false, embeddings: true };
  if (NOT_CHAT.test(id)) return { chat: false, vision: false, tools: false, embeddings: false };
  // Tool calling is the norm for current chat models; a model that cannot will fail the call and
  // the router falls back, which is cheaper than excluding every model we cannot vouch for.
  return { chat: true, vision: VISION.test(id), tools: true, embeddings: false, thinking: THINKING.test(id) };
}

/**
 * Parameter count in billions from an id: "8b" -> 8, "0.5B" -> 0.5, "8x7b" -> 56, "135m" -> 0.135.
 * For MoE names like "30b-a3b" the first (total) count wins.
 */
export function inferParameterCountB(id: string): number | undefined {
  const name = baseName(id).replace(/:/g, '-');
  const experts = /(?:^|[^a-z0-9.])(\d+)x(\d+(?:\.\d+)?)b(?![a-z0-9])/i.exec(name);
  if (experts) return round(Number(experts[1]) * Number(experts[2]));
  const billions = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z0-9])/i.exec(name);
  if (billions) return round(Number(billions[1]));
  const millions = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)m(?![a-z0-9])/i.exec(name);
  if (millions) return round(Number(millions[1]) / 1000);
  return undefined;
}

export function inferFamily(id: string): string | undefined {
  const name = baseName(id);
  for (const [pattern, family] of FAMILIES) if (pattern.test(name)) return family;
  const leading = /^[a-z]+/i.exec(name);
  return leading ? leading[0].toLowerCase() : undefined;
}

export function inferQuantization(id: string): string | undefined {
  const match = QUANTIZATION.exec(baseName(id).replace(/:/g, '-'));
  return match ? match[1].toUpperCase() : undefined;
}

export function inferModelInfo(id: string): InferredModelInfo {
  return {
    family: inferFamily(id),
    parameterCountB: inferParameterCountB(id),
    quantization: inferQuantization(id),
    capabilities: inferCapabilities(id),
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
