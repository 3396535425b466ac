/**
 * Protobuf binary that does not decode is the client's fault: INVALID_ARGUMENT, as connect-go answers.
 * connect-es 2.1 answers INTERNAL "parse binary: ..." instead (its JSON path says INVALID_ARGUMENT),
 * and settles it before any interceptor runs: a unary request is decoded first, the interceptors are
 * called with the decoded message. Its options give no hook into binary decoding (binaryOptions only
 * has readUnknownFields and recursionLimit), so short of patching the library the one place left is the
 * answer itself: each universal handler is wrapped, and an answer that is exactly that decode failure
 * is relabelled in its wire's own framing:
 *   Connect unary   HTTP 500 {"code":"internal"}            -> 400 {"code":"invalid_argument"}
 *   gRPC            trailer grpc-status 13                   -> 3
 *   gRPC-Web        trailer envelope (flag 0x80) status 13   -> 3
 *   Connect stream  end-stream envelope (flag 0x02) internal -> invalid_argument
 * Unary and server-streaming methods decode their one request message before producing any output, so
 * the failure is always the whole answer and is known when the handler resolves. Client- and
 * bidi-streaming methods decode later, mid-stream (only gRPC reflection here): they keep INTERNAL.
 * Every other answer passes through untouched; the checks cost a header lookup, or one look at an
 * already-buffered first chunk for gRPC-Web and Connect streams.
 */
import type { ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerResponse } from '@connectrpc/connect/protocol';

/** connect-es's message for a request it could not decode (protocol/serialization.js). */
const DECODE_FAILURE = 'parse binary: ';
const GRPC_INTERNAL = '13';
const GRPC_INVALID_ARGUMENT = '3';
const GRPC_WEB_TRAILER_FLAG = 0x80;
const CONNECT_END_STREAM_FLAG = 0x02;
const COMPRESSED_FLAG = 0x01;

/** Wraps the router's handlers in place; call after every service is registered. */
export function relabelDecodeFailures(router: ConnectRouter): void {
  const handlers = router.handlers as UniversalHandler[];
  for (let i = 0; i < handlers.length; i++) {
    const handler = handlers[i]!;
    const kind = handler.method.methodKind;
    if (kind !== 'unary' && kind !== 'server_streaming') continue;
    // Object.assign keeps the handler's routing metadata (requestPath, service, method, ...).
    handlers[i] = Object.assign(async (request: Parameters<UniversalHandler>[0]) => relabel(await handler(request)), handler);
  }
}

async function relabel(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const contentType = res.header?.get('content-type') ?? '';
  // gRPC: the status is in the trailer, already set when the handler resolved.
  if (contentType.startsWith('application/grpc') && !contentType.startsWith('application/grpc-web')) {
    if (res.trailer?.get('grpc-status') === GRPC_INTERNAL && isDecodeFailure(percentDecoded(res.trailer.get('grpc-message')))) {
      res.trailer.set('grpc-status', GRPC_INVALID_ARGUMENT);
    }
    return res;
  }
  if (!res.body || res.body instanceof Uint8Array || res.header?.has('content-encoding')) return res;
  if (res.status === 500 && contentType.startsWith('application/json')) return withFirstChunk(res, res.body, relabelConnectUnary);
  if (res.status === 200 && contentType.startsWith('application/grpc-web')) return withFirstChunk(res, res.body, relabelGrpcWebTrailer);
  if (res.status === 200 && contentType.startsWith('application/connect+')) return withFirstChunk(res, res.body, relabelConnectEndStream);
  return res;
}

/** Reads the first body chunk (connect-es buffered it already), lets `edit` replace it, re-attaches the rest. */
async function withFirstChunk(
  res: UniversalServerResponse,
  body: AsyncIterable<Uint8Array>,
  edit: (chunk: Uint8Array, res: UniversalServerResponse) => Uint8Array | undefined,
): Promise<UniversalServerResponse> {
  const it = body[Symbol.asyncIterator]();
  const first = await it.next();
  let pending: Uint8Array | undefined = first.done ? undefined : (edit(first.value, res) ?? first.value);
  const rest: AsyncIterator<Uint8Array> = {
    next: () => {
      if (pending === undefined) return it.next();
      const value = pending;
      pending = undefined;
      return Promise.resolve({ done: false, value });
    },
    // The node adapter reports write errors through throw(), which aborts the call: pass both on.
    return: (value?: unknown) => it.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
    throw: (error?: unknown) => it.throw?.(error) ?? Promise.reject(error),
  };
  return { ...res, body: { [Symbol.asyncIterator]: () => rest } };
}

function relabelConnectUnary(chunk: Uint8Array, res: UniversalServerResponse): Uint8Array | undefined {
  const error = parseJson(chunk) as { code?: unknown; message?: unknown } | undefined;
  if (error?.code !== 'internal' || !isDecodeFailure(error.message)) return undefined;
  const body = new TextEncoder().encode(JSON.stringify({ ...error, code: 'invalid_argument' }));
  res.status = 400;
  res.header?.set('content-length', String(body.byteLength));
  return body;
}

function relabelGrpcWebTrailer(chunk: Uint8Array): Uint8Array | undefined {
  const data = envelopeData(chunk, GRPC_WEB_TRAILER_FLAG);
  if (!data) return undefined;
  const lines = new TextDecoder().decode(data).split('\r\n');
  const field = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  if (field('grpc-status') !== GRPC_INTERNAL || !isDecodeFailure(percentDecoded(field('grpc-message')))) return undefined;
  const relabelled = lines.map((l) => (l.toLowerCase().startsWith('grpc-status:') ? `grpc-status: ${GRPC_INVALID_ARGUMENT}` : l)).join('\r\n');
  return envelope(GRPC_WEB_TRAILER_FLAG, new TextEncoder().encode(relabelled));
}

function relabelConnectEndStream(chunk: Uint8Array): Uint8Array | undefined {
  const data = envelopeData(chunk, CONNECT_END_STREAM_FLAG);
  const end = data && (parseJson(data) as { error?: { code?: unknown; message?: unknown } } | undefined);
  if (end?.error?.code !== 'internal' || !isDecodeFailure(end.error.message)) return undefined;
  return envelope(CONNECT_END_STREAM_FLAG, new TextEncoder().encode(JSON.stringify({ ...end, error: { ...end.error, code: 'invalid_argument' } })));
}

/** The payload of a chunk that is exactly one uncompressed envelope with `flag`, else undefined. */
function envelopeData(chunk: Uint8Array, flag: number): Uint8Array | undefined {
  if (chunk.byteLength < 5 || (chunk[0]! & flag) === 0 || (chunk[0]! & COMPRESSED_FLAG) !== 0) return undefined;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  return chunk.byteLength === 5 + length ? chunk.subarray(5) : undefined;
}

function envelope(flag: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

function isDecodeFailure(message: unknown): boolean {
  return typeof message === 'string' && message.startsWith(DECODE_FAILURE);
}

function percentDecoded(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}
