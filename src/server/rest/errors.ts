/**
 * OpenAI's error JSON, the one error shape every REST route answers with:
 *   {"error": {"message": "...", "type": "...", "param": null, "code": "..."}}
 */
import type { FastifyReply } from 'fastify';

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'api_error'
  | 'not_implemented';

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string | null };
}

export function errorBody(message: string, type: OpenAIErrorType, code: string | null = null, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  type: OpenAIErrorType,
  code: string | null = null,
  param: string | null = null,
): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(message, type, code, param));
}

/**
 * The default type for a status, when a caller has nothing more specific. OpenAI answers a wrong
 * key (401) and an unknown model or URL (404) with `invalid_request_error` and says which in `code`
 * (`invalid_api_key`, `model_not_found`); clients that branch on `type` expect the same here.
 */
export function typeForStatus(status: number): OpenAIErrorType {
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 501) return 'not_implemented';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'server_error';
}

/** 501 for REST routes of capabilities that are not built yet, naming the capability. */
export function notImplemented(reply: FastifyReply, capability: string): FastifyReply {
  return sendError(reply, 501, `${capability} is not implemented yet in this SmarterRouter version.`, 'not_implemented', 'not_implemented');
}
