/**
 * The nesting guard in front of every JSON parse of a request body, REST and RPC alike. Ten megabytes
 * of `[[[[...` cost JSON.parse about six seconds of blocked event loop; the scan (jsonTextTooDeep)
 * costs milliseconds, and about a microsecond for an ordinary chat request.
 *
 * - REST: the JSON body parser of the REST scopes, fastify's own (secure-json-parse, prototype-poisoning
 *   checks) preceded by the scan. Registered per REST scope: connect-fastify installs its own parsers
 *   in its scope.
 * - Connect / gRPC-Web / gRPC JSON: connect-es parses those bodies itself, so the scan rides in the text
 *   decoder of its `jsonOptions` (connectJsonOptions), which connect-es calls on each message right
 *   before JSON.parse — after decompression and envelope splitting, for unary and streaming alike.
 */
import type { JsonReadOptions, JsonWriteOptions } from '@bufbuild/protobuf';
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

/**
 * A compressed REST body: the JSON parser would read gzip bytes as text and answer "not valid
 * JSON", which sends the client looking in the wrong place. (RPC bodies are not parsed here:
 * connect-es decompresses its own.)
 */
export class UnsupportedEncodingError extends Error {
  readonly statusCode = 415;
  readonly code = 'unsupported_content_encoding';
  constructor(encoding: string) {
    super(`Unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}: send the JSON body uncompressed.`);
    this.name = 'UnsupportedEncodingError';
  }
}

export function registerJsonBodyParser(scope: FastifyInstance, max = MAX_BODY_JSON_DEPTH): void {
  // The same settings as fastify's default parser ('error' on __proto__ and constructor.prototype).
  const parse = scope.getDefaultJsonParser('error', 'error');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (typeof encoding === 'string' && encoding.trim() !== '' && encoding.trim().toLowerCase() !== 'identity') {
      done(new UnsupportedEncodingError(encoding), undefined);
      return;
    }
    if (jsonTextTooDeep(body as string, max)) {
      done(new JsonTooDeepError(max), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}

/** What connect-es's JSON serialization (createJsonSerialization) reads from the router's `jsonOptions`. */
type ConnectJsonOptions = Partial<JsonReadOptions & JsonWriteOptions> & { textDecoder: { decode(input?: Uint8Array): string } };

/**
 * connect-es `jsonOptions` whose text decoder refuses messages nested deeper than `max`. connect-es
 * wraps whatever its JSON parse throws as INVALID_ARGUMENT, keeping the message. (The router options
 * type only lists the protobuf JSON options, but the object reaches createJsonSerialization as is;
 * test/bad-input.test.ts would catch a connect-es upgrade that stopped honouring the decoder.)
 */
export function connectJsonOptions(max = MAX_BODY_JSON_DEPTH): ConnectJsonOptions {
  const utf8 = new TextDecoder();
  return {
    // Strict, unlike connect-es's default: with unknown fields ignored, a misspelt enum name is read
    // as its zero value too, and `{"scope": "CACHE_SCOPE_SEMANTC"}` emptied every cache. JSON callers
    // are people with curl and scripts, who want INVALID_ARGUMENT naming the field; binary protobuf
    // clients keep their forward compatibility (unknown fields there are skipped as always).
    ignoreUnknownFields: false,
    textDecoder: {
      decode(input?: Uint8Array): string {
        const text = utf8.decode(input);
        if (jsonTextTooDeep(text, max)) throw new JsonTooDeepError(max);
        return text;
      },
    },
  };
}
