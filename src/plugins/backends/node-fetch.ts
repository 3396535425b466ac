/**
 * A `fetch` for backend calls built on node:http / node:https with keep-alive agents.
 *
 * Why: undici's fetch runs the whole WHATWG fetch algorithm (Request objects, header guards, body
 * mixins) on every call. Measured in `npm run bench` on a 2-core box, a pass-through proxy using it
 * served ~1,700 requests/s where the same proxy on this function served ~3,000. Plugins still see
 * the standard fetch signature and a real `Response`, so a third-party plugin written against
 * fetch works unchanged.
 *
 * Scope (what backends need, nothing more): http(s) URLs; string / Uint8Array bodies; AbortSignal
 * (aborts the request or the body stream, rejecting with the signal's reason like fetch does);
 * network failures surface as `TypeError('fetch failed', { cause })` like undici's, so callers that
 * read `error.cause.code` (ECONNREFUSED, ECONNRESET) keep working. Redirects are not followed.
 *
 * The router's own HTTP plugins go one step further and skip the Response too (rawFetchOf): the
 * status, headers and Node body stream of the same call, with nothing built around them.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface HttpFetchOptions {
  /** Most open sockets per backend host (default 256). */
  maxSockets?: number;
}

/**
 * An answer without the WHATWG layer: status, Node's header record and the Node body stream. What
 * the router's own backend plugins read (see rawFetchOf), because wrapping every answer in
 * Headers + Response + ReadableStream cost more CPU than the rest of the backend call together.
 */
export interface RawResponse {
  status: number;
  statusText: string;
  /** Node's record: lower-case names. */
  headers: http.IncomingHttpHeaders;
  /** The body; already drained (and empty) for 204/304 and HEAD. Reading it is the caller's job. */
  body: http.IncomingMessage;
}

export interface RawRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

export type RawFetch = (url: string, init: RawRequestInit) => Promise<RawResponse>;

/** Where the fetch made by createHttpFetch keeps its raw form (see rawFetchOf). */
const RAW_FETCH = Symbol.for('smarterrouter.node-fetch.raw');

/** The raw form of a fetch made by createHttpFetch, undefined for any other fetch. */
export function rawFetchOf(fetchImpl: typeof fetch): RawFetch | undefined {
  const raw = (fetchImpl as unknown as Record<symbol, unknown>)[RAW_FETCH];
  return typeof raw === 'function' ? (raw as RawFetch) : undefined;
}

export function createHttpFetch(options: HttpFetchOptions = {}): typeof fetch & { destroy(): void } {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256, scheduling: 'lifo' as const };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const urls = new UrlCache();

  const send = (url: ParsedUrl, method: string, headers: Record<string, string>, body: Uint8Array | string | undefined, signal: AbortSignal | undefined): Promise<RawResponse> => {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let response: http.IncomingMessage | undefined;
      const req = (url.https ? https : http).request(
        {
          agent: url.https ? httpsAgent : httpAgent,
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.path,
          method,
          headers,
          // Small request writes go out at once instead of waiting for Nagle's algorithm.
          noDelay: true,
        } as http.RequestOptions,
        (res) => {
          settled = true;
          response = res;
          // An abort destroys the response with the abort reason. Whoever reads the body sees that
          // error through its reader; with nobody reading, an 'error' event without a listener would
          // be an uncaught exception that takes the whole process down.
          res.on('error', () => {});
          const status = res.statusCode ?? 502;
          // 204/304 and HEAD have no body; Response refuses a body for null-body statuses.
          if (hasNoBody(status, method)) res.resume();
          resolve({ status, statusText: res.statusMessage ?? '', headers: res.headers, body: res });
        },
      );
      if (signal) {
        const onAbort = () => {
          const reason = abortReason(signal);
          const error = reason instanceof Error ? reason : new Error(String(reason));
          // Once the answer has arrived, abort through the response: it destroys the socket only
          // while the answer is still coming. A whole answer's socket may already be back in the
          // keep-alive pool with no error listener, and destroying it through the request would
          // emit an 'error' nobody hears: an uncaught exception.
          if (response) response.destroy(error);
          else req.destroy(error);
          if (!settled) {
            settled = true;
            reject(reason);
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      req.on('error', (error) => {
        if (settled) return;
        settled = true;
        reject(new TypeError('fetch failed', { cause: error }));
      });
      req.end(body);
    });
  };

  const httpFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (typeof input === 'object' && 'method' in input && !(input instanceof URL)) {
      // A Request object: hand it to the platform fetch rather than half-support it.
      return fetch(input, init);
    }
    const url = urls.parse(typeof input === 'string' ? input : input.href);
    if (!url) return fetch(input, init);
    const method = (init.method ?? 'GET').toUpperCase();
    const raw = await send(url, method, headersOf(init.headers), bodyOf(init.body), init.signal ?? undefined);
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(raw.headers)) {
      if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
      else if (value !== undefined) responseHeaders.set(name, value);
    }
    const noBody = hasNoBody(raw.status, method);
    const response = new Response(noBody ? null : lazyWebStream(raw.body), { status: raw.status, statusText: raw.statusText, headers: responseHeaders });
    // Stream readers in this package (readLines) iterate the Node stream directly and skip the
    // WHATWG stream machinery; anyone else reads `body` as usual.
    if (!noBody) Object.defineProperty(response, NODE_BODY, { value: raw.body });
    return response;
  };

  const rawFetch: RawFetch = (input, init) => {
    const url = urls.parse(input);
    // Only http(s) URLs come here from our plugins; anything else is a caller's mistake.
    if (!url) return Promise.reject(new TypeError(`fetch failed: unsupported URL ${input}`));
    return send(url, (init.method ?? 'GET').toUpperCase(), headersOf(init.headers), init.body, init.signal);
  };

  return Object.assign(httpFetch as typeof fetch, {
    [RAW_FETCH]: rawFetch,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}

function hasNoBody(status: number, method: string): boolean {
  return status === 204 || status === 304 || method === 'HEAD';
}

interface ParsedUrl {
  https: boolean;
  protocol: string;
  hostname: string;
  port: string | undefined;
  path: string;
}

/**
 * URL parsing per call showed in profiles; a backend calls the same few URLs over and over. Holds
 * the last few parsed (a bound, so a caller that builds unique URLs cannot grow it).
 */
class UrlCache {
  private readonly cache = new Map<string, ParsedUrl | null>();

  /** The parts node:http needs, or null for a non-http(s) URL. Throws like fetch on an invalid URL. */
  parse(input: string): ParsedUrl | null {
    const hit = this.cache.get(input);
    if (hit !== undefined) return hit;
    const url = new URL(input);
    const parsed =
      url.protocol === 'http:' || url.protocol === 'https:'
        ? { https: url.protocol === 'https:', protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: `${url.pathname}${url.search}` }
        : null;
    if (this.cache.size >= 64) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(input, parsed);
    return parsed;
  }
}

/** Where a Response made here keeps its Node body stream (see nodeBodyOf). */
const NODE_BODY = Symbol.for('smarterrouter.node-fetch.body');

/** The Node stream behind a Response from this fetch, when nobody has started reading `body`. */
export function nodeBodyOf(response: Response): Readable | undefined {
  const node = (response as unknown as Record<symbol, Readable | undefined>)[NODE_BODY];
  return node && !response.bodyUsed && !node.readableDidRead ? node : undefined;
}

/** A ReadableStream that pulls from the Node stream only when someone reads it. */
function lazyWebStream(res: http.IncomingMessage): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      iterator ??= res[Symbol.asyncIterator]();
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      res.destroy(reason instanceof Error ? reason : undefined);
    },
    // highWaterMark 0: no pull until someone reads, so the Node stream stays untouched for nodeBodyOf.
  }, { highWaterMark: 0 });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function bodyOf(body: RequestInit['body']): Uint8Array | string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('node-fetch: only string and binary request bodies are supported');
}

function headersOf(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (headers instanceof Headers) headers.forEach((value, name) => (out[name] = value));
  else if (Array.isArray(headers)) for (const [name, value] of headers) out[name!.toLowerCase()] = value!;
  else for (const [name, value] of Object.entries(headers as Record<string, string>)) out[name.toLowerCase()] = value;
  return out;
}
