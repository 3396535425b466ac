/**
 * Translation between RouterService's proto messages and the routing core's shapes, in both
 * directions. Nothing here decides anything about routing: requests are reshaped into a RouteRequest
 * and checked by the rules the REST facade shares (src/core/validate.ts: limits, ranges, nesting),
 * plus the proto-only ones (roles, oneofs, images); the core's answers are reshaped into proto messages.
 *
 * Malformed input throws RouterError('invalid_request') naming the field in its proto spelling
 * (e.g. "request.messages[2].role"), so the one error mapping in errors.ts turns it into
 * INVALID_ARGUMENT like every other domain error.
 */
import { create, type JsonObject, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  Category as ProtoCategory,
  Complexity as ProtoComplexity,
  FinishReason as ProtoFinishReason,
  type Usage as ProtoUsage,
  UsageSchema,
} from '../../../gen/smarterrouter/v1/common_pb.js';
import {
  CacheStatus as ProtoCacheStatus,
  type ChatRequest as ProtoChatRequest,
  type ChatResponse,
  type ChatStreamRequest,
  ChatResponseSchema,
  CandidateSchema,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type ContentPart as ProtoContentPart,
  type ExplainRequest,
  type ExplainResponse,
  ExplainResponseSchema,
  type Image as ProtoImage,
  type Message as ProtoMessage,
  type Model as ProtoModel,
  ModelSchema,
  type ResponseFormat as ProtoResponseFormat,
  ResponseFormatType,
  Role,
  type RouteInfo as ProtoRouteInfo,
  RouteInfoSchema,
  type SubmitFeedbackRequest,
  type Tool as ProtoTool,
} from '../../../gen/smarterrouter/v1/router_pb.js';
import type { Config } from '../../config/index.js';
import { effectiveWeights, weightedFactors, type ScoringWeights } from '../../core/scoring.js';
import {
  checkFeedback,
  checkMessageCount,
  checkRange,
  checkRouteRequest,
  jsonTextTooDeep,
  MAX_JSON_DEPTH,
  type Violation,
} from '../../core/validate.js';
import {
  RouterError,
  type CacheStatus,
  type CandidateExplanation,
  type CollectedAnswer,
  type Explanation,
  type FeedbackInput,
  type ModelListing,
  type Protocol,
  type RouteInfo,
  type RouteRequest,
} from '../../core/types.js';
import type {
  Category,
  ChatMessage,
  ChatRole,
  ChatStreamPart,
  Complexity,
  ContentPart,
  FinishReason,
  ResponseFormat,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  Usage,
} from '../../plugin-api/index.js';

/** The configuration the translation needs: request limits and the default model name. */
export type MappingLimits = Pick<Config, 'maxMessages' | 'maxPromptChars' | 'externalModelName'>;

/** Who is asking, for the decision record: the RPC protocol and the request id of the log lines. */
export interface RequestMeta {
  protocol: Protocol;
  requestId?: string;
}

function invalid(param: string, message: string): RouterError {
  return new RouterError('invalid_request', `${param}: ${message}`, { param });
}

/** A shared rule (src/core/validate.ts) broken: the field named in proto spelling, under `path`. */
function violated(violation: Violation | undefined, path = ''): void {
  if (violation) throw invalid(`${path}${violation.param}`, violation.message);
}

// ---------------------------------------------------------------------------------------------
// Requests: proto -> core

/**
 * A ChatRequest as the core's RouteRequest. `path` prefixes field names in error messages
 * ("request." for ChatStream and Explain, whose ChatRequest is nested).
 */
export function toRouteRequest(proto: ProtoChatRequest, limits: MappingLimits, meta: RequestMeta, path = ''): RouteRequest {
  const field = (name: string) => `${path}${name}`;

  // The count first: no point translating ten thousand messages to refuse them.
  violated(checkMessageCount(proto.messages.length, limits), path);
  const messages = proto.messages.map((m, i) => toChatMessage(m, `${field('messages')}[${i}]`));
  const tools = toTools(proto.tools, field('tools'));

  const request: RouteRequest = {
    model: proto.model.trim() || limits.externalModelName,
    messages,
    protocol: meta.protocol,
  };
  if (meta.requestId) request.requestId = meta.requestId;
  if (tools.length > 0) request.tools = tools;
  const toolChoice = toToolChoice(proto.toolChoice);
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  if (proto.parallelToolCalls !== undefined) request.parallelToolCalls = proto.parallelToolCalls;
  const responseFormat = toResponseFormat(proto.responseFormat, field('response_format'));
  if (responseFormat !== undefined) request.responseFormat = responseFormat;

  // Ranges, prompt length, stop count, nesting: checked below by the rules REST shares.
  if (proto.temperature !== undefined) request.temperature = proto.temperature;
  if (proto.topP !== undefined) request.topP = proto.topP;
  // uint32 on the wire: already a non-negative integer (0 is refused by the shared rules).
  if (proto.maxTokens !== undefined) request.maxTokens = proto.maxTokens;
  if (proto.seed !== undefined) {
    // int64 arrives as bigint; a value past 2^53 becomes an inexact number, which the rules refuse.
    request.seed = Number(proto.seed);
  }
  // An empty sequence would stop before the first token; the REST facade drops them too.
  const stop = proto.stop.filter((s) => s !== '');
  if (stop.length > 0) request.stop = stop;
  if (proto.qualityPreference !== undefined) request.qualityPreference = proto.qualityPreference;
  if (proto.presencePenalty !== undefined) request.presencePenalty = proto.presencePenalty;
  if (proto.frequencyPenalty !== undefined) request.frequencyPenalty = proto.frequencyPenalty;
  if (proto.providerOptions !== undefined) {
    const options = toProviderOptions(proto.providerOptions, field('provider_options'));
    if (options !== undefined) request.providerOptions = options;
  }
  violated(checkRouteRequest(request, limits), path);
  return request;
}

/** A ChatStreamRequest's nested ChatRequest as a RouteRequest; field names in errors say "request.". */
export function streamRouteRequest(proto: ChatStreamRequest, limits: MappingLimits, meta: RequestMeta): RouteRequest {
  if (proto.request === undefined) throw invalid('request', 'is required');
  return toRouteRequest(proto.request, limits, meta, 'request.');
}

/** An ExplainRequest as the RouteRequest the core would route: a prompt becomes one user message. */
export function explainRouteRequest(proto: ExplainRequest, limits: MappingLimits, meta: RequestMeta): RouteRequest {
  let request: RouteRequest;
  switch (proto.input.case) {
    case 'prompt': {
      const prompt = proto.input.value;
      if (prompt.trim() === '') throw invalid('prompt', 'must not be empty');
      request = { model: limits.externalModelName, messages: [{ role: 'user', content: prompt }], protocol: meta.protocol };
      if (meta.requestId) request.requestId = meta.requestId;
      const violation = checkRouteRequest(request, limits);
      // The one message is the prompt: name the field the caller sent.
      if (violation) throw invalid(violation.param === 'messages[0].content' ? 'prompt' : violation.param, violation.message);
      break;
    }
    case 'request':
      request = toRouteRequest(proto.input.value, limits, meta, 'request.');
      break;
    default:
      throw invalid('input', 'set either prompt or request');
  }
  // The top-level preference is the one the caller wants explained; it wins over the nested request's.
  if (proto.qualityPreference !== undefined) {
    violated(checkRange(proto.qualityPreference, 'quality_preference'));
    request.qualityPreference = proto.qualityPreference;
  }
  return request;
}

export function toFeedbackInput(proto: SubmitFeedbackRequest, _limits?: MappingLimits): FeedbackInput {
  const responseId = proto.responseId.trim();
  if (responseId === '') throw invalid('response_id', 'is required (the id from ChatResponse.id or RouteInfo.response_id)');
  const input: FeedbackInput = { responseId, score: proto.score };
  if (proto.comment !== '') input.comment = proto.comment;
  // Score range and the stored comment's bound: the same rules as POST /v1/feedback.
  violated(checkFeedback(input));
  return input;
}

const ROLES: Partial<Record<Role, ChatRole>> = {
  [Role.SYSTEM]: 'system',
  // OpenAI's newer name for system; backends only know system.
  [Role.DEVELOPER]: 'system',
  [Role.USER]: 'user',
  [Role.ASSISTANT]: 'assistant',
  [Role.TOOL]: 'tool',
};

function toChatMessage(proto: ProtoMessage, path: string): ChatMessage {
  // Proto3 enums are open: an unknown number arrives as is, so the lookup (not a range check) decides.
  const role = ROLES[proto.role];
  if (role === undefined) {
    throw invalid(`${path}.role`, proto.role === Role.UNSPECIFIED ? 'must be set (SYSTEM, DEVELOPER, USER, ASSISTANT or TOOL)' : `unknown role ${proto.role}`);
  }

  let content: string | ContentPart[];
  if (proto.parts.length === 0) {
    content = proto.content;
  } else {
    // "When both are set, content comes first."
    const parts: ContentPart[] = proto.content === '' ? [] : [{ type: 'text', text: proto.content }];
    proto.parts.forEach((part, i) => {
      const mapped = toContentPart(part, `${path}.parts[${i}]`);
      // As on the REST facade: backends only accept images from the user.
      if (mapped.type === 'image' && role !== 'user') throw invalid(`${path}.parts[${i}].image`, 'images are only allowed in USER messages');
      parts.push(mapped);
    });
    content = parts;
  }
  const message: ChatMessage = { role, content };
  if (proto.name !== '') message.name = proto.name;
  if (proto.reasoning !== '') message.reasoning = proto.reasoning;
  if (proto.toolCalls.length > 0) {
    if (role !== 'assistant') throw invalid(`${path}.tool_calls`, 'only assistant messages carry tool calls');
    message.toolCalls = proto.toolCalls.map((call, i): ToolCall => {
      if (call.id === '') throw invalid(`${path}.tool_calls[${i}].id`, 'is required');
      if (call.name === '') throw invalid(`${path}.tool_calls[${i}].name`, 'is required');
      // Arguments pass through untouched: the model produced them and may have produced invalid JSON.
      return { id: call.id, name: call.name, arguments: call.arguments };
    });
  }
  if (role === 'tool') {
    if (proto.toolCallId === '') throw invalid(`${path}.tool_call_id`, 'is required for role TOOL (the id of the call it answers)');
    message.toolCallId = proto.toolCallId;
  } else if (proto.toolCallId !== '') {
    throw invalid(`${path}.tool_call_id`, 'is only allowed on role TOOL');
  }
  return message;
}

function toContentPart(proto: ProtoContentPart, path: string): ContentPart {
  switch (proto.part.case) {
    case 'text':
      return { type: 'text', text: proto.part.value };
    case 'image':
      return toImagePart(proto.part.value, `${path}.image`);
    default:
      throw invalid(path, 'set either text or image');
  }
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

function toImagePart(image: ProtoImage, path: string): ContentPart {
  const part = toImageSource(image, path);
  const detail = image.detail.trim();
  if (detail === '') return part;
  if (detail !== 'auto' && detail !== 'low' && detail !== 'high') throw invalid(`${path}.detail`, `"${image.detail}" is not auto, low or high`);
  return { ...part, detail } as ContentPart;
}

function toImageSource(image: ProtoImage, path: string): ContentPart {
  const declared = image.mediaType.trim().toLowerCase();
  if (declared !== '' && !declared.startsWith('image/')) throw invalid(`${path}.media_type`, `"${image.mediaType}" is not an image type`);

  switch (image.source.case) {
    case 'data': {
      const bytes = image.source.value;
      if (bytes.length === 0) throw invalid(`${path}.data`, 'must not be empty');
      const mediaType = declared || sniffImageType(bytes);
      if (mediaType === undefined) {
        throw invalid(`${path}.media_type`, 'is empty and the data is not PNG, JPEG, WebP or GIF; set media_type');
      }
      return { type: 'image', mediaType, data: Buffer.from(bytes).toString('base64') };
    }
    case 'url': {
      const url = image.source.value.trim();
      const data = DATA_URL.exec(url);
      if (data) {
        // Backends take base64 without the data: prefix, so a data URL is unpacked here.
        const [, type = '', params = '', payload = ''] = data;
        const isBase64 = params.split(';').includes('base64');
        const base64 = isBase64 ? payload.replace(/\s+/g, '') : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
        if (base64 === '') throw invalid(`${path}.url`, 'the data: URL carries no data');
        const mediaType = declared || type.toLowerCase() || sniffImageType(Buffer.from(base64, 'base64'));
        if (!mediaType?.startsWith('image/')) throw invalid(`${path}.url`, 'the data: URL is not an image');
        return { type: 'image', mediaType, data: base64 };
      }
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw invalid(`${path}.url`, 'is not a URL (expected http(s):// or data:)');
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw invalid(`${path}.url`, `scheme "${parsed.protocol}" is not allowed (expected http(s):// or data:)`);
      }
      return declared ? { type: 'image', mediaType: declared, url } : { type: 'image', url };
    }
    default:
      throw invalid(path, 'set either url or data');
  }
}

/** The image formats the proto allows, recognised by their magic bytes ("guessed when empty"). */
function sniffImageType(bytes: Uint8Array): string | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) {
    return 'image/webp';
  }
  return undefined;
}

/** Names (pattern, duplicates) and tool_choice are checked with the REST door's rules in checkRouteRequest. */
function toTools(protos: ProtoTool[], path: string): ToolDefinition[] {
  return protos.map((tool, i) => {
    const definition: ToolDefinition = { name: tool.name };
    if (tool.description !== '') definition.description = tool.description;
    if (tool.parametersJson.trim() !== '') definition.parameters = parseJsonObject(tool.parametersJson, `${path}[${i}].parameters_json`);
    if (tool.strict !== undefined) definition.strict = tool.strict;
    return definition;
  });
}

/** "auto", "none", "required" or a tool's name; whether that name is one of the tools is checkRouteRequest's. */
function toToolChoice(choice: string): ToolChoice | undefined {
  const value = choice.trim();
  if (value === '') return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  return { name: value };
}

function toResponseFormat(proto: ProtoResponseFormat | undefined, path: string): ResponseFormat | undefined {
  if (proto === undefined) return undefined;
  switch (proto.type) {
    case ResponseFormatType.UNSPECIFIED:
      return undefined;
    case ResponseFormatType.TEXT:
      return { type: 'text' };
    case ResponseFormatType.JSON_OBJECT:
      return { type: 'json_object' };
    case ResponseFormatType.JSON_SCHEMA: {
      if (proto.jsonSchema.trim() === '') throw invalid(`${path}.json_schema`, 'is required for type JSON_SCHEMA');
      const format: ResponseFormat = {
        type: 'json_schema',
        // OpenAI requires a name; the proto documents "response" as the default.
        name: proto.name.trim() || 'response',
        schema: parseJsonObject(proto.jsonSchema, `${path}.json_schema`),
      };
      if (proto.strict !== undefined) format.strict = proto.strict;
      return format;
    }
    default:
      throw invalid(`${path}.type`, `unknown response format type ${proto.type as number}`);
  }
}

function parseJsonObject(text: string, path: string): Record<string, unknown> {
  // Refused before parsing: JSON.parse spends seconds on megabytes of nesting.
  if (jsonTextTooDeep(text)) throw invalid(path, `is nested more than ${MAX_JSON_DEPTH} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `is not valid JSON (${(error as Error).message})`);
  }
  if (!isJsonObject(value)) throw invalid(path, 'must be a JSON object');
  return value;
}

function toProviderOptions(struct: JsonObject, path: string): Record<string, Record<string, unknown>> | undefined {
  const entries = Object.entries(struct);
  if (entries.length === 0) return undefined;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [namespace, value] of entries) {
    if (!isJsonObject(value)) throw invalid(`${path}.${namespace}`, 'must be an object of that backend\'s settings, e.g. {"ollama": {"num_ctx": 8192}}');
    out[namespace] = value;
  }
  return out;
}

function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Answers: core -> proto

export const CATEGORIES: Record<Category, ProtoCategory> = {
  coding: ProtoCategory.CODING,
  reasoning: ProtoCategory.REASONING,
  creativity: ProtoCategory.CREATIVITY,
  general: ProtoCategory.GENERAL,
};
export const COMPLEXITIES: Record<Complexity, ProtoComplexity> = {
  simple: ProtoComplexity.SIMPLE,
  medium: ProtoComplexity.MEDIUM,
  hard: ProtoComplexity.HARD,
};
const FINISH_REASONS: Record<FinishReason, ProtoFinishReason> = {
  stop: ProtoFinishReason.STOP,
  length: ProtoFinishReason.LENGTH,
  tool_calls: ProtoFinishReason.TOOL_CALLS,
  content_filter: ProtoFinishReason.CONTENT_FILTER,
  error: ProtoFinishReason.ERROR,
  other: ProtoFinishReason.OTHER,
};
export const CACHE_STATUSES: Record<CacheStatus, ProtoCacheStatus> = {
  miss: ProtoCacheStatus.MISS,
  hit: ProtoCacheStatus.HIT,
  semantic: ProtoCacheStatus.SEMANTIC,
};

export function toProtoUsage(usage: Usage): ProtoUsage {
  return create(UsageSchema, {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.promptTokens + usage.completionTokens,
  });
}

export function toProtoRouteInfo(info: RouteInfo): ProtoRouteInfo {
  return create(RouteInfoSchema, {
    responseId: info.responseId,
    category: CATEGORIES[info.category],
    complexity: COMPLEXITIES[info.complexity],
    complexityScore: info.complexityScore,
    selectedModel: info.selectedModel,
    backend: info.backend,
    attempts: info.attempts.map((a) => ({
      model: a.model,
      backend: a.backend,
      // Empty for the attempt that answered, as the proto documents.
      error: a.ok ? '' : a.error ? `${a.error.code}: ${a.error.message}` : 'failed',
      durationMs: a.durationMs,
    })),
    cache: CACHE_STATUSES[info.cache],
    qualityPreference: info.qualityPreference,
  });
}

export function toChatResponse(info: RouteInfo, answer: CollectedAnswer): ChatResponse {
  return create(ChatResponseSchema, {
    id: info.responseId,
    model: info.selectedModel,
    message: {
      role: Role.ASSISTANT,
      content: answer.text,
      reasoning: answer.reasoning,
      toolCalls: answer.toolCalls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })),
    },
    finishReason: FINISH_REASONS[answer.finishReason],
    usage: toProtoUsage(answer.usage),
    route: toProtoRouteInfo(info),
    created: timestampFromMs(info.created * 1000),
  });
}

export function routeStreamResponse(info: RouteInfo): ChatStreamResponse {
  return create(ChatStreamResponseSchema, { part: { case: 'route', value: toProtoRouteInfo(info) } });
}

/** A stream part as a ChatStreamResponse. Error parts end the RPC with a status instead (see the service). */
export function toStreamResponse(part: Exclude<ChatStreamPart, { type: 'error' }>): ChatStreamResponse {
  switch (part.type) {
    case 'text-delta':
      return create(ChatStreamResponseSchema, { part: { case: 'textDelta', value: part.delta } });
    case 'reasoning-delta':
      return create(ChatStreamResponseSchema, { part: { case: 'reasoningDelta', value: part.delta } });
    case 'tool-call-delta':
      return create(ChatStreamResponseSchema, {
        part: {
          case: 'toolCallDelta',
          value: { index: part.index, id: part.id ?? '', name: part.name ?? '', argumentsDelta: part.argumentsDelta },
        },
      });
    case 'finish':
      return create(ChatStreamResponseSchema, {
        part: { case: 'finish', value: { finishReason: FINISH_REASONS[part.finishReason], usage: toProtoUsage(part.usage) } },
      });
  }
}

/**
 * The core reports capability, benchmark, speed and recency as raw 0..1 values; the proto promises
 * weighted factors that sum to total_score (and GET/POST /admin/explain shows the same numbers).
 */
export function toExplainResponse(explanation: Explanation, weights: ScoringWeights): ExplainResponse {
  const w = effectiveWeights(weights, explanation.qualityPreference);
  return create(ExplainResponseSchema, {
    category: CATEGORIES[explanation.category],
    complexity: COMPLEXITIES[explanation.complexity],
    complexityScore: explanation.complexityScore,
    needs: { vision: explanation.needs.vision, tools: explanation.needs.tools, json: explanation.needs.json },
    selectedModel: explanation.selectedModel ?? '',
    candidates: toProtoCandidates(explanation.candidates, w),
    qualityPreference: explanation.qualityPreference,
  });
}

/** Candidates with weighted factors (they sum to total_score); shared by Explain and the decision log. */
export function toProtoCandidates(candidates: readonly CandidateExplanation[], w: ScoringWeights): MessageInitShape<typeof CandidateSchema>[] {
  return candidates.map((c) => ({
    model: c.model,
    backend: c.backend,
    totalScore: c.total ?? 0,
    ...(c.factors ? { factors: weightedFactors(c.factors, w) } : {}),
    excluded: c.excluded,
    excludedReason: c.excluded ? (c.reason ?? '') : '',
  }));
}

export function toProtoModel(listing: ModelListing): ProtoModel {
  const caps = listing.capabilities;
  return create(ModelSchema, {
    id: listing.id,
    // The proto documents empty backend and provider for aliases, whatever the core fills in.
    backend: listing.routerAlias ? '' : listing.backend,
    provider: listing.routerAlias ? '' : listing.provider,
    family: listing.family ?? '',
    parameterCountB: listing.parameterCountB,
    quantization: listing.quantization ?? '',
    contextLength: listing.contextLength,
    capabilities: { chat: caps.chat, vision: caps.vision, tools: caps.tools, embeddings: caps.embeddings, thinking: caps.thinking ?? false },
    available: listing.available,
    routerAlias: listing.routerAlias,
    qualityPreference: listing.qualityPreference,
  });
}

/** The ROUTER_WEIGHT_* values as the scorer's weights. */
export function scoringWeights(config: Pick<Config, 'weightCapability' | 'weightBenchmark' | 'weightSpeed' | 'weightRecency'>): ScoringWeights {
  return {
    capability: config.weightCapability,
    benchmark: config.weightBenchmark,
    speed: config.weightSpeed,
    recency: config.weightRecency,
  };
}
