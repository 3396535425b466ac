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
  const h1 = http.createServer(handler as http.RequestListener);
  const h2 = http2.createServer({}, handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
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
