/**
 * OpenAI chat completion body -> the core's RouteRequest.
 *
 * The JSON schema (schemas.ts) already checked types and ranges; what is left here are the rules a
 * schema expresses badly (per-role content rules, unsupported part types, the legacy `functions`
 * API), the renaming, and the rules RPC shares (src/core/validate.ts). Anything rejected throws InvalidRequest with the offending `param`, so the
 * client sees which field to fix.
 */
import type { ChatMessage, ContentPart, ResponseFormat, ToolCall, ToolChoice, ToolDefinition } from '../../../plugin-api/index.js';
import type { RouteRequest } from '../../../core/types.js';
import { checkRouteRequest } from '../../../core/validate.js';
import type { ChatCompletionBody, WireContentPart, WireFunction, WireMessage } from './schemas.js';

/** A client error found after schema validation: answered as 400 with `param`. */
export class InvalidRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: string = 'invalid_value',
  ) {
    super(message);
    this.name = 'InvalidRequest';
  }
}

export interface TranslatedChat {
  route: RouteRequest;
  stream: boolean;
  includeUsage: boolean;
  /**
   * The client used the legacy `functions` API: answer with `function_call` (and finish_reason
   * "function_call") so old clients find the call where they look for it.
   */
  legacyFunctions: boolean;
}

export interface TranslateOptions {
  /** Used when the client sends no `model` (a router that shows one model does not need it). */
  defaultModel: string;
  /** ROUTER_MAX_MESSAGES and ROUTER_MAX_PROMPT_CHARS. */
  maxMessages: number;
  maxPromptChars: number;
  /** Raw X-Router-Quality-Preference header, if sent. */
  qualityHeader?: string | string[];
  requestId: string;
}

export const QUALITY_HEADER = 'x-router-quality-preference';

export function translateChatRequest(body: ChatCompletionBody, options: TranslateOptions): TranslatedChat {
  if (body.n != null && body.n > 1) throw new InvalidRequest('n > 1 is not supported: the router returns one choice per request.', 'n', 'unsupported_value');
  // Answering `logprobs: null` to a client that asked for them breaks it later, far from the cause.
  if (body.logprobs === true) {
    throw new InvalidRequest('logprobs are not supported: the router does not return token log probabilities (send logprobs: false or leave it out).', 'logprobs', 'unsupported_value');
  }

  const legacyFunctions = body.tools == null && body.functions != null;
  const route: RouteRequest = {
    model: body.model || options.defaultModel,
    messages: translateMessages(body.messages),
    stream: body.stream === true,
    protocol: 'rest',
    requestId: options.requestId,
  };

  const tools = body.tools?.map((t) => toolDefinition(t.function)) ?? body.functions?.map(toolDefinition);
  if (tools?.length) route.tools = tools;
  const toolChoice = body.tool_choice != null ? toolChoiceOf(body.tool_choice, 'tool_choice') : body.function_call != null ? toolChoiceOf(body.function_call, 'function_call') : undefined;
  if (toolChoice !== undefined) route.toolChoice = toolChoice;
  if (typeof body.parallel_tool_calls === 'boolean') route.parallelToolCalls = body.parallel_tool_calls;
  // Plugin-specific settings the OpenAI API has no field for (RouterService's provider_options).
  if (body.provider_options != null && Object.keys(body.provider_options).length > 0) route.providerOptions = body.provider_options;
  passOpenAiFields(body, route);
  const responseFormat = responseFormatOf(body.response_format);
  if (responseFormat) route.responseFormat = responseFormat;

  if (body.temperature != null) route.temperature = body.temperature;
  if (body.top_p != null) route.topP = body.top_p;
  // max_tokens is deprecated in favour of max_completion_tokens; the newer one wins when both are sent.
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) route.maxTokens = maxTokens;
  if (body.seed != null) route.seed = body.seed;
  const stop = stopOf(body.stop);
  if (stop?.length) route.stop = stop;
  if (body.presence_penalty != null) route.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) route.frequencyPenalty = body.frequency_penalty;
  const quality = qualityPreferenceOf(options.qualityHeader);
  if (quality !== undefined) route.qualityPreference = quality;

  // The rules RPC shares (limits, ranges, nesting): most were already enforced by the JSON schema
  // with better messages; this catches what a schema cannot say (text of all parts together, depth).
  const violation = checkRouteRequest(route, { maxMessages: options.maxMessages, maxPromptChars: options.maxPromptChars });
  if (violation) throw new InvalidRequest(`Invalid '${violation.param}': ${violation.message}.`, violation.param, violation.code);

  return {
    route,
    stream: body.stream === true,
    includeUsage: body.stream === true && body.stream_options?.include_usage === true,
    legacyFunctions,
  };
}

/** X-Router-Quality-Preference: a number in 0..1 (0 = fastest, 1 = best); anything else is a 400. */
export function qualityPreferenceOf(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const raw = (Array.isArray(header) ? header[0] : header).trim();
  const value = raw === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidRequest(
      `Invalid X-Router-Quality-Preference header: expected a number between 0 (speed) and 1 (quality), got '${raw.slice(0, 40)}'.`,
      'X-Router-Quality-Preference',
    );
  }
  return value;
}

function translateMessages(messages: WireMessage[]): ChatMessage[] {
  // Legacy `function` messages answer the latest assistant `function_call` of the same name; the
  // core speaks tool calls with ids, so both sides get a synthetic id that pairs them.
  const legacyIds = new Map<string, string>();
  return messages.map((m, i) => {
    const where = `messages[${i}]`;
    const out: ChatMessage = { role: m.role === 'developer' ? 'system' : m.role === 'function' ? 'tool' : m.role, content: '' };
    if (m.name != null && m.role !== 'function') out.name = m.name;

    if (m.content == null) {
      // Only an assistant turn may be empty (it then usually carries tool calls).
      if (m.role !== 'assistant') throw new InvalidRequest(`Missing content for a '${m.role}' message: ${where}.content must be a string or an array of content parts.`, `${where}.content`, 'missing_required_parameter');
    } else {
      out.content = translateContent(m.content, m.role, where);
    }

    if (m.role === 'assistant') {
      const calls: ToolCall[] = (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments ?? '' }));
      if (m.function_call) {
        const id = `call_legacy_${i}`;
        legacyIds.set(m.function_call.name, id);
        calls.push({ id, name: m.function_call.name, arguments: m.function_call.arguments ?? '' });
      }
      if (calls.length) out.toolCalls = calls;
      if (m.reasoning_content) out.reasoning = m.reasoning_content;
    } else if (m.role === 'tool') {
      if (!m.tool_call_id) throw new InvalidRequest(`Missing tool_call_id: a 'tool' message must name the call it answers (${where}.tool_call_id).`, `${where}.tool_call_id`, 'missing_required_parameter');
      out.toolCallId = m.tool_call_id;
    } else if (m.role === 'function') {
      if (!m.name) throw new InvalidRequest(`Missing name: a 'function' message must name the function it answers (${where}.name).`, `${where}.name`, 'missing_required_parameter');
      out.toolCallId = legacyIds.get(m.name) ?? `call_legacy_${m.name}`;
      out.name = m.name;
    }
    return out;
  });
}

const PART_TYPES = ['text', 'image_url', 'input_audio', 'file', 'refusal'];

function translateContent(content: unknown, role: WireMessage['role'], where: string): string | ContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) {
    throw new InvalidRequest(`Invalid type for '${where}.content': expected a string or an array of content parts, but got ${describeValue(content)} instead.`, `${where}.content`, 'invalid_type');
  }
  const parts: ContentPart[] = [];
  (content as unknown[]).forEach((raw, j) => {
    const at = `${where}.content[${j}]`;
    if (!isObject(raw)) throw new InvalidRequest(`Invalid type for '${at}': expected a content part object, but got ${describeValue(raw)} instead.`, at, 'invalid_type');
    const part = raw as WireContentPart;
    if (typeof part.type !== 'string' || !PART_TYPES.includes(part.type)) {
      throw new InvalidRequest(
        `Invalid value for '${at}.type': expected one of ${PART_TYPES.map((t) => `'${t}'`).join(', ')}, but got ${JSON.stringify(part.type ?? null)}.`,
        `${at}.type`,
        'invalid_value',
      );
    }
    switch (part.type) {
      case 'text':
        if (typeof part.text !== 'string') throw new InvalidRequest(`Missing text: a 'text' content part needs a 'text' string (${at}.text).`, `${at}.text`, 'missing_required_parameter');
        parts.push({ type: 'text', text: part.text });
        return;
      case 'refusal': {
        // An assistant refusal sent back as history: plain text to the model.
        const text = typeof part.refusal === 'string' ? part.refusal : typeof part.text === 'string' ? part.text : '';
        parts.push({ type: 'text', text });
        return;
      }
      case 'image_url':
        if (role !== 'user') throw new InvalidRequest(`Image content parts are only allowed in 'user' messages (${at}).`, at);
        parts.push(imagePart(part.image_url, at));
        return;
      case 'input_audio':
        throw new InvalidRequest(`Audio input is not supported by SmarterRouter: send the audio as text (transcribe it first) (${at}).`, at, 'unsupported_content');
      case 'file':
        throw new InvalidRequest(`File content parts are not supported by SmarterRouter: send the file's text as a text part (${at}).`, at, 'unsupported_content');
    }
  });
  return parts;
}

const DATA_URL = /^data:(image\/[\w.+-]+)?(;[\w=.+-]+)*;base64,/i;

function imagePart(imageUrl: unknown, at: string): ContentPart {
  const part = imageSource(imageUrl, at);
  const detail = isObject(imageUrl) ? imageUrl.detail : undefined;
  if (detail == null) return part;
  if (detail !== 'auto' && detail !== 'low' && detail !== 'high') {
    throw new InvalidRequest(`Invalid image detail (${at}.image_url.detail): expected 'auto', 'low' or 'high'.`, `${at}.image_url.detail`);
  }
  return { ...part, detail } as ContentPart;
}

function imageSource(imageUrl: unknown, at: string): ContentPart {
  const url = typeof imageUrl === 'string' ? imageUrl : isObject(imageUrl) ? imageUrl.url : undefined;
  if (typeof url !== 'string' || url === '') throw new InvalidRequest(`Missing image URL: an 'image_url' part needs image_url.url (${at}.image_url.url).`, `${at}.image_url.url`, 'missing_required_parameter');
  const data = DATA_URL.exec(url);
  if (data) {
    const payload = url.slice(data[0].length);
    if (payload === '') throw new InvalidRequest(`Empty image data URL (${at}.image_url.url).`, `${at}.image_url.url`);
    return data[1] ? { type: 'image', mediaType: data[1].toLowerCase(), data: payload } : { type: 'image', data: payload };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', url };
  throw new InvalidRequest(
    `Invalid image URL (${at}.image_url.url): expected an http(s) URL or a base64 data URL like 'data:image/png;base64,...'.`,
    `${at}.image_url.url`,
    'invalid_image_url',
  );
}

function toolDefinition(f: WireFunction): ToolDefinition {
  const tool: ToolDefinition = { name: f.name };
  if (f.description != null) tool.description = f.description;
  if (f.parameters != null) tool.parameters = f.parameters;
  if (f.strict != null) tool.strict = f.strict;
  return tool;
}

function toolChoiceOf(choice: unknown, param: string): ToolChoice {
  if (typeof choice === 'string') {
    if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
    throw new InvalidRequest(`Invalid value for '${param}': expected 'none', 'auto', 'required' or {"type": "function", "function": {"name": ...}}, got '${choice.slice(0, 40)}'.`, param);
  }
  if (!isObject(choice)) {
    throw new InvalidRequest(`Invalid type for '${param}': expected a string or an object, but got ${describeValue(choice)} instead.`, param, 'invalid_type');
  }
  // tool_choice: {type: 'function', function: {name}}; legacy function_call: {name}.
  const name = isObject(choice.function) ? choice.function.name : choice.name;
  if (typeof name !== 'string' || name === '') {
    const expected = param === 'tool_choice' ? `{"type": "function", "function": {"name": ...}}` : `{"name": ...}`;
    throw new InvalidRequest(`Invalid value for '${param}': expected ${expected} naming a function.`, param);
  }
  return { name };
}

function stopOf(stop: unknown): string[] | undefined {
  if (stop == null) return undefined;
  if (typeof stop === 'string') return stop ? [stop] : [];
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
    throw new InvalidRequest(`Invalid type for 'stop': expected a string or an array of strings, but got ${describeValue(stop)} instead.`, 'stop', 'invalid_type');
  }
  if (stop.length > 4) throw new InvalidRequest(`Invalid 'stop': expected at most 4 stop sequences, but got ${stop.length}.`, 'stop', 'array_above_max_length');
  return (stop as string[]).filter((s) => s.length > 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "a string", "an array", "null"...: for messages that say what was sent instead. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Number.isInteger(value)) return 'an integer';
  // JSON.parse turns 1e400 into Infinity, which no numeric field accepts.
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number too large to represent';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function responseFormatOf(format: ChatCompletionBody['response_format']): ResponseFormat | undefined {
  if (format == null) return undefined;
  if (format.type === 'text') return { type: 'text' };
  if (format.type === 'json_object') return { type: 'json_object' };
  const spec = format.json_schema;
  if (!spec) throw new InvalidRequest(`Missing response_format.json_schema: a 'json_schema' response format needs {"name": ..., "schema": {...}}.`, 'response_format.json_schema', 'missing_required_parameter');
  const out: ResponseFormat = { type: 'json_schema' };
  if (spec.name !== undefined) out.name = spec.name;
  if (spec.schema !== undefined) out.schema = spec.schema;
  if (spec.strict != null) out.strict = spec.strict;
  return out;
}

/**
 * OpenAI fields only some backends understand travel as provider options of the plugins that send
 * them on: reasoning_effort (o-series and other reasoning models) and user to OpenAI-compatible APIs,
 * logit_bias to those and llama.cpp. What the client set in provider_options itself wins.
 */
function passOpenAiFields(body: ChatCompletionBody, route: RouteRequest): void {
  const openai: Record<string, unknown> = {};
  if (body.reasoning_effort != null) openai.reasoning_effort = body.reasoning_effort;
  if (body.user != null && body.user !== '') openai.user = body.user;
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0) openai.logit_bias = body.logit_bias;
  if (Object.keys(openai).length === 0) return;
  const options = { ...route.providerOptions };
  options.openai = { ...openai, ...options.openai };
  if (openai.logit_bias !== undefined) options['llama.cpp'] = { logit_bias: openai.logit_bias, ...options['llama.cpp'] };
  route.providerOptions = options;
}
