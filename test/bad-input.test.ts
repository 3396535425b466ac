/**
 * The bad-input corpus: what a fuzzer, a broken client or an attacker sends, through every door,
 * each with the answer it must get — and never a row written for it. Rows are counted in the
 * router's real SQLite file through a second, read-only connection before and after each case.
 *
 * REST (OpenAI error JSON), Connect with JSON and with binary protobuf (raw HTTP, so malformed
 * bytes reach the server as sent), and gRPC through the real connect-node transport.
 */
import { join } from 'node:path';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sqlite3 from 'sqlite3';
import { create, toBinary } from '@bufbuild/protobuf';
import { FloatValueSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { ChatRequestSchema, ExplainRequestSchema, Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

let sim: RunningSimulator;
let router: TestRouter;
let db: sqlite3.Database;

const MODEL = 'llama3.2:3b';
const user = (content: string) => ({ role: 'user', content });
const ok = { model: 'smarterrouter/main', messages: [user('hello')] };

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: MODEL, parameterSizeB: 3.2, capabilities: { tools: true } }] });
  router = await startTestRouter({
    ROUTER_OLLAMA_URL: sim.url,
    // Every accepted request must reach the backend and be recorded.
    ROUTER_CACHE_ENABLED: 'false',
  });
  db = new sqlite3.Database(join(router.dir, 'router.db'), sqlite3.OPEN_READONLY);
  // Discovery runs at start-up; wait until the model is routable.
  for (let i = 0; i < 100 && !router.core.registry.resolve(MODEL); i++) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  await new Promise<void>((resolve) => (db ? db.close(() => resolve()) : resolve()));
  await router?.stop();
  await sim?.close();
});

function countRows(table: string): Promise<number> {
  return new Promise((resolve, reject) =>
    db.get(`SELECT COUNT(*) AS n FROM ${table}`, (error: Error | null, row: { n: number }) => (error ? reject(error) : resolve(row.n))),
  );
}

/** Rows on disk, after the decision queue (written off the request path) has been flushed. */
async function rows(): Promise<{ decisions: number; feedback: number }> {
  await router.core.store.flush();
  return { decisions: await countRows('routing_decisions'), feedback: await countRows('feedback') };
}

/** Raw HTTP/1.1 with exactly the bytes given (fetch would refuse some of them). */
function send(
  method: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string | number> = { 'content-type': 'application/json' },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(path, router.url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    // The server may answer (413) and stop reading before the whole body is written.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number): unknown => {
  let v: unknown = { type: 'string' };
  for (let i = 0; i < depth; i++) v = { type: 'object', properties: { x: v } };
  return v;
};
const manyMessages = (n: number) => Array.from({ length: n }, (_, i) => user(`message ${i}`));

// ---------------------------------------------------------------------------------------------

describe('REST bad-input corpus: status, OpenAI error JSON, no database change', () => {
  const chat = '/v1/chat/completions';
  type Case = [name: string, method: string, path: string, body: string | Buffer | undefined, status: number, code?: string | null, headers?: Record<string, string | number>];
  const json = (v: unknown) => JSON.stringify(v);
  const cases: Case[] = [
    // Malformed and truncated JSON
    ['malformed JSON', 'POST', chat, '{"model": "smarterrouter/main", "messages": [', 400, 'invalid_json'],
    ['truncated in a string', 'POST', chat, json(ok).slice(0, 40), 400, 'invalid_json'],
    ['truncated in an escape', 'POST', chat, '{"messages":[{"role":"user","content":"ab\\u00', 400, 'invalid_json'],
    ['trailing garbage', 'POST', chat, `${json(ok)} xyz`, 400, 'invalid_json'],
    ['single quotes', 'POST', chat, "{'messages': []}", 400, 'invalid_json'],
    ['a raw NUL inside a string', 'POST', chat, '{"messages":[{"role":"user","content":"a\u0000b"}]}', 400, 'invalid_json'],
    ['an empty body', 'POST', chat, '', 400, 'invalid_json'],
    ['the literal null', 'POST', chat, 'null', 400],
    ['a JSON string', 'POST', chat, '"hello"', 400, 'invalid_type'],
    ['a JSON array', 'POST', chat, '[]', 400, 'invalid_type'],
    // Wrong types
    ['messages as a number', 'POST', chat, json({ messages: 5 }), 400],
    ['a message as a string', 'POST', chat, json({ messages: ['hi'] }), 400, 'invalid_type'],
    ['role as a number', 'POST', chat, json({ messages: [{ role: 1, content: 'hi' }] }), 400],
    ['content as a number', 'POST', chat, json({ messages: [{ role: 'user', content: 42 }] }), 400, 'invalid_type'],
    ['temperature as a word', 'POST', chat, json({ ...ok, temperature: 'hot' }), 400, 'invalid_type'],
    ['temperature as an object', 'POST', chat, json({ ...ok, temperature: { value: 1 } }), 400, 'invalid_type'],
    ['tools as a string', 'POST', chat, json({ ...ok, tools: 'all' }), 400, 'invalid_type'],
    ['stop as an object', 'POST', chat, json({ ...ok, stop: { a: 1 } }), 400, 'invalid_type'],
    // Ranges
    ['temperature 2.01', 'POST', chat, json({ ...ok, temperature: 2.01 }), 400, 'invalid_value'],
    ['temperature -1', 'POST', chat, json({ ...ok, temperature: -1 }), 400, 'invalid_value'],
    ['top_p 1.5', 'POST', chat, json({ ...ok, top_p: 1.5 }), 400, 'invalid_value'],
    ['n 0', 'POST', chat, json({ ...ok, n: 0 }), 400, 'invalid_value'],
    ['n 3', 'POST', chat, json({ ...ok, n: 3 }), 400, 'unsupported_value'],
    ['max_tokens 0', 'POST', chat, json({ ...ok, max_tokens: 0 }), 400, 'invalid_value'],
    ['max_tokens 1e12', 'POST', chat, json({ ...ok, max_tokens: 1e12 }), 400, 'invalid_value'],
    ['seed 2^60', 'POST', chat, json({ ...ok, seed: 2 ** 60 }), 400, 'invalid_value'],
    ['presence_penalty 1e308', 'POST', chat, json({ ...ok, presence_penalty: 1e308 }), 400, 'invalid_value'],
    // Size
    ['an 11 MB body', 'POST', chat, json({ ...ok, padding: 'x'.repeat(11 * 1024 * 1024) }), 413],
    ['a 2 MB prompt (ROUTER_MAX_PROMPT_CHARS 1,000,000)', 'POST', chat, json({ ...ok, messages: [user('x'.repeat(2_000_000))] }), 400, 'string_above_max_length'],
    ['10,000 messages (ROUTER_MAX_MESSAGES 1000)', 'POST', chat, json({ ...ok, messages: manyMessages(10_000) }), 400, 'array_above_max_length'],
    ['200 tools', 'POST', chat, json({ ...ok, tools: Array.from({ length: 200 }, (_, i) => ({ type: 'function', function: { name: `f${i}` } })) }), 400, 'array_above_max_length'],
    // Deeply nested
    ['a 1,000,000-level nested body', 'POST', chat, nested(1_000_000), 400, 'json_too_deep'],
    ['deep nesting in an ignored field', 'POST', chat, json({ ...ok, metadata: JSON.parse(nested(500)) }), 400, 'json_too_deep'],
    ['tool parameters 80 levels deep', 'POST', chat, json({ ...ok, tools: [{ type: 'function', function: { name: 'f', parameters: deepObject(40) } }] }), 400, 'nesting_too_deep'],
    // Unicode that cannot be a model name; the prompt itself is fine (see below)
    ['a lone surrogate as the model', 'POST', chat, json({ ...ok, model: 'llama\ud800' }), 404, 'model_not_found'],
    ['NUL and RTL override in the model', 'POST', chat, json({ ...ok, model: 'gpt\u0000\u202e4' }), 404, 'model_not_found'],
    // Protocol
    // Like any other non-JSON type (and a browser's preflight-free cross-site POST): 415.
    ['text/plain', 'POST', chat, json(ok), 415, 'unsupported_media_type', { 'content-type': 'text/plain' }],
    ['text/plain on an admin route', 'POST', '/admin/explain', json(ok), 415, 'unsupported_media_type', { 'content-type': 'text/plain;charset=UTF-8' }],
    ['an XML content type', 'POST', chat, '<messages/>', 415, 'unsupported_media_type', { 'content-type': 'application/xml' }],
    ['no content type', 'POST', chat, json(ok), 415, undefined, {}],
    ['GET on a POST route', 'GET', chat, undefined, 404, 'unknown_route', {}],
    // Feedback
    ['feedback with a score of 5', 'POST', '/v1/feedback', json({ response_id: 'chatcmpl-x', score: 5 }), 400, 'invalid_value'],
    ['feedback with a 3000-character comment', 'POST', '/v1/feedback', json({ response_id: 'chatcmpl-x', score: 1, comment: 'c'.repeat(3000) }), 400, 'string_above_max_length'],
    ['feedback for an unknown answer', 'POST', '/v1/feedback', json({ response_id: "chatcmpl-x' OR '1'='1", score: 1 }), 404, 'not_found'],
    ['feedback with the id as an array', 'POST', '/v1/feedback', json({ response_id: ['a', 'b'], score: 1 }), 400],
    ['feedback with the score as a string', 'POST', '/v1/feedback', json({ response_id: 'chatcmpl-x', score: '1' }), 400, 'invalid_type'],
    ['feedback with the score as a boolean', 'POST', '/v1/feedback', json({ response_id: 'chatcmpl-x', score: true }), 400, 'invalid_type'],
    // Admin query strings: a whitelist, with injection strings
    ['an unknown admin parameter', 'GET', '/admin/explain?prompt=hi&sort=name%3BDROP%20TABLE%20routing_decisions', undefined, 400, 'unknown_parameter', {}],
    ['__proto__ as an admin parameter', 'GET', '/admin/explain?prompt=hi&__proto__%5Badmin%5D=1', undefined, 400, 'unknown_parameter', {}],
    ['constructor as an admin parameter', 'GET', '/admin/explain?prompt=hi&constructor=1', undefined, 400, 'unknown_parameter', {}],
    ['a repeated prompt', 'GET', '/admin/explain?prompt=a&prompt=b', undefined, 400, undefined, {}],
    ['an empty prompt', 'GET', '/admin/explain?prompt=', undefined, 400, undefined, {}],
    ['SQL in quality_preference', 'GET', "/admin/explain?prompt=hi&quality_preference=1'%20OR%201=1", undefined, 400, 'invalid_type', {}],
    ['quality_preference 1e309', 'GET', '/admin/explain?prompt=hi&quality_preference=1e309', undefined, 400, undefined, {}],
    ['a parameter on /admin/plugins', 'GET', '/admin/plugins?limit=1%20UNION%20SELECT%201', undefined, 400, 'unknown_parameter', {}],
    ['a parameter on /admin/vram', 'GET', '/admin/vram?gpu=0', undefined, 400, 'unknown_parameter', {}],
    ['a parameter on /admin/stats', 'GET', '/admin/stats?window=1h', undefined, 400, 'unknown_parameter', {}],
    ['a parameter on /admin/cache', 'GET', '/admin/cache?verbose=1', undefined, 400, 'unknown_parameter', {}],
    ['POST /admin/explain with 10,000 messages', 'POST', '/admin/explain', json({ messages: manyMessages(10_000) }), 400, 'array_above_max_length'],
  ];

  it.each(cases)('%s', async (_name, method, path, body, status, code, headers) => {
    const before = await rows();
    const res = await send(method, path, body, headers);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const error = (JSON.parse(res.text) as { error: { message: string; type: string; code: string | null; param: string | null } }).error;
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(error.message.length).toBeGreaterThan(0);
    if (code !== undefined) expect(error.code).toBe(code);
    expect(await rows()).toEqual(before);
  });

  it('refuses a 5,000,000-level nested body with the nesting message: the scan answers, not JSON.parse', async () => {
    // 5 million levels: JSON.parse alone needs seconds for this; the stream scan refuses it at level 129.
    const res = await send('POST', chat, nested(5_000_000));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.message).toMatch(/nested more than 128 levels/);
  });

  it('a gzip body is 415 naming the encoding, not "invalid JSON"; identity passes', async () => {
    const before = await rows();
    const gz = await send('POST', chat, gzipSync(JSON.stringify(ok)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(gz.status).toBe(415);
    expect(JSON.parse(gz.text).error).toMatchObject({ code: 'unsupported_content_encoding', message: expect.stringContaining('"gzip"') });
    expect(await rows()).toEqual(before);
    const plain = await send('POST', chat, JSON.stringify({ ...ok, max_tokens: 4 }), { 'content-type': 'application/json', 'content-encoding': 'identity' });
    expect(plain.status).toBe(200);
  });

  it('the counters see a real write: an accepted chat adds exactly one decision', async () => {
    const before = await rows();
    const res = await send('POST', chat, JSON.stringify({ ...ok, max_tokens: 4 }));
    expect(res.status).toBe(200);
    expect(await rows()).toEqual({ ...before, decisions: before.decisions + 1 });
  });
});

describe('unicode edge cases in prompts are accepted, classified, and reach the backend unaltered', () => {
  const prompts: Array<[string, string]> = [
    ['a lone high surrogate', 'explain \ud800 this'],
    ['a lone low surrogate', 'tail \udfff'],
    ['NUL bytes', 'a\u0000b\u0000c'],
    ['RTL marks and overrides', '\u200fשלום\u202e olleh \u202c world'],
    ['emoji with modifiers and joiners', 'family 👨‍👩‍👧‍👦 and 👍🏽 and flags 🇳🇿'],
    ['ANSI escape codes', '\u001b[31mred\u001b[0m text'],
    ['C1 controls and BOM', '\u0085\u009b\ufeffhello'],
  ];

  it.each(prompts)('explain: %s', async (_name, prompt) => {
    const before = await rows();
    const res = await send('POST', '/admin/explain', JSON.stringify({ messages: [user(prompt)] }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).category).toEqual(expect.any(String));
    expect(await rows()).toEqual(before);
  });

  it.each(prompts)('chat: %s', async (_name, prompt) => {
    const before = await rows();
    const res = await send('POST', '/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [user(prompt)], max_tokens: 4 }));
    expect(res.status).toBe(200);
    const sent = sim.requests.filter((r) => r.path.startsWith('/api/chat')).at(-1)!.body as { messages: Array<{ content: string }> };
    // Lone surrogates travel as JSON escapes: the very same code units arrive upstream.
    expect(sent.messages.at(-1)!.content).toBe(prompt);
    expect(await rows()).toEqual({ ...before, decisions: before.decisions + 1 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('RPC bad-input corpus (Connect JSON, Connect binary, gRPC): a clear code, no database change', () => {
  const chatPath = '/smarterrouter.v1.RouterService/Chat';
  const explainPath = '/smarterrouter.v1.RouterService/Explain';
  const feedbackPath = '/smarterrouter.v1.RouterService/SubmitFeedback';
  const connectJson = { 'content-type': 'application/json', 'connect-protocol-version': '1' };
  const connectProto = { 'content-type': 'application/proto', 'connect-protocol-version': '1' };
  const binary = (init: Parameters<typeof create<typeof ChatRequestSchema>>[1]) => Buffer.from(toBinary(ChatRequestSchema, create(ChatRequestSchema, init)));
  const protoUser = (content: string) => ({ role: Role.USER, content });
  const deepStruct = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  };

  type Case = [name: string, path: string, body: string | Buffer, headers: Record<string, string>, code: string, message?: RegExp];
  const cases: Case[] = [
    // Connect JSON
    ['JSON: malformed', chatPath, '{"messages": [', connectJson, 'invalid_argument'],
    ['JSON: truncated', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}', connectJson, 'invalid_argument'],
    ['JSON: messages as a string', chatPath, '{"messages":"hi"}', connectJson, 'invalid_argument'],
    ['JSON: temperature as a word', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}],"temperature":"hot"}', connectJson, 'invalid_argument'],
    ['JSON: an unknown role', chatPath, '{"messages":[{"role":"ROLE_ROBOT","content":"hi"}]}', connectJson, 'invalid_argument'],
    ['JSON: temperature 3', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}],"temperature":3}', connectJson, 'invalid_argument'],
    ['JSON: top_p -0.5', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}],"topP":-0.5}', connectJson, 'invalid_argument'],
    ['JSON: max_tokens 0', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}],"maxTokens":0}', connectJson, 'invalid_argument'],
    ['JSON: max_tokens past int32', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}],"maxTokens":4000000000}', connectJson, 'invalid_argument'],
    ['JSON: seed past 2^53', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}],"seed":"9007199254740993"}', connectJson, 'invalid_argument'],
    ['JSON: 10,000 messages', chatPath, JSON.stringify({ messages: Array.from({ length: 10_000 }, () => ({ role: 'ROLE_USER', content: 'hi' })) }), connectJson, 'invalid_argument'],
    ['JSON: a 2 MB prompt', chatPath, JSON.stringify({ messages: [{ role: 'ROLE_USER', content: 'x'.repeat(2_000_000) }] }), connectJson, 'invalid_argument'],
    ['JSON: an 11 MB body', chatPath, JSON.stringify({ messages: [{ role: 'ROLE_USER', content: 'x'.repeat(11 * 1024 * 1024) }] }), connectJson, 'resource_exhausted'],
    ['JSON: provider options 100 levels deep', chatPath, JSON.stringify({ messages: [{ role: 'ROLE_USER', content: 'hi' }], providerOptions: { ollama: deepStruct(100) } }), connectJson, 'invalid_argument'],
    ['JSON: tool parameters 2,000 levels deep', chatPath, JSON.stringify({ messages: [{ role: 'ROLE_USER', content: 'hi' }], tools: [{ name: 'f', parametersJson: nested(2000) }] }), connectJson, 'invalid_argument'],
    // protobuf strings must be valid Unicode: the JSON decoder refuses a lone surrogate.
    ['JSON: a lone surrogate as the model', chatPath, JSON.stringify({ model: 'x\ud800', messages: [{ role: 'ROLE_USER', content: 'hi' }] }), connectJson, 'invalid_argument'],
    ['JSON: NUL and RTL override in the model', chatPath, JSON.stringify({ model: 'gpt\u0000\u202e4', messages: [{ role: 'ROLE_USER', content: 'hi' }] }), connectJson, 'not_found'],
    ['JSON: an empty Explain', explainPath, '{}', connectJson, 'invalid_argument'],
    // Strict JSON: a misspelt enum name or field is refused, never read as the default (which for
    // InvalidateCache's scope meant "everything").
    ['JSON: a misspelt enum name', '/smarterrouter.v1.AdminService/InvalidateCache', '{"scope":"CACHE_SCOPE_SEMANTC"}', connectJson, 'invalid_argument', /CACHE_SCOPE_SEMANTC/],
    ['JSON: a misspelt field', chatPath, '{"messages":[{"role":"ROLE_USER","content":"hi"}],"temprature":0}', connectJson, 'invalid_argument', /temprature/],
    ['JSON: feedback score 2', feedbackPath, '{"responseId":"chatcmpl-x","score":2}', connectJson, 'invalid_argument'],
    ['JSON: feedback with a 3000-character comment', feedbackPath, JSON.stringify({ responseId: 'chatcmpl-x', score: 1, comment: 'c'.repeat(3000) }), connectJson, 'invalid_argument'],
    ['JSON: feedback for an unknown answer', feedbackPath, JSON.stringify({ responseId: "x'; DROP TABLE feedback; --", score: 1 }), connectJson, 'not_found'],
    // Connect binary. Bytes that do not decode never reach a handler: connect-es would answer INTERNAL
    // "parse binary: ..."; the router relabels that client error INVALID_ARGUMENT (as connect-go
    // answers; security/decode-failure.ts). protobuf-es stops nesting at 100 levels the same way.
    ['binary: garbage bytes', chatPath, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), connectProto, 'invalid_argument', /^parse binary: /],
    ['binary: truncated message', chatPath, binary({ messages: [protoUser('hello there')] }).subarray(0, 8), connectProto, 'invalid_argument', /^parse binary: /],
    ['binary: a wrong wire type', chatPath, Buffer.from([0x0d, 0x01, 0x02, 0x03, 0x04]), connectProto, 'invalid_argument', /^parse binary: /],
    ['binary: a struct nested past 100 levels', chatPath, binary({ messages: [protoUser('hi')], providerOptions: { ollama: deepStruct(60) as never } }), connectProto, 'invalid_argument', /^parse binary: /],
    // Connect JSON nested absurdly deep: the nesting scan refuses it before connect-es's JSON.parse.
    ['JSON: a 10 MB body nested 5,000,000 levels', chatPath, nested(5_000_000), connectJson, 'invalid_argument', /nested more than 128 levels/],
    ['binary: no messages', chatPath, Buffer.alloc(0), connectProto, 'invalid_argument'],
    ['binary: 10,000 messages', chatPath, binary({ messages: Array.from({ length: 10_000 }, () => protoUser('hi')) }), connectProto, 'invalid_argument'],
    ['binary: temperature NaN', chatPath, binary({ messages: [protoUser('hi')], temperature: Number.NaN }), connectProto, 'invalid_argument'],
    ['binary: an unknown role number', chatPath, binary({ messages: [{ role: 99 as Role, content: 'hi' }] }), connectProto, 'invalid_argument'],
    ['binary: an 11 MB message', chatPath, binary({ messages: [protoUser('x'.repeat(11 * 1024 * 1024))] }), connectProto, 'resource_exhausted'],
    ['binary: Explain with a 2 MB prompt', explainPath, Buffer.from(toBinary(ExplainRequestSchema, create(ExplainRequestSchema, { input: { case: 'prompt', value: 'p'.repeat(2_000_000) } }))), connectProto, 'invalid_argument'],
  ];

  it.each(cases)('%s', async (_name, path, body, headers, code, message) => {
    const before = await rows();
    const res = await send('POST', path, body, headers);
    expect(res.status).toBeGreaterThanOrEqual(400);
    if (code === 'invalid_argument') expect(res.status).toBe(400);
    const error = JSON.parse(res.text) as { code: string; message?: string };
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message ?? /\S/);
    expect(await rows()).toEqual(before);
  });

  it('gRPC over HTTP/2 refuses 10,000 messages, NaN and deeply nested tool parameters with INVALID_ARGUMENT', async () => {
    const client = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    const before = await rows();
    for (const request of [
      { messages: Array.from({ length: 10_000 }, () => ({ role: Role.USER, content: 'hi' })) },
      { messages: [{ role: Role.USER, content: 'hi' }], topP: Number.NaN },
      { messages: [{ role: Role.USER, content: 'hi' }], tools: [{ name: 'f', parametersJson: nested(100_000) }] },
    ]) {
      const error = await client.chat(request).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.InvalidArgument);
    }
    expect(await rows()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------

describe('every RPC wire: undecodable binary and absurdly nested JSON answer INVALID_ARGUMENT before any handler', () => {
  const chatPath = '/smarterrouter.v1.RouterService/Chat';
  const chatStreamPath = '/smarterrouter.v1.RouterService/ChatStream';
  const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
  const deepJson = nested(5_000_000); // 10 MB: JSON.parse alone would block for seconds

  const envelope = (flags: number, data: Buffer | string): Buffer => {
    const bytes = Buffer.from(data);
    const out = Buffer.alloc(5 + bytes.length);
    out[0] = flags;
    out.writeUInt32BE(bytes.length, 1);
    bytes.copy(out, 5);
    return out;
  };
  const envelopes = (body: Buffer): Array<{ flags: number; data: Buffer }> => {
    const out: Array<{ flags: number; data: Buffer }> = [];
    for (let at = 0; at + 5 <= body.length; ) {
      const length = body.readUInt32BE(at + 1);
      out.push({ flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) });
      at += 5 + length;
    }
    return out;
  };

  /** One gRPC call on a raw HTTP/2 stream: the status from the trailers (or the headers, if trailers-only). */
  function grpcRaw(path: string, contentType: string, body: Buffer): Promise<{ status: string | undefined; message: string }> {
    const session = http2.connect(router.url);
    return new Promise<{ status: string | undefined; message: string }>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': contentType, te: 'trailers' });
      let status: http2.IncomingHttpHeaders = {};
      stream.on('response', (headers) => (status = headers));
      stream.on('trailers', (trailers) => (status = trailers));
      stream.on('error', reject);
      stream.on('end', () => resolve({ status: status['grpc-status'] as string | undefined, message: decodeURIComponent(String(status['grpc-message'] ?? '')) }));
      stream.resume();
      stream.end(envelope(0, body));
    }).finally(() => session.close());
  }

  /** gRPC-Web over HTTP/1.1: the status is in the trailer envelope of the body. */
  async function grpcWebRaw(path: string, contentType: string, body: Buffer): Promise<{ status: string | undefined; message: string }> {
    const res = await fetch(new URL(path, router.url), { method: 'POST', headers: { 'content-type': contentType }, body: envelope(0, body) });
    expect(res.status).toBe(200);
    const trailer = envelopes(Buffer.from(await res.arrayBuffer())).find((e) => e.flags & 0x80);
    const fields = Object.fromEntries(
      String(trailer?.data ?? '')
        .split('\r\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    ) as Record<string, string>;
    return { status: fields['grpc-status'], message: decodeURIComponent(fields['grpc-message'] ?? '') };
  }

  /** Connect streaming: the error is in the end-stream envelope. */
  async function connectStreamRaw(path: string, contentType: string, body: Buffer | string): Promise<{ code?: string; message?: string }> {
    const res = await fetch(new URL(path, router.url), { method: 'POST', headers: { 'content-type': contentType, 'connect-protocol-version': '1' }, body: envelope(0, body) });
    expect(res.status).toBe(200);
    const end = envelopes(Buffer.from(await res.arrayBuffer())).find((e) => e.flags & 0x02);
    return (JSON.parse(String(end?.data)) as { error?: { code?: string; message?: string } }).error ?? {};
  }

  it('gRPC (raw HTTP/2): garbage bytes for a unary and a server-streaming method get grpc-status 3', async () => {
    const before = await rows();
    for (const path of [chatPath, chatStreamPath]) {
      for (const contentType of ['application/grpc', 'application/grpc+proto']) {
        const answer = await grpcRaw(path, contentType, garbage);
        expect(answer.status, `${path} ${contentType}`).toBe(String(Code.InvalidArgument));
        expect(answer.message).toMatch(/^parse binary: /);
      }
    }
    expect(await rows()).toEqual(before);
  });

  it('gRPC-Web and Connect streaming (raw HTTP/1.1): garbage bytes get INVALID_ARGUMENT in their own framing', async () => {
    const before = await rows();
    for (const path of [chatPath, chatStreamPath]) {
      const web = await grpcWebRaw(path, 'application/grpc-web+proto', garbage);
      expect(web.status, path).toBe(String(Code.InvalidArgument));
      expect(web.message).toMatch(/^parse binary: /);
    }
    const stream = await connectStreamRaw(chatStreamPath, 'application/connect+proto', garbage);
    expect(stream).toEqual({ code: 'invalid_argument', message: expect.stringMatching(/^parse binary: /) });
    expect(await rows()).toEqual(before);
  });

  it.each<[string, (baseUrl: string) => Transport]>([
    ['gRPC', (baseUrl) => createGrpcTransport({ baseUrl })],
    ['gRPC-Web', (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: true })],
    ['Connect', (baseUrl) => createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: true })],
  ])('a real %s client sending the wrong message type sees Code.InvalidArgument', async (_name, make) => {
    // Chat's path with a FloatValue as the request: field 1 arrives with the wrong wire type.
    const wrongChat = { ...RouterService.method.chat, input: FloatValueSchema } as unknown as typeof RouterService.method.chat;
    const error = await make(router.url)
      .unary(wrongChat, undefined, undefined, undefined, { value: 1.5 } as never)
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toMatch(/^parse binary: /);
  });

  it('10 MB of nested JSON is refused by the nesting scan on gRPC-Web JSON, gRPC JSON and Connect streaming JSON', async () => {
    const before = await rows();
    const web = await grpcWebRaw(chatPath, 'application/grpc-web+json', Buffer.from(deepJson));
    expect(web).toEqual({ status: String(Code.InvalidArgument), message: expect.stringMatching(/nested more than 128 levels/) });
    const grpc = await grpcRaw(chatPath, 'application/grpc+json', Buffer.from(deepJson));
    expect(grpc).toEqual({ status: String(Code.InvalidArgument), message: expect.stringMatching(/nested more than 128 levels/) });
    const stream = await connectStreamRaw(chatStreamPath, 'application/connect+json', deepJson);
    expect(stream).toEqual({ code: 'invalid_argument', message: expect.stringMatching(/nested more than 128 levels/) });
    expect(await rows()).toEqual(before);
  });

  it('ordinary Connect JSON still passes the guard (brackets inside strings do not count)', async () => {
    const res = await send(
      'POST',
      '/smarterrouter.v1.RouterService/Explain',
      JSON.stringify({ prompt: 'explain {[nested]} brackets "in [strings]"' }),
      { 'content-type': 'application/json', 'connect-protocol-version': '1' },
    );
    expect(res.status).toBe(200);
  });
});
