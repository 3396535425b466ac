/**
 * HTTP plumbing shared by the HTTP backends: one place that turns network failures, HTTP statuses,
 * HTML error pages and malformed bodies into typed PluginErrors, and reads NDJSON / SSE streams
 * line by line without ever throwing an untyped error.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { PluginError, type PluginErrorCode } from '../../plugin-api/index.js';
import { nodeBodyOf, rawFetchOf } from './node-fetch.js';

export interface HttpTarget {
  backend: string;
  model?: string;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  headers?: Record<string, string>;
  /** Serialised as JSON when given. */
  json?: unknown;
  signal: AbortSignal;
  /** Milliseconds until the response headers must arrive (0 = none). */
  timeoutMs?: number;
}

/**
 * fetch() with every failure mapped to a PluginError. Resolves only for 2xx responses; the body is
 * left unread for the caller.
 */
/** Method, headers and body of a call: JSON in and out unless the caller says otherwise. */
function requestInit(options: RequestOptions): { method: string; headers: Record<string, string>; body: string | undefined } {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  return { method: options.method ?? (body ? 'POST' : 'GET'), headers, body };
}

export async function request(
  fetchImpl: typeof fetch,
  url: string,
  options: RequestOptions,
  target: HttpTarget,
): Promise<Response> {
  const { method, headers, body } = requestInit(options);
  const { signal, cleanup, timedOut } = withTimeout(options.signal, options.timeoutMs ?? 0);
  let response: Response;
  try {
    response = await fetchImpl(url, { method, headers, body, signal });
  } catch (error) {
    cleanup();
    throw networkError(error, url, target, timedOut());
  }
  cleanup();
  if (!response.ok) throw await statusError(response, target);
  return response;
}

/**
 * A 2xx answer whose body is still unread. With the router's own fetch (node-fetch.ts) it is the
 * Node response itself, with no Headers, Response or ReadableStream built around it; with any other
 * fetch it wraps the Response. Read the body once, through one of the methods.
 */
export interface Answer {
  status: number;
  /** A response header by lower-case name ('' when absent). */
  header(name: string): string;
  /** The body chunk by chunk; leaving the loop early releases the connection. */
  chunks(): AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  /** Drops the body unread. */
  discard(): void;
}

/** request(), answering an Answer: the cheap path for the hot calls (chat streams). */
export async function requestAnswer(fetchImpl: typeof fetch, url: string, options: RequestOptions, target: HttpTarget): Promise<Answer> {
  const raw = rawFetchOf(fetchImpl);
  if (!raw) return responseAnswer(await request(fetchImpl, url, options, target));
  const { method, headers, body } = requestInit(options);
  const { signal, cleanup, timedOut } = withTimeout(options.signal, options.timeoutMs ?? 0);
  let res: IncomingMessage;
  let status: number;
  try {
    ({ body: res, status } = await raw(url, { method, headers, body, signal }));
  } catch (error) {
    cleanup();
    throw networkError(error, url, target, timedOut());
  }
  cleanup();
  const answer = nodeAnswer(res, status);
  if (status < 200 || status > 299) {
    let text = '';
    try {
      text = await answer.text();
    } catch {
      // The body is only used for the message.
    }
    throw errorForStatus(status, text, target, answer.header('retry-after'));
  }
  return answer;
}

/** An Answer over a fetch Response (the Node stream behind it when it came from node-fetch.ts). */
export function responseAnswer(response: Response): Answer {
  const node = nodeBodyOf(response);
  if (node) return nodeAnswer(node as IncomingMessage, response.status, (name) => response.headers.get(name) ?? '');
  return {
    status: response.status,
    header: (name) => response.headers.get(name) ?? '',
    chunks: () => response.body ?? EMPTY,
    text: () => response.text(),
    discard: () => void response.body?.cancel().catch(() => {}),
  };
}

const EMPTY: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) };

function nodeAnswer(res: Readable, status: number, header?: (name: string) => string): Answer {
  return {
    status,
    header: header ?? ((name) => headerValue((res as IncomingMessage).headers[name])),
    chunks: () => res as AsyncIterable<Uint8Array>,
    text: async () => {
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of res) text += decoder.decode(chunk as Buffer, { stream: true });
      return text + decoder.decode();
    },
    discard: () => void res.destroy(),
  };
}

function headerValue(value: string | string[] | undefined): string {
  return value === undefined ? '' : Array.isArray(value) ? value.join(', ') : value;
}

/** Reads a whole JSON body (of a Response or an Answer); HTML or malformed JSON becomes bad_response. */
export async function readJson<T = unknown>(response: Pick<Response, 'text' | 'status'>, target: HttpTarget): Promise<T> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw PluginError.from(error, { ...target, code: 'bad_response' });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PluginError({
      code: 'bad_response',
      message: `expected JSON, got ${describeBody(text)}`,
      status: response.status,
      ...target,
    });
  }
}

/** Maps an HTTP status to a closed code. */
export function codeForStatus(status: number): PluginErrorCode {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 429 || status === 503) return 'overloaded';
  if (status === 501) return 'unsupported';
  if (status >= 400 && status < 500) return 'bad_request';
  return 'bad_response';
}

async function statusError(response: Response, target: HttpTarget): Promise<PluginError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The body is only used for the message.
  }
  return errorForStatus(response.status, text, target, response.headers.get('retry-after') ?? '');
}

function errorForStatus(status: number, text: string, target: HttpTarget, retryAfter = ''): PluginError {
  const message = errorMessageFrom(text) ?? `HTTP ${status} ${describeBody(text)}`;
  let code = codeForStatus(status);
  // Ollama answers 404 for a missing model, but some servers answer 400/500 "model not found".
  if (/model .*not found|no such model|unknown model/i.test(message)) code = 'not_found';
  // Only 5xx is worth trying elsewhere; a 4xx from one backend would fail on the next too,
  // except not_found (the model is elsewhere), overloaded and unauthorized (another backend may accept).
  const retryable = code !== 'bad_request';
  const retryAfterSeconds = code === 'overloaded' ? parseRetryAfter(retryAfter) : undefined;
  return new PluginError({ code, message, status, retryable, ...target, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
}

/** A Retry-After header in seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string, now = Date.now()): number | undefined {
  const text = value.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  // An HTTP date names its weekday and month ("Sun, 29 Nov 2026 12:00:30 GMT"); Date.parse would
  // also read "-3" or "2026" as dates.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Pulls the message out of {"error":"..."} (Ollama) or {"error":{"message":"..."}} (OpenAI). */
export function errorMessageFrom(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (body.error && typeof body.error === 'object' && typeof (body.error as { message?: unknown }).message === 'string') {
      return (body.error as { message: string }).message;
    }
    if (typeof body.message === 'string') return body.message;
    if (typeof body.detail === 'string') return body.detail;
  } catch {
    // Not JSON.
  }
  return undefined;
}

function describeBody(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return '(empty body)';
  if (/^<(!doctype|html)/i.test(trimmed)) return '(an HTML page)';
  return JSON.stringify(trimmed.length > 120 ? `${trimmed.slice(0, 120)}…` : trimmed);
}

function networkError(error: unknown, url: string, target: HttpTarget, timedOut: boolean): PluginError {
  if (timedOut) return new PluginError({ code: 'timeout', message: `no response from ${url} in time`, ...target, cause: error });
  if ((error as { name?: string })?.name === 'AbortError') return PluginError.from(error, target);
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
  return new PluginError({ code: 'unreachable', message: `cannot reach ${url}: ${detail}`, ...target, cause: error });
}

/** Combines a caller's signal with a timeout; `timedOut()` tells which one fired. */
export function withTimeout(parent: AbortSignal, ms: number): { signal: AbortSignal; cleanup: () => void; timedOut: () => boolean } {
  if (!ms) return { signal: parent, cleanup: () => {}, timedOut: () => false };
  const controller = new AbortController();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    controller.abort(new DOMException('timeout', 'TimeoutError'));
  }, ms);
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    cleanup: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
    timedOut: () => fired,
  };
}

/**
 * Yields the lines of a streamed body (NDJSON or SSE), decoding UTF-8 across chunk borders.
 * A network failure mid-stream becomes a bad_response PluginError (the stream was cut).
 */
export async function* readLines(response: Response, target: HttpTarget): AsyncGenerator<string> {
  const node = nodeBodyOf(response);
  if (node) {
    yield* readNodeLines(node, target);
    return;
  }
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body.getReader();
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if ((error as { name?: string })?.name === 'AbortError') throw PluginError.from(error, target);
        throw new PluginError({ code: 'bad_response', message: 'stream cut before it finished', ...target, cause: error });
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        yield line;
      }
    }
    buffer += decoder.decode();
    if (buffer) yield buffer;
  } finally {
    // Releases the socket when the consumer stops early (client went away, error).
    reader.cancel().catch(() => {});
  }
}

/** readLines over a Node stream (responses from the router's node:http fetch): no WHATWG streams. */
async function* readNodeLines(body: Readable, target: HttpTarget): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let finished = false;
  try {
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk as Buffer, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          yield line;
        }
      }
    } catch (error) {
      if ((error as { name?: string })?.name === 'AbortError' || (error as { name?: string })?.name === 'TimeoutError') {
        throw PluginError.from(error, target);
      }
      throw new PluginError({ code: 'bad_response', message: 'stream cut before it finished', ...target, cause: error });
    }
    buffer += decoder.decode();
    if (buffer) yield buffer;
    finished = true;
  } finally {
    // The consumer stopped early (client went away): release the socket.
    if (!finished) body.destroy();
  }
}

/** Parses one JSON line of a stream; malformed JSON becomes bad_response. */
export function parseStreamJson<T>(line: string, target: HttpTarget): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new PluginError({ code: 'bad_response', message: `malformed stream chunk ${describeBody(line)}`, ...target });
  }
}
