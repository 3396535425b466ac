/**
 * The hot path of the OpenAI-compatible backends: with the router's own fetch (node-fetch.ts) the
 * answer is read straight from the Node response (rawFetchOf, requestAnswer), with any other fetch
 * through the WHATWG Response. Both paths must give the same parts and the same errors, so every
 * case here runs through both, against a real HTTP server on 127.0.0.1 that sends the body in the
 * pieces a test chooses (split JSON, split UTF-8 characters, CRLF, cut connections).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginError, type BackendPlugin, type ChatStreamPart, type PluginContext } from '../src/plugin-api/index.js';
import { openaiBackendDefinition } from '../src/plugins/backends/openai/index.js';
import { createHttpFetch, rawFetchOf } from '../src/plugins/backends/node-fetch.js';

interface Reply {
  status?: number;
  contentType?: string;
  /** Written one after the other, each in its own write. */
  pieces: Array<string | Buffer>;
  /** Destroy the socket after the pieces instead of ending the response. */
  cut?: boolean;
  /** Never end (the client aborts). */
  hang?: boolean;
}

let reply: Reply = { pieces: [] };
let server: Server;
let base: string;
const sockets = new Set<Socket>();
const nodeFetch = createHttpFetch();
const silent = { debug() {}, info() {}, warn() {}, error() {} };
let viaNode: BackendPlugin;
let viaUndici: BackendPlugin;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      const r = reply;
      res.writeHead(r.status ?? 200, { 'content-type': r.contentType ?? 'text/event-stream' });
      for (const piece of r.pieces) {
        res.write(piece);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (r.hang) return;
      if (r.cut) res.socket?.destroy();
      else res.end();
    });
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const context = (fetchImpl: typeof fetch): PluginContext => ({ logger: silent, fetch: fetchImpl, signal: new AbortController().signal });
  viaNode = await openaiBackendDefinition.create({ name: 'raw', location: base }, context(nodeFetch));
  viaUndici = await openaiBackendDefinition.create({ name: 'raw', location: base }, context(globalThis.fetch));
});
afterAll(async () => {
  nodeFetch.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const chunk = (delta: object, finish: string | null = null, extra: object = {}) => JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
const sse = (...events: string[]) => events.map((e) => `data: ${e}\n\n`).join('');

type Outcome = { parts: ChatStreamPart[] } | { thrown: { code: string; message: string; status?: number } };

/** What one backend makes of the current reply: its parts, or the PluginError it threw. */
async function outcome(backend: BackendPlugin, signal = new AbortController().signal): Promise<Outcome> {
  const parts: ChatStreamPart[] = [];
  try {
    for await (const part of backend.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { signal })) parts.push(part);
  } catch (error) {
    expect(PluginError.isInstance(error)).toBe(true);
    const e = error as PluginError;
    return { thrown: { code: e.code, message: e.message, ...(e.status !== undefined ? { status: e.status } : {}) } };
  }
  // Error parts compared by what a client sees of them.
  return { parts: parts.map((p) => (p.type === 'error' ? ({ type: 'error', error: { code: p.error.code, message: p.error.message } } as unknown as ChatStreamPart) : p)) };
}

/** Runs the reply through both fetches; they must agree. Returns the (common) outcome. */
async function both(r: Reply): Promise<Outcome> {
  reply = r;
  const raw = await outcome(viaNode);
  const web = await outcome(viaUndici);
  expect(raw).toEqual(web);
  return raw;
}

describe('raw node:http answers', () => {
  it('the router fetch has a raw form, the platform fetch has none', () => {
    expect(typeof rawFetchOf(nodeFetch)).toBe('function');
    expect(rawFetchOf(globalThis.fetch)).toBeUndefined();
  });

  it('raw fetch returns status, Node headers and the body stream', async () => {
    reply = { status: 201, contentType: 'application/json', pieces: ['{"a":', '1}'] };
    const res = await rawFetchOf(nodeFetch)!(`${base}/x`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    let text = '';
    for await (const piece of res.body) text += String(piece);
    expect(JSON.parse(text)).toEqual({ a: 1 });
  });
});

describe('chat streams: raw and WHATWG paths agree', () => {
  it('a plain answer split at arbitrary bytes, with CRLF lines and a multi-byte character across pieces', async () => {
    const text = sse(chunk({ role: 'assistant', content: '' }), chunk({ content: 'Grüße ' }), chunk({ content: '🙂 ok' }), chunk({}, 'stop'), chunk({}, null, { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }), '[DONE]').replaceAll('\n', '\r\n');
    const bytes = Buffer.from(text);
    // Cut inside "ü" and inside the emoji, and in the middle of a JSON object.
    const cuts = [bytes.indexOf(Buffer.from('ü')) + 1, bytes.indexOf(Buffer.from('🙂')) + 2, bytes.indexOf(Buffer.from('stop')) + 2];
    const pieces: Buffer[] = [];
    let from = 0;
    for (const at of cuts) {
      pieces.push(bytes.subarray(from, at));
      from = at;
    }
    pieces.push(bytes.subarray(from));
    expect(await both({ pieces })).toEqual({
      parts: [
        { type: 'text-delta', delta: 'Grüße ' },
        { type: 'text-delta', delta: '🙂 ok' },
        { type: 'finish', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 2 } },
      ],
    });
  });

  it('comments, event names, data: without a space, bare JSON lines and several data lines in one event', async () => {
    const out = await both({
      pieces: [
        `: ping\n\nevent: message\ndata:${chunk({ content: 'a' })}\n\n`,
        `${chunk({ content: 'b' })}\n`,
        `data: ${chunk({ content: 'c' })}\ndata: ${chunk({}, 'length')}\n\n`,
      ],
    });
    expect(out).toEqual({
      parts: [
        { type: 'text-delta', delta: 'a' },
        { type: 'text-delta', delta: 'b' },
        { type: 'text-delta', delta: 'c' },
        { type: 'finish', finishReason: 'length', usage: { promptTokens: 0, completionTokens: 3 } },
      ],
    });
  });

  it('tool calls assembled from fragments', async () => {
    const out = await both({
      pieces: [
        sse(
          chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
          chunk({}, 'tool_calls'),
          '[DONE]',
        ),
      ],
    });
    expect(out).toEqual({
      parts: [
        { type: 'tool-call-delta', index: 0, id: 'call_1', name: 'f', argumentsDelta: '{"a"' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: ':1}' },
        { type: 'finish', finishReason: 'tool_calls', usage: { promptTokens: 0, completionTokens: 2 } },
      ],
    });
  });

  it('tokens then an error object in the same piece: the tokens, then an error part', async () => {
    const out = await both({ pieces: [sse(chunk({ content: 'Hi' }), '{"error":{"message":"boom","code":500}}')] });
    expect(out).toEqual({ parts: [{ type: 'text-delta', delta: 'Hi' }, { type: 'error', error: { code: 'bad_response', message: 'boom' } }] });
  });

  it('an error event before any token is thrown', async () => {
    const out = await both({ pieces: [`event: error\ndata: {"message":"model overloaded","type":"overloaded_error"}\n\n`] });
    expect(out).toMatchObject({ thrown: { code: 'overloaded' } });
  });

  it('malformed JSON and a non-SSE line', async () => {
    expect(await both({ pieces: ['data: {"choices":[\n\n'] })).toMatchObject({ thrown: { code: 'bad_response', message: expect.stringMatching(/malformed stream chunk/) } });
    expect(await both({ pieces: ['hello there\n\n'] })).toMatchObject({ thrown: { code: 'bad_response', message: expect.stringMatching(/expected an event stream/) } });
  });

  it('a connection cut after the finish_reason is a complete answer; cut mid-answer is an error part', async () => {
    expect(await both({ pieces: [sse(chunk({ content: 'done' }), chunk({}, 'stop'))], cut: true })).toEqual({
      parts: [
        { type: 'text-delta', delta: 'done' },
        { type: 'finish', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 1 } },
      ],
    });
    const cut = await both({ pieces: [sse(chunk({ content: 'half' }))], cut: true });
    expect(cut).toMatchObject({ parts: [{ type: 'text-delta', delta: 'half' }, { type: 'error', error: { code: 'bad_response' } }] });
  });

  it('a body that ends without finish_reason or [DONE] is bad_response', async () => {
    expect(await both({ pieces: [sse(chunk({ content: 'x' }))] })).toMatchObject({
      parts: [{ type: 'text-delta' }, { type: 'error', error: { code: 'bad_response', message: expect.stringMatching(/ended before the answer finished/) } }],
    });
  });

  it('a server that ignored stream: true (one JSON answer), an HTML page, HTTP errors', async () => {
    const json = JSON.stringify({ choices: [{ index: 0, message: { content: 'whole' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } });
    expect(await both({ contentType: 'application/json', pieces: [json] })).toEqual({
      parts: [
        { type: 'text-delta', delta: 'whole' },
        { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } },
      ],
    });
    expect(await both({ contentType: 'text/html', pieces: ['<html>proxy error</html>'] })).toMatchObject({ thrown: { code: 'bad_response', message: expect.stringMatching(/HTML page/) } });
    expect(await both({ status: 429, contentType: 'application/json', pieces: ['{"error":{"message":"slow down"}}'] })).toEqual({ thrown: { code: 'overloaded', message: 'slow down', status: 429 } });
    expect(await both({ status: 404, contentType: 'application/json', pieces: ['{"error":"model m not found"}'] })).toMatchObject({ thrown: { code: 'not_found', status: 404 } });
    expect(await both({ status: 500, contentType: 'text/html', pieces: ['<html>oops</html>'] })).toMatchObject({ thrown: { code: 'bad_response', status: 500, message: expect.stringMatching(/HTML page/) } });
  });
});

describe('raw path: connections', () => {
  it('returns the connection to the keep-alive pool after each answer', async () => {
    reply = { pieces: [sse(chunk({ content: 'k' }), chunk({}, 'stop'), '[DONE]')] };
    await outcome(viaNode);
    const before = sockets.size;
    for (let i = 0; i < 5; i++) expect(await outcome(viaNode)).toMatchObject({ parts: [{ type: 'text-delta' }, { type: 'finish' }] });
    expect(sockets.size).toBe(before);
  });

  it('an abort while the body streams ends the stream (aborted) and frees the socket', async () => {
    reply = { pieces: [sse(chunk({ content: 'first' }))], hang: true };
    const controller = new AbortController();
    const parts: ChatStreamPart[] = [];
    for await (const part of viaNode.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal })) {
      parts.push(part);
      if (part.type === 'text-delta') controller.abort();
    }
    expect(parts[0]).toEqual({ type: 'text-delta', delta: 'first' });
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
  });

  it('an abort before the answer rejects with aborted; an unreachable server is unreachable', async () => {
    reply = { pieces: [], hang: true };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(await outcome(viaNode, controller.signal)).toMatchObject({ thrown: { code: 'aborted' } });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = await openaiBackendDefinition.create({ name: 'gone', location: `http://127.0.0.1:${port}/v1` }, { logger: silent, fetch: nodeFetch, signal: new AbortController().signal });
    expect(await outcome(gone)).toMatchObject({ thrown: { code: 'unreachable', message: expect.stringMatching(/ECONNREFUSED/) } });
  });
});
