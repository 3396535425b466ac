/**
 * Whitelisted query strings for admin routes. fastify's Ajv silently drops parameters a schema
 * does not list (removeAdditional), which hides typos and lets anything through unnoticed; here an
 * unknown parameter, an unlisted sort field or an out-of-range limit is a 400 in OpenAI's error
 * JSON naming the parameter. Values never reach a query builder unchecked.
 *
 *   app.get('/admin/things', whitelistedQuery({ ...listQueryProperties(['name', 'created_at']) }), handler)
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

export type QueryProperties = Record<string, Record<string, unknown>>;

/** Route options: the querystring schema plus a hook that refuses parameters it does not list. */
export function whitelistedQuery(properties: QueryProperties, required: string[] = []) {
  const allowed = new Set(Object.keys(properties));
  const names = [...allowed].map((n) => `'${n}'`).join(', ') || 'none';
  return {
    schema: { querystring: { type: 'object', properties, required, additionalProperties: false } },
    preValidation: async (request: FastifyRequest, reply: FastifyReply) => {
      for (const key of Object.keys((request.query as Record<string, unknown> | undefined) ?? {})) {
        if (!allowed.has(key)) {
          // The name is client text: shortened and quoted with JSON escaping, never echoed raw.
          return sendError(reply, 400, `Unknown query parameter ${JSON.stringify(key.slice(0, 64))}: allowed are ${names}.`, 'invalid_request_error', 'unknown_parameter', key.slice(0, 64));
        }
      }
      return undefined;
    },
  };
}

/**
 * The list parameters of admin collections: `sort` (one of the fields, `-field` for descending),
 * `limit` (1..maxLimit) and `offset`.
 */
export function listQueryProperties(sortFields: readonly string[], maxLimit = 1000): QueryProperties {
  return {
    sort: { type: 'string', enum: [...sortFields, ...sortFields.map((f) => `-${f}`)] },
    limit: { type: 'integer', minimum: 1, maximum: maxLimit },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  };
}

/** A parsed `sort` value: the field and its direction. */
export function sortOf(sort: string | undefined, fallback: string): { field: string; descending: boolean } {
  const value = sort ?? fallback;
  return value.startsWith('-') ? { field: value.slice(1), descending: true } : { field: value, descending: false };
}
