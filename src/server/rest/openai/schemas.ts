/**
 * JSON schemas of the OpenAI-compatible routes (validated by fastify's Ajv before the handler runs),
 * plus the TypeScript shapes of the bodies they accept.
 *
 * Deliberate choices:
 * - No `additionalProperties: false`: real clients send many fields we do not use (store, metadata,
 *   ...); they are accepted and ignored. reasoning_effort, logit_bias and user reach OpenAI-compatible
 *   backends (through provider options, see request.ts).
 * - Bodies are validated with their real types, no coercion (src/server/validators.ts): `"10"` is not
 *   an integer. Optional fields also accept `null`: several client libraries send
 *   `"max_tokens": null` for "unset".
 * - Fields that take several non-null types (message content, image_url, stop, tool_choice,
 *   function_call) have no schema here and are checked in request.ts: `type: [a, b]` next to
 *   type-specific keywords trips Ajv's strict mode, and `anyOf` misbehaves with fastify's type
 *   coercion (a failed branch may already have rewritten the value, e.g. unwrapped a one-element array).
 *
 * Limits and ranges come from src/core/validate.ts, the one place REST and RPC share them.
 */
import { MAX_FEEDBACK_COMMENT_CHARS, MAX_RESPONSE_ID_CHARS, MAX_TOOLS, RANGES } from '../../../core/validate.js';

/** Unchecked by the schema: request.ts validates every field it reads. */
export interface WireContentPart {
  type?: unknown;
  text?: unknown;
  refusal?: unknown;
  /** OpenAI sends an object; a few clients send the URL string itself. */
  image_url?: unknown;
}

export interface WireToolCall {
  id: string;
  type?: 'function';
  function: { name: string; arguments?: string };
}

export interface WireMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  /** Unchecked by the schema (see above). */
  content?: unknown;
  name?: string | null;
  tool_calls?: WireToolCall[] | null;
  tool_call_id?: string | null;
  function_call?: { name: string; arguments?: string } | null;
  reasoning_content?: string | null;
}

export interface WireFunction {
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export interface WireTool {
  type: 'function';
  function: WireFunction;
}

export interface ChatCompletionBody {
  model?: string | null;
  messages: WireMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  logprobs?: boolean | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  stop?: unknown;
  tools?: WireTool[] | null;
  tool_choice?: unknown;
  parallel_tool_calls?: boolean | null;
  /** SmarterRouter's own: settings for one backend plugin, by plugin name (see docs/plugins.md). */
  provider_options?: Record<string, Record<string, unknown>> | null;
  functions?: WireFunction[] | null;
  function_call?: unknown;
  response_format?: {
    type: 'text' | 'json_object' | 'json_schema';
    json_schema?: { name?: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null };
  } | null;
  user?: string | null;
  reasoning_effort?: string | null;
  logit_bias?: Record<string, number> | null;
}

export interface FeedbackBody {
  response_id: string;
  score: number;
  comment?: string | null;
}

const nullable = (type: string | string[]): { type: string[] } => ({ type: [...(Array.isArray(type) ? type : [type]), 'null'] });

const functionSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    description: nullable('string'),
    parameters: nullable('object'),
    strict: nullable('boolean'),
  },
} as const;

const messageSchema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
    // string | content part[] | null: checked in request.ts.
    content: {},
    name: nullable('string'),
    tool_calls: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['id', 'function'],
        properties: {
          id: { type: 'string' },
          type: { type: 'string', enum: ['function'] },
          function: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, arguments: { type: 'string' } },
          },
        },
      },
    },
    tool_call_id: nullable('string'),
    function_call: {
      type: ['object', 'null'],
      required: ['name'],
      properties: { name: { type: 'string' }, arguments: { type: 'string' } },
    },
    reasoning_content: nullable('string'),
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Response schemas: fastify serialises 200 answers with them (fast-json-stringify), so a field that
// is not listed here never reaches the client. Keep them in step with response.ts; no `required`
// lists, so a missing optional field is left out instead of failing the answer.

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;

const functionCallSchema = { type: 'object', properties: { name: str, arguments: str } } as const;

/** A `chat.completion` object (response.ts chatCompletionOf), field for field. */
export const chatCompletionResponseSchema = {
  type: 'object',
  properties: {
    id: str,
    object: str,
    created: int,
    model: str,
    choices: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: int,
          message: {
            type: 'object',
            properties: {
              role: str,
              content: { type: ['string', 'null'] },
              reasoning_content: str,
              tool_calls: {
                type: 'array',
                items: { type: 'object', properties: { id: str, type: str, function: functionCallSchema } },
              },
              function_call: functionCallSchema,
              refusal: { type: 'null' },
            },
          },
          logprobs: { type: 'null' },
          finish_reason: str,
        },
      },
    },
    usage: { type: 'object', properties: { prompt_tokens: int, completion_tokens: int, total_tokens: int } },
  },
} as const;

const modelSchema = { type: 'object', properties: { id: str, object: str, created: int, owned_by: str } } as const;

/** GET /v1/models */
export const modelListSchema = {
  response: { 200: { type: 'object', properties: { object: str, data: { type: 'array', items: modelSchema } } } },
} as const;

/** GET /v1/models/{id} */
export const modelSchemaRoute = { response: { 200: modelSchema } } as const;

/**
 * The schemas of POST /v1/chat/completions: the body (the message count limit comes from the
 * config) and the non-streaming answer (streams are written by sse.ts, past the serialiser).
 */
export function chatCompletionSchema(limits: { maxMessages: number }) {
  return {
    response: { 200: chatCompletionResponseSchema },
    body: {
      type: 'object',
      required: ['messages'],
      properties: {
        model: nullable('string'),
        messages: { type: 'array', minItems: 1, maxItems: limits.maxMessages, items: messageSchema },
        stream: nullable('boolean'),
        stream_options: { type: ['object', 'null'], properties: { include_usage: nullable('boolean') } },
        temperature: { type: ['number', 'null'], minimum: RANGES.temperature.min, maximum: RANGES.temperature.max },
        top_p: { type: ['number', 'null'], minimum: RANGES.top_p.min, maximum: RANGES.top_p.max },
        n: { type: ['integer', 'null'], minimum: 1, maximum: 128 },
        logprobs: nullable('boolean'),
        max_tokens: { type: ['integer', 'null'], minimum: RANGES.max_tokens.min, maximum: RANGES.max_tokens.max },
        max_completion_tokens: { type: ['integer', 'null'], minimum: RANGES.max_tokens.min, maximum: RANGES.max_tokens.max },
        presence_penalty: { type: ['number', 'null'], minimum: RANGES.presence_penalty.min, maximum: RANGES.presence_penalty.max },
        frequency_penalty: { type: ['number', 'null'], minimum: RANGES.frequency_penalty.min, maximum: RANGES.frequency_penalty.max },
        seed: { type: ['integer', 'null'], minimum: RANGES.seed.min, maximum: RANGES.seed.max },
        // string | string[] (at most 4): checked in request.ts.
        stop: {},
        tools: {
          type: ['array', 'null'],
          maxItems: MAX_TOOLS,
          items: {
            type: 'object',
            required: ['type', 'function'],
            properties: { type: { type: 'string', enum: ['function'] }, function: functionSchema },
          },
        },
        tool_choice: {},
        parallel_tool_calls: { type: ['boolean', 'null'] },
        provider_options: { type: ['object', 'null'], maxProperties: 16, additionalProperties: { type: 'object' } },
        functions: { type: ['array', 'null'], maxItems: MAX_TOOLS, items: functionSchema },
        function_call: {},
        response_format: {
          type: ['object', 'null'],
          required: ['type'],
          properties: {
            type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] },
            json_schema: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                description: { type: 'string' },
                schema: { type: 'object' },
                strict: nullable('boolean'),
              },
            },
          },
        },
        user: { type: ['string', 'null'], maxLength: 256 },
        reasoning_effort: { type: ['string', 'null'], enum: ['minimal', 'low', 'medium', 'high', null] },
        logit_bias: { type: ['object', 'null'], maxProperties: 300, additionalProperties: { type: 'number', minimum: -100, maximum: 100 } },
      },
    },
  } as const;
}

export const feedbackSchema = {
  body: {
    type: 'object',
    required: ['response_id', 'score'],
    properties: {
      response_id: { type: 'string', minLength: 1, maxLength: MAX_RESPONSE_ID_CHARS },
      score: { type: 'number', minimum: RANGES.score.min, maximum: RANGES.score.max },
      comment: { type: ['string', 'null'], maxLength: MAX_FEEDBACK_COMMENT_CHARS },
    },
  },
  response: { 200: { type: 'object', properties: { accepted: { type: 'boolean' }, response_id: str, model: str } } },
} as const;
