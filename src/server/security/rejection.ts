/**
 * Early answers from fastify hooks (rate limit, overload, auth on REST), written in whatever wire the
 * client speaks. These hooks run before connect-es sees the request, so for RPC they must frame the
 * error themselves:
 *   REST            OpenAI error JSON with the HTTP status (and CORS headers on /v1, so browsers can read it)
 *   gRPC            trailers-only: HTTP 200 with grpc-status / grpc-message in the only HEADERS frame
 *   gRPC-Web        the same, in the response headers (the spec's trailers-only form)
 *   Connect unary   the Connect error JSON {code, message} with the code's HTTP status
 *   Connect stream  HTTP 200 and one end-of-stream envelope (flag 0x02) carrying the error
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Code } from '@connectrpc/connect';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError, type OpenAIErrorType } from '../rest/errors.js';
import { rpcServiceOf } from './surface.js';

export interface Rejection {
  /** HTTP status for REST (and for Connect unary, where it follows the code). */
  status: number;
  rpcCode: RejectionCode;
  type: OpenAIErrorType;
  /** OpenAI error `code` (REST only). */
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/** The Connect codes these hooks answer with, with their Connect names and HTTP statuses (connect protocol spec). */
const CONNECT_CODES = {
  [Code.Unauthenticated]: { name: 'unauthenticated', http: 401 },
  [Code.PermissionDenied]: { name: 'permission_denied', http: 403 },
  [Code.ResourceExhausted]: { name: 'resource_exhausted', http: 429 },
  [Code.Unavailable]: { name: 'unavailable', http: 503 },
  [Code.Unimplemented]: { name: 'unimplemented', http: 501 },
} as const;
export type RejectionCode = keyof typeof CONNECT_CODES;

type Wire = 'rest' | 'grpc' | 'grpc-web' | 'connect-unary' | 'connect-stream';

export function wireOf(request: FastifyRequest): Wire {
  const contentType = String(request.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/grpc-web')) return 'grpc-web';
  if (contentType.startsWith('application/grpc')) return 'grpc';
  if (contentType.startsWith('application/connect+')) return 'connect-stream';
  // Connect unary: application/json or application/proto POSTs, or GETs with the message in the query.
  if (rpcServiceOf(request.routeOptions.url)) return 'connect-unary';
  return 'rest';
}

/**
 * Sends the rejection; returns the reply so an async hook can `return reject(...)` and stop the chain.
 * `restHeaders` are added on REST answers only (CORS for /v1).
 */
export function reject(request: FastifyRequest, reply: FastifyReply, rejection: Rejection, restHeaders: Record<string, string> = {}): FastifyReply {
  if (rejection.retryAfterSeconds !== undefined) reply.header('retry-after', String(rejection.retryAfterSeconds));
  const wire = wireOf(request);
  const connect = CONNECT_CODES[rejection.rpcCode];
  switch (wire) {
    case 'rest':
      reply.headers(restHeaders);
      return sendError(reply, rejection.status, rejection.message, rejection.type, rejection.code);
    case 'grpc':
    case 'grpc-web':
      return trailersOnly(reply, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': String(request.headers['content-type']),
        'grpc-status': String(rejection.rpcCode),
        'grpc-message': encodeURIComponent(rejection.message),
      });
    case 'connect-unary':
      return reply
        .code(connect.http)
        .type('application/json')
        .send(JSON.stringify({ code: connect.name, message: rejection.message }));
    case 'connect-stream': {
      const json = Buffer.from(JSON.stringify({ error: { code: connect.name, message: rejection.message } }), 'utf8');
      const envelope = Buffer.alloc(5 + json.length);
      envelope.writeUInt8(0b10, 0); // end-of-stream flag
      envelope.writeUInt32BE(json.length, 1);
      json.copy(envelope, 5);
      return reply.code(200).header('content-type', String(request.headers['content-type'])).send(envelope);
    }
  }
}

/**
 * The answer for a path no route serves: OpenAI error JSON 404 for REST (and Connect, whose clients
 * read HTTP 404 as UNIMPLEMENTED), and for gRPC / gRPC-Web a trailers-only UNIMPLEMENTED, as grpc-go
 * answers an unknown method — gRPC clients read an HTTP 404 as a transport failure instead.
 */
export function rejectUnknownRoute(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reject(request, reply, {
    status: 404,
    rpcCode: Code.Unimplemented,
    type: 'invalid_request_error',
    code: 'unknown_route',
    message: `No route for ${request.method} ${request.url.split('?')[0]}.`,
  });
}

/**
 * gRPC's Trailers-Only form: the status rides in the one HEADERS frame, which also ends the stream.
 * fastify's send() writes the head and then ends with an empty DATA frame, which strict clients
 * (grpc-go, grpc-java) read as "stream closed without trailers"; ending the raw response without an
 * explicit writeHead makes Node put END_STREAM on the headers themselves.
 */
function trailersOnly(reply: FastifyReply, headers: OutgoingHttpHeaders): FastifyReply {
  reply.hijack();
  const raw = reply.raw;
  raw.statusCode = 200;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) raw.setHeader(name, value);
  raw.end();
  return reply;
}
