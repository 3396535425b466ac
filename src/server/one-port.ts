/**
 * One TCP port for HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge).
 *
 * Node 20 ignores `allowHTTP1` on a cleartext http2 server, and fastify's `http2: true` is h2c-only,
 * which breaks HTTP/1.1 clients (curl, OpenAI SDKs, OpenWebUI). So a plain net.Server peeks at each
 * new connection's first bytes: the HTTP/2 client preface goes to an http2 server, anything else to an
 * http.Server, and both run fastify's handler. gRPC (always HTTP/2) and REST share the port.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A client that sends nothing for this long is dropped before we know its protocol. */
const PEEK_TIMEOUT_MS = 30_000;

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

export interface OnePortServer extends net.Server {
  /** Gracefully closes keep-alive HTTP/1.1 sockets and sends GOAWAY to idle HTTP/2 sessions. */
  closeIdleConnections(): void;
  /** Destroys every open connection (after the drain timeout). */
  closeAllConnections(): void;
}

export function createOnePortServer(handler: Handler): OnePortServer {
  const h1 = http.createServer((req, res) => {
    closeIfBodyAbandoned(req, res);
    handler(req, res);
  });
  const h2 = http2.createServer({}, (req, res) => {
    resetIfBodyUnread(req);
    handler(req, res);
  });
  const sessions = new Set<http2.Http2Session>();
  const pending = new Set<net.Socket>();

  h2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });

  // noDelay: without it Nagle's algorithm holds a response's second small write (body after headers,
  // SSE chunks) until the first is acknowledged, adding milliseconds per request.
  const outer = net.createServer({ noDelay: true }, (socket) => {
    pending.add(socket);
    let seen: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), PEEK_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      seen = seen.length ? Buffer.concat([seen, chunk]) : chunk;
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isH2Prefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      // Wait for more bytes only while they could still be the HTTP/2 preface.
      if (isH2Prefix && seen.length < H2_PREFACE.length) return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      pending.delete(socket);
      socket.pause();
      // Put the peeked bytes back so the real server parses them.
      socket.unshift(seen);
      if (isH2Prefix) {
        // The http2 session drains the socket's JS buffer into its native parser itself; resuming
        // here would let the stream hand those bytes to nobody.
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    const onClose = () => {
      clearTimeout(timer);
      pending.delete(socket);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', () => socket.destroy());
  }) as OnePortServer;

  // The inner http.Server only tracks connections (for closeIdleConnections and its timeouts)
  // after its own 'listening' event, which never fires because it never listens itself.
  outer.on('listening', () => h1.emit('listening'));
  // fastify answers malformed HTTP/1.1 with 400 through 'clientError' on the server it was given.
  h1.on('clientError', (error, socket) => {
    if (outer.listenerCount('clientError') > 0) outer.emit('clientError', error, socket);
    else socket.destroy();
  });
  h2.on('sessionError', () => {});

  outer.closeIdleConnections = () => {
    h1.closeIdleConnections();
    for (const session of sessions) session.close();
    for (const socket of pending) socket.destroy();
  };
  outer.closeAllConnections = () => {
    h1.closeAllConnections();
    for (const session of sessions) session.destroy();
    for (const socket of pending) socket.destroy();
  };
  // Forward timeouts fastify sets on "the" server to the real HTTP/1.1 server.
  (outer as unknown as { setTimeout: (ms: number) => OnePortServer }).setTimeout = (ms: number) => {
    h1.setTimeout(ms);
    return outer;
  };
  const originalClose = outer.close.bind(outer);
  outer.close = ((callback?: (err?: Error) => void) => {
    originalClose(callback);
    h1.close();
    h2.close();
    return outer;
  }) as OnePortServer['close'];
  return outer;
}

/**
 * HTTP/1.1: a handler that stops reading a body midway leaves the rest of it on the socket, and Node
 * then stops reading that socket for good. connect-es does this to a chunked message over readMaxBytes
 * (it destroys the request): its RESOURCE_EXHAUSTED went out with `Connection: keep-alive`, the next
 * request on the socket was never read, and the keep-alive timeout reset it seconds later. Such an
 * answer says `Connection: close` instead and the socket is closed after it, as fastify does after its
 * own 413. (A body merely left unread, not destroyed — a REST 401 before parsing — is drained by Node
 * and the connection kept.) 'aborted' (documented as deprecated, still emitted) is the one signal sent
 * synchronously when a request is destroyed before its end, so before the answer's headers go out;
 * 'close' comes ticks later, after them.
 */
function closeIfBodyAbandoned(req: http.IncomingMessage, res: http.ServerResponse): void {
  // Kept now: destroying the request detaches it from its socket first.
  const socket = req.socket;
  req.once('aborted', () => {
    // Before the answer: Node writes `Connection: close` and ends the socket after it.
    if (!res.headersSent) res.shouldKeepAlive = false;
    // Already answering with keep-alive: the socket cannot serve another request.
    else if (!res.writableFinished) res.once('finish', () => socket.destroySoon());
  });
}

/**
 * HTTP/2: the stream of a request answered before its body was read to the end (connect-es stops
 * reading a message over readMaxBytes and answers RESOURCE_EXHAUSTED) stayed open for as long as the
 * client kept it so: Node only closes a server stream by itself when the body was never read and no
 * trailers were sent. It counted as an in-flight request (shutdown waited its whole drain time for it)
 * and was logged when the client finally left. Once the answer and its trailers are queued, the rest
 * of the body is discarded and, if the client is still sending, the stream is reset with NO_ERROR —
 * what RFC 9113 §8.1 prescribes for "answered early, stop sending" (grpc-go does the same).
 */
function resetIfBodyUnread(req: http2.Http2ServerRequest): void {
  const stream = req.stream;
  stream.once('wantTrailers', () => {
    // The common case: the body was read to its end.
    if (req.readableEnded) return;
    // The compat response sends the trailers from its own 'wantTrailers' listener; a reset from
    // within the same emit lost them in testing. Node writes queued frames before a RST_STREAM.
    setImmediate(() => {
      if (stream.destroyed) return;
      // A stream closed with NO_ERROR is only destroyed (and 'close'd) once its readable side has
      // ended, which never happens while unread data sits in its buffer: discard it. The compat
      // request's own 'data' listener would pause the stream again (that request is destroyed or
      // done with), so it goes.
      stream.removeAllListeners('data');
      stream.resume();
      // remoteClose: the client has sent its whole body; nothing to stop.
      if (!stream.closed && !stream.state.remoteClose) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  });
}
