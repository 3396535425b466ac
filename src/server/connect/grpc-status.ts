/**
 * The gRPC status an answer carried, for the access log: gRPC answers HTTP 200 whatever happened, so
 * "status=200" alone hid a RESOURCE_EXHAUSTED (or any other failure) from anyone reading the log.
 * Read from the trailers an HTTP/2 answer sent, or from the headers of a trailers-only answer (gRPC or
 * gRPC-Web, errors raised before any message). A gRPC-Web status inside the body is not seen here.
 */
import type http from 'node:http';
import type http2 from 'node:http2';

export function grpcStatusOf(res: http.ServerResponse | http2.Http2ServerResponse): number | undefined {
  const value = res.getHeader('grpc-status') ?? ('stream' in res ? res.stream?.sentTrailers?.['grpc-status'] : undefined);
  return value === undefined ? undefined : Number(value);
}
