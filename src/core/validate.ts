/**
 * The request rules both doors share: message count, prompt length, parameter ranges, nesting
 * depth of client-supplied JSON, feedback bounds. The REST facade and the RouterService mapping
 * translate their wire shapes to a RouteRequest / FeedbackInput and ask here; each door then words
 * the violation its own way (OpenAI error JSON with `param`, INVALID_ARGUMENT naming the field).
 *
 * Also the text hygiene of the core: control characters are stripped from the copy of the
 * conversation the classifiers read (and from log lines), never from what goes upstream.
 *
 * Free of fastify and connect on purpose: the rules are the product's, not a transport's.
 */
import type { ChatMessage, ContentPart } from '../plugin-api/index.js';
import type { FeedbackInput, RouteRequest } from './types.js';

/** Parameter ranges, OpenAI's where OpenAI has one. The REST JSON schema reuses these numbers. */
export const RANGES = {
  temperature: { min: 0, max: 2 },
  top_p: { min: 0, max: 1 },
  presence_penalty: { min: -2, max: 2 },
  frequency_penalty: { min: -2, max: 2 },
  quality_preference: { min: 0, max: 1 },
  /** Feedback: -1 (bad) .. 1 (good). */
  score: { min: -1, max: 1 },
  // int32: what llama.cpp and Ollama parse; no model has a window anywhere near it.
  max_tokens: { min: 1, max: 2_147_483_647 },
  // A JSON number is exact only up to 2^53; a bigger seed would silently change on the way upstream.
  seed: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
} as const;

/** OpenAI's limits. */
export const MAX_STOP_SEQUENCES = 4;
export const MAX_TOOLS = 128;
/**
 * Client JSON (tool parameter schemas, response schemas, provider options, whole bodies) deeper
 * than this is refused: real schemas stay far below, and deep nesting is the cheap way to make a
 * parser or JSON.stringify burn CPU or blow the stack.
 */
export const MAX_JSON_DEPTH = 64;
/** A whole request body may nest a little deeper: its envelope (tools[i].function.parameters...) adds levels. */
export const MAX_BODY_JSON_DEPTH = 2 * MAX_JSON_DEPTH;
export const MAX_FEEDBACK_COMMENT_CHARS = 2000;
export const MAX_RESPONSE_ID_CHARS = 256;

export interface RequestLimits {
  /** ROUTER_MAX_MESSAGES */
  maxMessages: number;
  /** ROUTER_MAX_PROMPT_CHARS: text characters in one message (images are bounded by the body size). */
  maxPromptChars: number;
}

export type ViolationCode = 'array_above_max_length' | 'string_above_max_length' | 'empty_array' | 'invalid_value' | 'nesting_too_deep';

/** One broken rule: the field in wire spelling (snake_case, `messages[2].content`) and why. */
export interface Violation {
  param: string;
  message: string;
  code: ViolationCode;
}

/** The first rule a request breaks, or undefined. Cheap: one pass over the messages, no copies. */
export function checkRouteRequest(request: RouteRequest, limits: RequestLimits): Violation | undefined {
  const count = request.messages.length;
  const tooMany = checkMessageCount(count, limits);
  if (tooMany) return tooMany;
  for (let i = 0; i < count; i++) {
    const chars = textChars(request.messages[i]!.content);
    if (chars > limits.maxPromptChars) {
      return { param: `messages[${i}].content`, message: `${chars} characters, at most ${limits.maxPromptChars} are allowed`, code: 'string_above_max_length' };
    }
  }
  return (
    checkRange(request.temperature, 'temperature') ??
    checkRange(request.topP, 'top_p') ??
    checkRange(request.presencePenalty, 'presence_penalty') ??
    checkRange(request.frequencyPenalty, 'frequency_penalty') ??
    checkRange(request.qualityPreference, 'quality_preference') ??
    checkInteger(request.maxTokens, 'max_tokens') ??
    checkInteger(request.seed, 'seed') ??
    checkStop(request.stop) ??
    checkTools(request) ??
    checkDepth(request.responseFormat?.type === 'json_schema' ? request.responseFormat.schema : undefined, 'response_format.json_schema') ??
    checkDepth(request.providerOptions, 'provider_options')
  );
}

/** The message count alone: a door may ask before translating thousands of messages. */
export function checkMessageCount(count: number, limits: RequestLimits): Violation | undefined {
  if (count === 0) return { param: 'messages', message: 'at least one message is required', code: 'empty_array' };
  if (count > limits.maxMessages) {
    return { param: 'messages', message: `${count} messages is more than the limit of ${limits.maxMessages}`, code: 'array_above_max_length' };
  }
  return undefined;
}

export function checkFeedback(input: FeedbackInput): Violation | undefined {
  const score = checkRange(input.score, 'score');
  if (score) return score;
  if (input.responseId.length > MAX_RESPONSE_ID_CHARS) {
    return { param: 'response_id', message: `${input.responseId.length} characters, at most ${MAX_RESPONSE_ID_CHARS} are allowed`, code: 'string_above_max_length' };
  }
  if (input.comment !== undefined && input.comment.length > MAX_FEEDBACK_COMMENT_CHARS) {
    return { param: 'comment', message: `${input.comment.length} characters, at most ${MAX_FEEDBACK_COMMENT_CHARS} are allowed`, code: 'string_above_max_length' };
  }
  return undefined;
}

/** A range check for one value (undefined passes); also used by the doors for header and query values. */
export function checkRange(value: number | undefined, param: keyof typeof RANGES): Violation | undefined {
  if (value === undefined) return undefined;
  const { min, max } = RANGES[param];
  if (!Number.isFinite(value) || value < min || value > max) return { param, message: `${value} is outside ${min}..${max}`, code: 'invalid_value' };
  return undefined;
}

function checkInteger(value: number | undefined, param: 'max_tokens' | 'seed'): Violation | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value)) return { param, message: `${value} is not an integer`, code: 'invalid_value' };
  const { min, max } = RANGES[param];
  if (value < min) return { param, message: `must be at least ${min}`, code: 'invalid_value' };
  if (value > max) return { param, message: `must be at most ${max}`, code: 'invalid_value' };
  return undefined;
}

function checkStop(stop: string[] | undefined): Violation | undefined {
  if (stop && stop.length > MAX_STOP_SEQUENCES) {
    return { param: 'stop', message: `at most ${MAX_STOP_SEQUENCES} stop sequences are allowed, got ${stop.length}`, code: 'array_above_max_length' };
  }
  return undefined;
}

/** OpenAI's rule for function names, which backends rely on when they parse a model's tool calls. */
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function checkTools(request: RouteRequest): Violation | undefined {
  const tools = request.tools ?? [];
  if (tools.length > MAX_TOOLS) return { param: 'tools', message: `${tools.length} tools, at most ${MAX_TOOLS} are allowed`, code: 'array_above_max_length' };
  const names = new Set<string>();
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i]!;
    if (!TOOL_NAME.test(tool.name)) {
      return { param: `tools[${i}].name`, message: `"${tool.name.slice(0, 80)}" is not a valid function name: use 1-64 letters, digits, "_" or "-"`, code: 'invalid_value' };
    }
    // Two tools of one name: a model's call to it could mean either.
    if (names.has(tool.name)) return { param: `tools[${i}].name`, message: `"${tool.name}" is defined twice`, code: 'invalid_value' };
    names.add(tool.name);
    const v = checkDepth(tool.parameters, `tools[${i}].parameters`);
    if (v) return v;
  }
  const choice = request.toolChoice;
  if (choice === undefined || choice === 'auto' || choice === 'none') return undefined;
  const wanted = choice === 'required' ? '"required"' : `the function "${choice.name}"`;
  if (tools.length === 0) return { param: 'tool_choice', message: `${wanted} needs tools, but the request defines none`, code: 'invalid_value' };
  if (choice !== 'required' && !names.has(choice.name)) {
    return { param: 'tool_choice', message: `the function "${choice.name}" is not one of the request's tools (${[...names].slice(0, 10).join(', ')})`, code: 'invalid_value' };
  }
  return undefined;
}

function checkDepth(value: unknown, param: string): Violation | undefined {
  if (value === undefined || jsonDepth(value, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH) return undefined;
  return { param, message: `nested more than ${MAX_JSON_DEPTH} levels deep`, code: 'nesting_too_deep' };
}

/**
 * Nesting depth of a parsed JSON value (a scalar is 0, `{}` is 1), counted without recursion so a
 * hostile value cannot overflow the stack; stops counting once it passes `stopAbove`.
 */
export function jsonDepth(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAbove) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node as object)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/**
 * True when JSON text nests deeper than `max`, found by a scan that costs far less than parsing:
 * brackets are counted outside strings, and strings are skipped with indexOf, so a long base64
 * image costs almost nothing. Used before JSON.parse on client text (request bodies, RPC JSON
 * string fields): ten megabytes of `[[[[...` cost JSON.parse seconds of blocked event loop.
 */
export function jsonTextTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: the next quote not escaped by an odd run of backslashes.
      for (;;) {
        const quote = text.indexOf('"', i + 1);
        if (quote === -1) return false; // Unterminated: the parser will refuse it.
        let slashes = 0;
        for (let j = quote - 1; text.charCodeAt(j) === 0x5c; j--) slashes++;
        i = quote;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

function textChars(content: string | ContentPart[]): number {
  if (typeof content === 'string') return content.length;
  let n = 0;
  for (const p of content) if (p.type === 'text') n += p.text.length;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Text hygiene

/**
 * C0 controls except tab, line feed and carriage return; DEL and C1 controls; the bidirectional
 * overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the LRM/RLM marks, which can make a
 * log line read differently from what it contains.
 */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const HAS_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\uD800-\uDFFF]/;
/** A high surrogate without its low half, or a low one without its high half (code units: no `u` flag). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** ANSI escape sequences (colours, cursor moves) go whole, not just their ESC byte. */
const ANSI_SEQUENCE = /\u001B\[[0-?]*[ -/]*[@-~]/g;

/** Control characters removed and lone surrogates replaced by U+FFFD; the same string when clean. */
export function stripControlChars(text: string): string {
  if (!HAS_CONTROL.test(text)) return text;
  return text.replace(ANSI_SEQUENCE, '').replace(CONTROL, '').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * The conversation as the classifiers see it: text without control characters or lone surrogates
 * (NUL bytes and escape codes say nothing about a prompt's category, and would skew token
 * features). Returns the same array when nothing needs cleaning, so the common case copies nothing;
 * the request sent upstream is never touched.
 */
export function classificationMessages(messages: ChatMessage[]): ChatMessage[] {
  let out: ChatMessage[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const clean = cleanContent(m.content);
    if (clean === m.content) continue;
    out ??= messages.slice();
    out[i] = { ...m, content: clean };
  }
  return out ?? messages;
}

function cleanContent(content: string | ContentPart[]): string | ContentPart[] {
  if (typeof content === 'string') return stripControlChars(content);
  let out: ContentPart[] | undefined;
  for (let j = 0; j < content.length; j++) {
    const p = content[j]!;
    if (p.type !== 'text') continue;
    const text = stripControlChars(p.text);
    if (text === p.text) continue;
    out ??= content.slice();
    out[j] = { type: 'text', text };
  }
  return out ?? content;
}
