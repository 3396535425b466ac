/**
 * Small shared helpers: hashing and a seeded PRNG (answers must be deterministic), model defaults,
 * abortable sleeps, and token counting.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { SimModel } from './types.js';

/** FNV-1a, 32 bit: fast, good enough to seed a PRNG and bucket words. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: tiny seeded PRNG returning [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length) % items.length];
}

/** Deterministic hex string of `length` chars derived from `text` (digests, ids). */
export function hexFrom(text: string, length: number): string {
  let out = '';
  let h = fnv1a(text);
  while (out.length < length) {
    h = fnv1a(out + text, h);
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random-looking id body (chatcmpl-…, call_…); unique per call through a process-wide counter. */
let idCounter = 0;
export function randomId(length: number): string {
  const rng = prng(fnv1a(String(++idCounter), Date.now() >>> 0));
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[Math.floor(rng() * ALNUM.length)];
  return out;
}

/** A SimModel with every default filled in, computed once per simulator. */
export interface ResolvedModel {
  id: string;
  family: string;
  parameterSizeB: number;
  quantization: string;
  contextLength: number;
  chat: boolean;
  vision: boolean;
  tools: boolean;
  embeddings: boolean;
  thinking: boolean;
  quality: SimModel['quality'];
  tokensPerSecond: number;
  firstTokenMs: number;
  sizeBytes: number;
  digest: string;
  embeddingDim: number;
}

/** Bytes per parameter for common GGUF quantisations (used only to invent plausible sizes). */
function bytesPerParam(quant: string): number {
  const q = quant.toUpperCase();
  if (q.startsWith('F32')) return 4;
  if (q.startsWith('F16') || q.startsWith('BF16')) return 2;
  if (q.startsWith('Q8')) return 1.07;
  if (q.startsWith('Q6')) return 0.82;
  if (q.startsWith('Q5')) return 0.69;
  if (q.startsWith('Q3')) return 0.49;
  if (q.startsWith('Q2')) return 0.4;
  return 0.6; // Q4_* and unknown
}

/** "qwen2.5-coder:7b" -> "qwen2", "llama-3.1-8b" -> "llama", "gemma3:4b" -> "gemma3" (Ollama-like names). */
function familyOf(id: string): string {
  const base = id.replace(/^.*\//, '').toLowerCase();
  if (base.startsWith('llama')) return 'llama';
  return /^[a-z]+\d*/.exec(base)?.[0] || 'llama';
}

export function resolveModel(m: SimModel): ResolvedModel {
  const caps = m.capabilities ?? {};
  const sizeMatch = /(?:^|[:\-_ ])(\d+(?:\.\d+)?)b(?:$|[\-_: ])/i.exec(m.id);
  const parameterSizeB = m.parameterSizeB ?? (sizeMatch ? Number(sizeMatch[1]) : 7);
  const quantization = m.quantization ?? 'Q4_K_M';
  const embeddings = caps.embeddings ?? false;
  return {
    id: m.id,
    family: m.family ?? familyOf(m.id),
    parameterSizeB,
    quantization,
    contextLength: m.contextLength ?? 8192,
    chat: caps.chat ?? !embeddings,
    vision: caps.vision ?? false,
    tools: caps.tools ?? false,
    embeddings,
    thinking: caps.thinking ?? false,
    quality: m.quality,
    tokensPerSecond: Math.max(0, m.tokensPerSecond ?? 0),
    firstTokenMs: Math.max(0, m.firstTokenMs ?? 0),
    sizeBytes: m.sizeBytes ?? Math.round(parameterSizeB * 1e9 * bytesPerParam(quantization)),
    digest: m.digest ?? hexFrom(`digest:${m.id}`, 64),
    embeddingDim: m.embeddingDim ?? 64,
  };
}

/** Sleep that ends early (resolving false) when the signal aborts; no timer survives an abort. */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Resolves when the signal aborts (used by the "hang" failure mode). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Rough token count (about 4 characters a token), never 0 for non-empty text. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** Split text into stream pieces ("tokens"): each piece is a word with its leading whitespace. */
export function toPieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const unixSeconds = (): number => Math.floor(Date.now() / 1000);
