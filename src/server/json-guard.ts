/**
 * The JSON body parser of the REST scopes: fastify's own (secure-json-parse, prototype-poisoning
 * checks), preceded by a nesting scan that refuses bodies deeper than MAX_BODY_JSON_DEPTH. Ten
 * megabytes of `[[[[...` cost JSON.parse about six seconds of blocked event loop; the scan costs
 * milliseconds, and about a microsecond for an ordinary chat request.
 * Registered per REST scope: connect-fastify installs its own parsers in its scope.
 */
import type { FastifyInstance } from 'fastify';
import { jsonTextTooDeep, MAX_BODY_JSON_DEPTH } from '../core/validate.js';

export class JsonTooDeepError extends Error {
  readonly statusCode = 400;
  readonly code = 'json_too_deep';
  constructor(max: number) {
    super(`The JSON body is nested more than ${max} levels deep.`);
    this.name = 'JsonTooDeepError';
  }
}

export function registerJsonBodyParser(scope: FastifyInstance, max = MAX_BODY_JSON_DEPTH): void {
  // The same settings as fastify's default parser ('error' on __proto__ and constructor.prototype).
  const parse = scope.getDefaultJsonParser('error', 'error');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonTextTooDeep(body as string, max)) {
      done(new JsonTooDeepError(max), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
