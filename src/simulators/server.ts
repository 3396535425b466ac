/**
 * The plumbing every simulator shares: a plain node:http server (no framework: benches need it fast),
 * request recording, failure injection, error bodies in each protocol's shape, paced streaming, and a
 * close() that leaves no sockets or timers behind.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FailureMode, RecordedRequest, RunningSimulator, SimulatorOptions } from './types.js';
import { isRecord, sleep, untilAborted, type ResolvedModel } from './util.js';

/** Which error envelope a route answers with. */
export type ErrorStyle = 'openai' | 'llamacpp' | 'ollama';

/** One request as the simulators see it. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
  /** True when a body was sent but is not valid JSON. */
  badJson: boolean;
  /** Aborted when the client goes away or the simulator closes. */
  signal: AbortSignal;
  /** Failure still to be applied by the response helpers ('malformed', 'cut-stream') or 'none'. */
  failure: FailureMode;
  style: ErrorStyle;
}

export interface ServerSpec {
  options: SimulatorOptions;
  styleFor(path: string): ErrorStyle;
  /** Canonical model id for a requested name (per-model failures are keyed by it). */
  canonical(name: string): string;
  handle(x: Exchange): Promise<void>;
  loaded(): string[];
}

const MAX_RECORDED = 1000;
const SLOW_FIRST_TOKEN_MS = 5000;

export async function startServer(spec: ServerSpec): Promise<RunningSimulator> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let globalFailure: FailureMode = spec.options.failure ?? 'none';
  const modelFailures = new Map<string, FailureMode>();
  const inFlight = new Set<AbortController>();
  let closing = false;

  const failureFor = (model: string | undefined): FailureMode => {
    if (model !== undefined) {
      const f = modelFailures.get(spec.canonical(model));
      if (f !== undefined) return f;
    }
    return globalFailure;
  };

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      // A bug in a handler must not take the simulator down; answer 500 if still possible.
      if (!res.headersSent) {
        sendError(exchangeStub(req, res, spec.styleFor(req.url ?? '/')), 500, `simulator error: ${String(err)}`);
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = chunks.length ? Buffer.concat(chunks).toString('utf8') : '';
    let body: unknown;
    let badJson = false;
    if (raw.length) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    const target = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path: target, headers: req.headers, body });
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);

    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    // One controller per request, aborted when the client goes away or close() runs. Kept in a set
    // rather than as listeners on a shared signal: benches run hundreds of requests at once.
    const ac = new AbortController();
    if (closing) {
      res.destroy();
      return;
    }
    inFlight.add(ac);
    res.on('close', () => {
      inFlight.delete(ac);
      if (!res.writableFinished) ac.abort();
    });

    const x: Exchange = {
      req,
      res,
      method: req.method ?? 'GET',
      path,
      query,
      body,
      badJson,
      signal: ac.signal,
      failure: 'none',
      style: spec.styleFor(path),
    };

    let failure = failureFor(requestedModel(path, query, body));
    if (failure === 'slow-first-token') {
      if (!(await sleep(SLOW_FIRST_TOKEN_MS, x.signal))) return;
      failure = 'none';
    }
    switch (failure) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        await untilAborted(x.signal);
        return;
      case 'http500':
        sendError(x, 500, SERVER_ERROR[x.style], { type: 'server_error' });
        return;
      case 'overloaded':
        res.setHeader('Retry-After', '1');
        if (x.style === 'ollama') sendError(x, 503, 'server busy, please try again.  maximum pending requests exceeded');
        else if (x.style === 'openai') {
          sendError(x, 429, 'Rate limit reached for requests. Please try again in 1s.', { type: 'requests', code: 'rate_limit_exceeded' });
        } else sendError(x, 429, 'Too many requests, please try again later.', { type: 'unavailable_error' });
        return;
      case 'html-error':
        sendText(x, 502, BAD_GATEWAY_HTML, 'text/html');
        return;
      default:
        x.failure = failure;
    }
    await spec.handle(x);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.options.port ?? 0, spec.options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const host = spec.options.host ?? '127.0.0.1';
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}`,
    requests,
    setFailure(mode: FailureMode, model?: string): void {
      if (model === undefined) {
        globalFailure = mode;
        if (mode === 'none') modelFailures.clear();
      } else if (mode === 'none') modelFailures.delete(spec.canonical(model));
      else modelFailures.set(spec.canonical(model), mode);
    },
    loaded: () => spec.loaded(),
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        for (const ac of inFlight) ac.abort(); // ends sleeps, streams and hanging requests
        inFlight.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}

/** The model a request names, for per-model failures. */
function requestedModel(path: string, query: URLSearchParams, body: unknown): string | undefined {
  if (isRecord(body)) {
    if (typeof body.model === 'string') return body.model;
    if (typeof body.name === 'string') return body.name;
  }
  const q = query.get('model');
  if (q) return q;
  const m = /^\/(?:v1\/models|upstream|api\/models\/unload)\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : undefined;
}

function exchangeStub(req: IncomingMessage, res: ServerResponse, style: ErrorStyle): Exchange {
  return {
    req,
    res,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    query: new URLSearchParams(),
    body: undefined,
    badJson: false,
    signal: new AbortController().signal,
    failure: 'none',
    style,
  };
}

const SERVER_ERROR: Record<ErrorStyle, string> = {
  openai: 'The server had an error while processing your request. Sorry about that!',
  llamacpp: 'Internal server error',
  ollama: 'llama runner process has terminated: exit status 2',
};

const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

// ---------------------------------------------------------------------------------------------
// Responses

const DEFAULT_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  501: 'not_supported_error',
  503: 'unavailable_error',
};

export interface ErrorExtras {
  type?: string;
  code?: string | null;
  param?: string | null;
}

/** An error in the route's protocol shape (never subject to malformed/cut-stream injection). */
export function sendError(x: Exchange, status: number, message: string, extras: ErrorExtras = {}): void {
  let body: unknown;
  if (x.style === 'ollama') body = { error: message };
  else if (x.style === 'llamacpp') {
    body = { error: { code: status, message, type: extras.type ?? DEFAULT_TYPE[status] ?? 'server_error' } };
  } else {
    const type = extras.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
    body = { error: { message, type, param: extras.param ?? null, code: extras.code ?? null } };
  }
  writeBody(x, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

/** A JSON success body; applies the 'malformed' and 'cut-stream' failures. */
export function sendJson(x: Exchange, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  if (x.failure === 'malformed' && status < 300) {
    // Valid HTTP, invalid JSON: the body stops halfway (Content-Length matches what is sent).
    writeBody(x, status, text.slice(0, Math.max(1, Math.floor(text.length / 2))), 'application/json; charset=utf-8');
    return;
  }
  if (x.failure === 'cut-stream' && status < 300) {
    const bytes = Buffer.from(text);
    x.res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length });
    x.res.write(bytes.subarray(0, bytes.length >> 1), () => x.res.destroy());
    return;
  }
  writeBody(x, status, text, 'application/json; charset=utf-8');
}

export function sendText(x: Exchange, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  writeBody(x, status, text, contentType);
}

function writeBody(x: Exchange, status: number, text: string, contentType: string): void {
  if (x.res.headersSent || x.res.destroyed) return;
  x.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  x.res.end(x.method === 'HEAD' ? undefined : text);
}

/** Bearer check; answers 401 in the route's shape and returns false when the key is wrong. */
export function checkBearer(x: Exchange, apiKey: string | undefined): boolean {
  if (!apiKey) return true;
  const header = x.req.headers.authorization ?? '';
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (token === apiKey) return true;
  if (x.style === 'ollama') sendError(x, 401, 'unauthorized');
  else if (x.style === 'llamacpp') sendError(x, 401, 'Invalid API Key', { type: 'authentication_error' });
  else {
    const shown = token ? `${token.slice(0, 3)}*****${token.slice(-4)}` : '';
    sendError(
      x,
      401,
      token
        ? `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      { type: 'invalid_request_error', code: 'invalid_api_key' },
    );
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Pacing and streaming

const intervalMs = (m: ResolvedModel): number => (m.tokensPerSecond > 0 ? 1000 / m.tokensPerSecond : 0);

/** Non-streaming: wait as long as generating `tokens` would take. Returns false if aborted. */
export function waitForGeneration(x: Exchange, m: ResolvedModel, tokens: number): Promise<boolean> {
  return sleep(m.firstTokenMs + tokens * intervalMs(m), x.signal);
}

/** One piece of a stream; `token` frames are paced, others ride along with their neighbours. */
export interface Frame {
  text: string | (() => string);
  token: boolean;
}

export interface StreamOptions {
  contentType: string;
  /** A line that is not valid JSON in this framing (the 'malformed' failure). */
  garbage: string;
}

/** Tokens streamed before the 'cut-stream' failure destroys the socket. */
const CUT_AFTER_TOKENS = 3;

/**
 * Writes frames paced by the model's firstTokenMs / tokensPerSecond: token k is due at
 * firstTokenMs + k / tokensPerSecond; everything already due goes out in one write (so tokensPerSecond 0
 * is a single write). Frames may be functions, evaluated when sent (final metrics measure real time).
 * Returns false when the stream did not complete (client gone, closed, or cut on purpose).
 */
export async function streamFrames(x: Exchange, m: ResolvedModel, frames: Frame[], o: StreamOptions): Promise<boolean> {
  const { res } = x;
  res.writeHead(200, { 'Content-Type': o.contentType, 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  const interval = intervalMs(m);
  const totalTokens = frames.reduce((n, f) => n + (f.token ? 1 : 0), 0);
  const cutAt = x.failure === 'cut-stream' ? Math.min(CUT_AFTER_TOKENS, totalTokens) : -1;
  const start = performance.now();
  let sent = 0;
  let buf = '';
  const cut = (): Promise<boolean> =>
    new Promise((resolve) => {
      // Destroy only after the bytes reached the socket, so the client sees the tokens, then the cut.
      res.write(buf, () => {
        res.destroy();
        resolve(false);
      });
    });
  if (cutAt === 0) return cut();
  for (const f of frames) {
    if (f.token) {
      const wait = start + m.firstTokenMs + sent * interval - performance.now();
      if (wait >= 1) {
        if (buf) res.write(buf);
        buf = '';
        if (!(await sleep(wait, x.signal))) return false;
      }
      sent++;
    }
    if (x.signal.aborted) return false;
    buf += typeof f.text === 'function' ? f.text() : f.text;
    if (f.token && sent === 1 && x.failure === 'malformed') buf += o.garbage;
    if (f.token && sent === cutAt) return cut();
  }
  res.end(buf);
  return true;
}
