/**
 * Every failure of the OpenAI routes -> OpenAI error JSON, in one place: schema violations (with the
 * offending field as `param`), unreadable bodies, InvalidRequest from request.ts, the core's
 * RouterError codes, a backend failure after the first token of a non-streaming answer, and bugs.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PluginError } from '../../../plugin-api/index.js';
import { RouterError, type RouterErrorCode } from '../../../core/types.js';
import { sendError, typeForStatus, type OpenAIErrorType } from '../errors.js';
import { describeValue, InvalidRequest } from './request.js';

/** Core error codes -> HTTP statuses (499: the client closed the request, nginx's convention). */
export const ROUTER_ERROR_STATUS: Record<RouterErrorCode, number> = {
  invalid_request: 400,
  model_not_found: 404,
  not_found: 404,
  no_candidates: 503,
  all_candidates_failed: 502,
  overloaded: 503,
  disabled: 404,
  aborted: 499,
};

export interface ErrorReply {
  status: number;
  message: string;
  type: OpenAIErrorType;
  code: string | null;
  param: string | null;
  /** Sent as Retry-After: when a retry may succeed (busy models, an open circuit). */
  retryAfterSeconds?: number;
}

/** Ajv's error object, as fastify attaches it to `error.validation`. */
interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

export function errorReplyOf(error: unknown, request: FastifyRequest): ErrorReply {
  if (error instanceof InvalidRequest) return { status: 400, message: error.message, type: 'invalid_request_error', code: error.code, param: error.param };
  if (RouterError.isInstance(error)) {
    const status = ROUTER_ERROR_STATUS[error.code] ?? 500;
    const reply: ErrorReply = { status, message: error.message, type: typeForStatus(status), code: error.code, param: error.details.param ?? null };
    if (error.details.retryAfterSeconds !== undefined) reply.retryAfterSeconds = error.details.retryAfterSeconds;
    return reply;
  }
  if (PluginError.isInstance(error)) {
    // A non-streaming answer that broke after the model had started: the backend failed, not the client.
    if (error.code === 'aborted') return { status: 499, message: 'The request was aborted.', type: 'invalid_request_error', code: 'aborted', param: null };
    return { status: 502, message: `The model failed while answering (${error.code}).`, type: 'server_error', code: error.code, param: null };
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(fastifyError.validation) && fastifyError.validation.length > 0) {
    // The value quoted back comes from the part that failed: a query-string error has none in the body.
    const source = fastifyError.validationContext === 'querystring' ? request.query : fastifyError.validationContext === 'params' ? request.params : request.body;
    return validationReply(fastifyError.validation, source);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return badRequest('We could not parse the JSON body of your request: it is not valid JSON.', 'invalid_json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest('The request body is empty: send a JSON object.', 'invalid_json');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: `Unsupported Content-Type '${String(request.headers['content-type'] ?? '')}': send application/json.`, type: 'invalid_request_error', code: 'unsupported_media_type', param: null };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (body too large, bad headers): their messages are written for clients.
    const message = fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? bodyTooLarge(request) : (fastifyError.message ?? 'Bad request.');
    // fastify's FST_ERR_* names are framework internals: clients get a code of the API's own.
    const own = fastifyError.code;
    const code = own === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'request_too_large' : own === undefined || own.startsWith('FST_') ? 'invalid_request' : own;
    return { status, message, type: typeForStatus(status), code, param: null };
  }
  return { status: 500, message: 'Internal server error.', type: 'server_error', code: 'internal_error', param: null };
}

function bodyTooLarge(request: FastifyRequest): string {
  const limit = request.routeOptions?.bodyLimit;
  return typeof limit === 'number' ? `The request body is larger than ${+(limit / 1024 / 1024).toFixed(1)} MB.` : 'The request body is too large.';
}

export function sendErrorReply(reply: FastifyReply, e: ErrorReply): FastifyReply {
  if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
  return sendError(reply, e.status, e.message, e.type, e.code, e.param);
}

function badRequest(message: string, code: string, param: string | null = null): ErrorReply {
  return { status: 400, message, type: 'invalid_request_error', code, param };
}

/**
 * The violation to report. A plain schema stops at its first error, but a failed `anyOf` reports
 * one error per branch and then a summary: for `{"force": "yes"}` against "null, or an object
 * whose force is a boolean", the first error is the body not being null, which is not the mistake.
 * The branch that got furthest into the value names it: the deepest error wins, and type errors of
 * several branches at that same spot merge ("a string or an array").
 */
export function relevantError(errors: readonly AjvError[]): AjvError {
  const detailed = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  if (detailed.length <= 1) return detailed[0] ?? errors[0];
  const depth = (e: AjvError) => e.instancePath.split('/').length + (e.keyword === 'required' || e.keyword === 'additionalProperties' ? 1 : 0);
  const deepest = Math.max(...detailed.map(depth));
  const at = detailed.filter((e) => depth(e) === deepest);
  const first = at[0];
  const types = at.filter((e) => e.keyword === 'type' && e.instancePath === first.instancePath);
  if (first.keyword !== 'type' || types.length < 2) return first;
  const merged = [...new Set(types.flatMap((e) => String(e.params.type).split(',')))];
  return { ...first, params: { ...first.params, type: merged } };
}

/** One clear sentence for the schema violation, naming the field the way OpenAI does. */
export function validationReply(errors: AjvError[], body: unknown): ErrorReply {
  const e = relevantError(errors);
  const missing = e.keyword === 'required' ? String(e.params.missingProperty ?? '') : undefined;
  const path = e.instancePath;
  const param = paramOf(path, missing);
  const value = valueAt(body, path);
  if (path === '' && e.keyword === 'type') return badRequest('The request body must be a JSON object.', 'invalid_type');
  if (!param) return badRequest(`Invalid request: ${e.message ?? 'the body does not match the expected shape'}.`, 'invalid_value');
  switch (e.keyword) {
    case 'required':
      return badRequest(`Missing required parameter: '${param}'.`, 'missing_required_parameter', param);
    case 'type':
      return badRequest(`Invalid type for '${param}': expected ${typesText(e.params.type)}, but got ${describeValue(value)} instead.`, 'invalid_type', param);
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum':
      return badRequest(`Invalid '${param}': expected a value ${String(e.params.comparison)} ${String(e.params.limit)}, but got ${JSON.stringify(value)} instead.`, 'invalid_value', param);
    case 'minItems':
      return Array.isArray(value) && value.length === 0
        ? badRequest(`Invalid '${param}': empty array. Expected an array with at least ${String(e.params.limit)} item(s).`, 'empty_array', param)
        : badRequest(`Invalid '${param}': expected at least ${String(e.params.limit)} item(s).`, 'array_below_min_length', param);
    case 'maxItems': {
      const got = Array.isArray(value) ? value.length : '?';
      if (param === 'messages') return badRequest(`Too many messages: ${got} sent, at most ${String(e.params.limit)} are allowed in one request.`, 'array_above_max_length', param);
      return badRequest(`Invalid '${param}': expected at most ${String(e.params.limit)} item(s), but got ${got}.`, 'array_above_max_length', param);
    }
    case 'minLength':
      return badRequest(`Invalid '${param}': string too short, expected at least ${String(e.params.limit)} character(s).`, 'string_below_min_length', param);
    case 'maxLength':
      return badRequest(`Invalid '${param}': string too long, expected at most ${String(e.params.limit)} characters.`, 'string_above_max_length', param);
    case 'enum': {
      const allowed = Array.isArray(e.params.allowedValues) ? e.params.allowedValues.map((v) => `'${String(v)}'`).join(', ') : '';
      return badRequest(`Invalid value for '${param}': expected one of ${allowed}, but got ${JSON.stringify(value)}.`, 'invalid_value', param);
    }
    default:
      return badRequest(`Invalid '${param}': ${e.message ?? 'invalid value'}.`, 'invalid_value', param);
  }
}

/** "/messages/0/content" (+ missing "role") -> "messages[0].content" / "messages[0].role". */
export function paramOf(instancePath: string, missing?: string): string {
  const segments = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (missing) segments.push(missing);
  let out = '';
  for (const s of segments) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function valueAt(body: unknown, instancePath: string): unknown {
  let current = body;
  for (const raw of instancePath.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
};

function typesText(types: unknown): string {
  const list = (Array.isArray(types) ? types : String(types).split(',')).map(String).filter((t) => t !== 'null');
  const words = list.map((t) => ARTICLE[t] ?? t);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : (words[0] ?? 'another type');
}
