/**
 * POST /v1/embeddings in OpenAI's shape. Which model embeds is the core's decision (Embedder): the
 * router's name means ROUTER_EMBED_MODEL, a concrete name means that model. This file only reads
 * the wire body and writes the wire answer.
 */
import type { FastifyInstance } from 'fastify';
import type { InFlightCalls } from '../../in-flight.js';
import type { Config } from '../../../config/index.js';
import type { Router } from '../../../core/router.js';
import { describeValue, InvalidRequest } from './request.js';

export interface EmbeddingsBody {
  model?: string | null;
  input?: unknown;
  encoding_format?: 'float' | 'base64' | null;
  dimensions?: number | null;
  user?: string | null;
}

export const embeddingsSchema = {
  body: {
    type: 'object',
    properties: {
      model: { type: ['string', 'null'] },
      encoding_format: { type: ['string', 'null'], enum: ['float', 'base64', null] },
      dimensions: { type: ['integer', 'null'], minimum: 1 },
      user: { type: ['string', 'null'] },
    },
  },
} as const;

export function embeddingsRoute(app: FastifyInstance, deps: { router: Pick<Router, 'embed'>; config: Config; calls?: InFlightCalls }): void {
  const { router, config, calls } = deps;
  app.post('/v1/embeddings', { schema: embeddingsSchema }, async (request, reply) => {
    const body = request.body as EmbeddingsBody;
    const input = inputTexts(body.input, config.maxPromptChars);
    const clientGone = new AbortController();
    const onClose = (): void => {
      if (!reply.sent) clientGone.abort();
    };
    reply.raw.once('close', onClose);
    try {
      const embed = () =>
        router.embed({ model: body.model || config.externalModelName, input, ...(body.dimensions != null ? { dimensions: body.dimensions } : {}) }, clientGone.signal);
      const result = await (calls ? calls.track(clientGone, embed) : embed());
      const base64 = body.encoding_format === 'base64';
      return reply.header('x-router-model', /^[\x20-\x7e]*$/.test(result.model) ? result.model : encodeURIComponent(result.model)).send({
        object: 'list',
        data: result.embeddings.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? float32Base64(vector) : vector })),
        model: result.model,
        usage: { prompt_tokens: result.usage.promptTokens, total_tokens: result.usage.promptTokens },
      });
    } finally {
      reply.raw.off('close', onClose);
    }
  });
}

/** OpenAI's `input`: a string or an array of strings. Token-id arrays need the model's tokenizer. */
export function inputTexts(input: unknown, maxChars: number): string[] {
  if (input === undefined || input === null) throw new InvalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
  if (!texts) throw new InvalidRequest(`Invalid type for 'input': expected a string or an array of strings, but got ${describeValue(input)} instead.`, 'input', 'invalid_type');
  texts.forEach((t, i) => {
    if (typeof t === 'number' || (Array.isArray(t) && t.every((x) => typeof x === 'number'))) {
      throw new InvalidRequest(
        "Token arrays are not supported for 'input' by SmarterRouter: the backends' tokenizers differ. Send the text instead.",
        'input',
        'unsupported_value',
      );
    }
    if (typeof t !== 'string') throw new InvalidRequest(`Invalid type for 'input[${i}]': expected a string, but got ${describeValue(t)} instead.`, `input[${i}]`, 'invalid_type');
    if (t.length > maxChars) {
      throw new InvalidRequest(`input[${i}] is too long: ${t.length} characters, at most ${maxChars} are allowed.`, `input[${i}]`, 'string_above_max_length');
    }
  });
  return texts as string[];
}

/** encoding_format "base64": the vector as little-endian float32 bytes, as OpenAI sends it. */
export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}
