/**
 * Canonical cache keys: a stable JSON text of everything that can change an answer, hashed with
 * sha256, so two requests share a key only when a model would see the same input.
 *
 * The response key is built by exclusion, not by a list of fields: every RouteRequest field counts
 * except the few known to be transport-only. A field added to RouteRequest later is then part of the
 * key by default: the worst case is a missed hit, never another request's answer.
 */
import { createHash } from 'node:crypto';
import type { RouteRequest } from '../types.js';
import type { ChatMessage } from '../../plugin-api/index.js';

/** RouteRequest fields that never change what the model says. */
const TRANSPORT_ONLY = new Set<string>(['stream', 'protocol', 'requestId', 'cacheControl']);

/** JSON with object keys sorted and undefined members left out, so equal values give equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    // JSON.stringify(undefined) is undefined; inside arrays JSON writes null, so do the same.
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function answerRelevant(request: RouteRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(request)) if (!TRANSPORT_ONLY.has(k)) out[k] = v;
  return out;
}

/** Key of the exact response cache (and of request coalescing). */
export function responseKey(request: RouteRequest): string {
  return sha256(`response\0${stableStringify(answerRelevant(request))}`);
}

/**
 * Splits a request for the semantic cache: the prompt (the last message, when it is a text-only
 * user message) is compared by meaning; everything else (model, earlier turns, sampling settings,
 * tools...) must match exactly and becomes the partition. Undefined when there is no such prompt.
 */
export function semanticParts(request: RouteRequest): { prompt: string; partition: string } | undefined {
  const last = request.messages[request.messages.length - 1];
  if (!last || last.role !== 'user') return undefined;
  const prompt = textOnly(last);
  if (prompt === undefined || prompt.trim() === '') return undefined;
  const rest = answerRelevant(request);
  rest.messages = request.messages.slice(0, -1);
  rest.lastMessage = { ...last, content: undefined };
  rest.promptFacts = promptFacts(prompt);
  return { prompt, partition: sha256(`semantic\0${stableStringify(rest)}`) };
}

const NUMBER = /\d+(?:[.,]\d+)*/g;
const NEGATION = /n't\b|\b(?:not|no|never|none|nothing|without|neither|nor)\b/gi;

/**
 * What embeddings blur but an answer depends on: the numbers of a prompt and how often it negates.
 * "Convert 100 USD to EUR" and "Convert 250 USD to EUR", or "Should I take ibuprofen with alcohol"
 * and "... not take ...", sit above any useful similarity threshold yet need different answers;
 * with these facts in the partition they are never compared at all.
 */
function promptFacts(prompt: string): { numbers: string[]; negations: number } {
  return { numbers: (prompt.match(NUMBER) ?? []).sort(), negations: prompt.match(NEGATION)?.length ?? 0 };
}

/**
 * Key of the routing-decision cache: only what classification and scoring read (the conversation,
 * tools, response format, reply budget, router name and quality preference) plus the registry
 * version, so a change to the models or their scores starts afresh.
 */
export function routingKey(request: RouteRequest, registryVersion: number): string {
  const input = {
    model: request.model,
    messages: request.messages,
    tools: request.tools,
    responseFormat: request.responseFormat,
    maxTokens: request.maxTokens,
    qualityPreference: request.qualityPreference,
  };
  return sha256(`routing\0${registryVersion}\0${stableStringify(input)}`);
}

function textOnly(message: ChatMessage): string | undefined {
  if (typeof message.content === 'string') return message.content;
  let text = '';
  for (const part of message.content) {
    if (part.type !== 'text') return undefined; // images cannot be compared through a text embedding
    text += (text ? '\n' : '') + part.text;
  }
  return text;
}
