/**
 * JSON schemas of the OpenAI-compatible routes (validated by fastify's Ajv before the handler runs),
 * plus the TypeScript shapes of the bodies they accept.
 *
 * Deliberate choices:
 * - No `additionalProperties: false`: real clients send many fields we do not use (logit_bias, store,
 *   metadata, reasoning_effort...); they are accepted and ignored.
 * - Optional fields also accept `null`: several client libraries send `"max_tokens": null` for
 *   "unset", and fastify's Ajv would otherwise coerce null to 0 and reject it.
 * - Fields that take several non-null types (message content, image_url, stop, tool_choice,
 *   function_call) have no schema here and are checked in request.ts: `type: [a, b]` next to
 *   type-specific keywords trips Ajv's strict mode, and `anyOf` misbehaves with fastify's type
 *   coercion (a failed branch may already have rewritten the value, e.g. unwrapped a one-element array).
 */

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
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  stop?: unknown;
  tools?: WireTool[] | null;
  tool_choice?: unknown;
  functions?: WireFunction[] | null;
  function_call?: unknown;
  response_format?: {
    type: 'text' | 'json_object' | 'json_schema';
    json_schema?: { name?: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null };
  } | null;
  user?: string | null;
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

/** The body schema of POST /v1/chat/completions; the message count limit comes from the config. */
export function chatCompletionSchema(limits: { maxMessages: number }) {
  return {
    body: {
      type: 'object',
      required: ['messages'],
      properties: {
        model: nullable('string'),
        messages: { type: 'array', minItems: 1, maxItems: limits.maxMessages, items: messageSchema },
        stream: nullable('boolean'),
        stream_options: { type: ['object', 'null'], properties: { include_usage: nullable('boolean') } },
        temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
        top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
        n: { type: ['integer', 'null'], minimum: 1 },
        max_tokens: { type: ['integer', 'null'], minimum: 1 },
        max_completion_tokens: { type: ['integer', 'null'], minimum: 1 },
        presence_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
        frequency_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
        seed: nullable('integer'),
        // string | string[] (at most 4): checked in request.ts.
        stop: {},
        tools: {
          type: ['array', 'null'],
          items: {
            type: 'object',
            required: ['type', 'function'],
            properties: { type: { type: 'string', enum: ['function'] }, function: functionSchema },
          },
        },
        tool_choice: {},
        functions: { type: ['array', 'null'], items: functionSchema },
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
        user: nullable('string'),
      },
    },
  } as const;
}

export const feedbackSchema = {
  body: {
    type: 'object',
    required: ['response_id', 'score'],
    properties: {
      response_id: { type: 'string', minLength: 1, maxLength: 256 },
      score: { type: 'number', minimum: -1, maximum: 1 },
      comment: { type: ['string', 'null'], maxLength: 2000 },
    },
  },
} as const;
