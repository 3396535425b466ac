/**
 * A client that leaves a streaming or unary RPC early, or lets its deadline pass, is not a router
 * failure: the RPC ends CANCELED or DEADLINE_EXCEEDED, never INTERNAL, with no ERROR log line, and
 * /metrics counts it under that status. A genuine upstream failure mid-stream keeps its own code.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { Role, RouterService, type ChatStreamResponse } from '../gen/smarterrouter/v1/router_pb.js';
import { RouterError } from '../src/core/types.js';
import { PluginError } from '../src/plugin-api/errors.js';
import { toConnectError } from '../src/server/connect/errors.js';
import { startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';
import { failure } from './support/connect-failure.js';

const user = (content: string) => ({ role: Role.USER, content });
const STORY = 'Write a long story about a dragon who learns to bake bread.';

// ~90 tokens at 10/s: still streaming when the client leaves.
const slow: SimModel = { id: 'slowpoke:7b', tokensPerSecond: 10, quality: { creativity: 0.9 } };
// Thinks for 5 s before its first token: deadlines and cancels land while the router waits.
const sleepy: SimModel = { id: 'sleepy:7b', firstTokenMs: 5000 };
// Its answers are cut after a few tokens: a genuine upstream failure mid-stream.
const broken: SimModel = { id: 'broken:7b' };

interface LogLine {
  level: number;
  msg: string;
  rpc?: string;
  code?: string;
}

let sim: RunningSimulator;
let router: TestRouter;
const lines: LogLine[] = [];

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [slow, sleepy, broken] });
  sim.setFailure('cut-stream', broken.id);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  router = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_LOG_FORMAT: 'json', ROUTER_LOG_LEVEL: 'debug' }, { logDestination: sink });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

const transports = (): Array<[string, () => Transport]> => [
  ['gRPC', () => createGrpcTransport({ baseUrl: router.url })],
  ['Connect over HTTP/2', () => createConnectTransport({ baseUrl: router.url, httpVersion: '2' })],
  ['Connect over HTTP/1.1', () => createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' })],
];

async function modelId(name: string): Promise<string> {
  const listed = await createClient(RouterService, createGrpcTransport({ baseUrl: router.url })).listModels({});
  return listed.models.find((m) => m.id.includes(name))!.id;
}

/** smarterrouter_requests_total and _errors_total for one RPC, by status / error type. */
async function counts(method: string): Promise<{ status: Record<string, number>; errors: Record<string, number> }> {
  const text = await (await fetch(`${router.url}/metrics`)).text();
  const status: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const endpoint = `endpoint="/smarterrouter.v1.RouterService/${method}"`;
  for (const line of text.split('\n')) {
    if (!line.includes(endpoint)) continue;
    const value = Number(line.split(' ').pop());
    const s = /^smarterrouter_requests_total\{.*status="(\w+)"/.exec(line);
    if (s) status[s[1]!] = (status[s[1]!] ?? 0) + value;
    const e = /^smarterrouter_errors_total\{.*error_type="(\w+)"/.exec(line);
    if (e) errors[e[1]!] = (errors[e[1]!] ?? 0) + value;
  }
  return { status, errors };
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** The RPC's log lines written since `from`. */
const rpcLines = (from: number, method: string) => lines.slice(from).filter((l) => l.rpc === `smarterrouter.v1.RouterService/${method}`);


describe.each(transports())('over %s', (_name, transport) => {
  it('a client that cancels ChatStream mid-answer: CANCELED, no error log, counted canceled', async () => {
    const client = createClient(RouterService, transport());
    const model = await modelId('slowpoke');
    const before = await counts('ChatStream');
    const from = lines.length;
    const controller = new AbortController();
    const seen: ChatStreamResponse[] = [];
    const error = await failure(async () => {
      for await (const m of client.chatStream({ request: { model, messages: [user(STORY)] } }, { signal: controller.signal })) {
        seen.push(m);
        if (seen.length === 4) controller.abort();
      }
    });
    expect(error?.code).toBe(Code.Canceled);

    await vi.waitFor(async () => expect(diff((await counts('ChatStream')).status, before.status)).toEqual({ canceled: 1 }), { timeout: 3000, interval: 25 });
    const after = await counts('ChatStream');
    expect(diff(after.errors, before.errors)).toEqual({ canceled: 1 });
    const logged = rpcLines(from, 'ChatStream');
    expect(logged.filter((l) => l.level >= 40)).toEqual([]);
    expect(logged.map((l) => l.code)).toEqual(['Canceled']);
  });

  it('a ChatStream whose deadline passes mid-answer: DEADLINE_EXCEEDED, no error log, counted deadline_exceeded', async () => {
    const client = createClient(RouterService, transport());
    const model = await modelId('slowpoke');
    const before = await counts('ChatStream');
    const from = lines.length;
    const seen: ChatStreamResponse[] = [];
    const error = await failure(async () => {
      for await (const m of client.chatStream({ request: { model, messages: [user(STORY)] } }, { timeoutMs: 800 })) seen.push(m);
    });
    expect(error?.code).toBe(Code.DeadlineExceeded);
    expect(seen.length).toBeGreaterThan(1);

    await vi.waitFor(async () => expect(diff((await counts('ChatStream')).status, before.status)).toEqual({ deadline_exceeded: 1 }), { timeout: 3000, interval: 25 });
    const logged = rpcLines(from, 'ChatStream');
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged.map((l) => l.code)).toEqual(['DeadlineExceeded']);
  });

  it('a backend that cuts its answer mid-stream still ends ChatStream UNAVAILABLE, logged at warn', async () => {
    const client = createClient(RouterService, transport());
    const model = await modelId('broken');
    const before = await counts('ChatStream');
    const from = lines.length;
    const seen: ChatStreamResponse[] = [];
    const error = await failure(async () => {
      for await (const m of client.chatStream({ request: { model, messages: [user(STORY)] } })) seen.push(m);
    });
    expect(error?.code).toBe(Code.Unavailable);
    expect(seen.some((m) => m.part.case === 'textDelta')).toBe(true);

    await vi.waitFor(async () => expect(diff((await counts('ChatStream')).status, before.status)).toEqual({ unavailable: 1 }), { timeout: 3000, interval: 25 });
    expect(rpcLines(from, 'ChatStream').map((l) => [l.level, l.code])).toEqual([[40, 'Unavailable']]);
  });

  it('a client that cancels Chat while the model thinks: CANCELED, no error log, counted canceled', async () => {
    const client = createClient(RouterService, transport());
    const model = await modelId('sleepy');
    const before = await counts('Chat');
    const from = lines.length;
    const error = await failure(() => client.chat({ model, messages: [user('hello')] }, { signal: AbortSignal.timeout(300) }));
    expect(error?.code).toBe(Code.Canceled);

    await vi.waitFor(async () => expect(diff((await counts('Chat')).status, before.status)).toEqual({ canceled: 1 }), { timeout: 3000, interval: 25 });
    expect(rpcLines(from, 'Chat').filter((l) => l.level >= 40)).toEqual([]);
  });

  it('a Chat whose deadline passes mid-answer: DEADLINE_EXCEEDED, no error log, counted deadline_exceeded', async () => {
    const client = createClient(RouterService, transport());
    const model = await modelId('slowpoke');
    const before = await counts('Chat');
    const from = lines.length;
    const error = await failure(() => client.chat({ model, messages: [user(STORY)] }, { timeoutMs: 300 }));
    expect(error?.code).toBe(Code.DeadlineExceeded);

    await vi.waitFor(async () => expect(diff((await counts('Chat')).status, before.status)).toEqual({ deadline_exceeded: 1 }), { timeout: 3000, interval: 25 });
    const logged = rpcLines(from, 'Chat');
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged.map((l) => l.code)).toEqual(['DeadlineExceeded']);
  });

  it('a Chat whose deadline passes: DEADLINE_EXCEEDED, no error log, counted deadline_exceeded', async () => {
    const client = createClient(RouterService, transport());
    const model = await modelId('sleepy');
    const before = await counts('Chat');
    const from = lines.length;
    const error = await failure(() => client.chat({ model, messages: [user('hello')] }, { timeoutMs: 300 }));
    expect(error?.code).toBe(Code.DeadlineExceeded);

    await vi.waitFor(async () => expect(diff((await counts('Chat')).status, before.status)).toEqual({ deadline_exceeded: 1 }), { timeout: 3000, interval: 25 });
    const logged = rpcLines(from, 'Chat');
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged.map((l) => l.code)).toEqual(['DeadlineExceeded']);
  });
});

describe('toConnectError on a call whose signal aborted', () => {
  const aborted = (reason?: unknown) => {
    const controller = new AbortController();
    controller.abort(reason);
    return controller.signal;
  };
  // What connect-node puts on the signal when a gRPC client resets the stream at its own deadline.
  const reset = new ConnectError('http/2 stream closed with error code INTERNAL_ERROR (0x2)', Code.Internal);
  const wentAway = new RouterError('aborted', 'the client went away');

  it('a client reset near the deadline is DEADLINE_EXCEEDED, not the INTERNAL of the reset stream', () => {
    expect(toConnectError(wentAway, { signal: aborted(reset), timeoutMs: () => 3 }).code).toBe(Code.DeadlineExceeded);
    expect(toConnectError(wentAway, { signal: aborted(reset), timeoutMs: () => -20 }).code).toBe(Code.DeadlineExceeded);
  });

  it('a client reset well before any deadline is CANCELED', () => {
    expect(toConnectError(wentAway, { signal: aborted(reset), timeoutMs: () => 4000 }).code).toBe(Code.Canceled);
    expect(toConnectError(wentAway, { signal: aborted(reset), timeoutMs: () => undefined }).code).toBe(Code.Canceled);
    expect(toConnectError(wentAway, { signal: aborted(new ConnectError('reset', Code.Aborted)) }).code).toBe(Code.Canceled);
    expect(toConnectError(wentAway, { signal: aborted() }).code).toBe(Code.Canceled);
  });

  it('a backend stream cut because the client left is the client leaving', () => {
    const cut = new PluginError({ code: 'bad_response', message: 'terminated', backend: 'gpu', model: 'm:7b' });
    expect(toConnectError(cut, { signal: aborted() }).code).toBe(Code.Canceled);
    // Without an aborted signal it is the backend's failure.
    expect(toConnectError(cut, { signal: new AbortController().signal }).code).toBe(Code.Unavailable);
  });

  it('a bug stays INTERNAL even when the client also left', () => {
    expect(toConnectError(new TypeError('x is undefined'), { signal: aborted() }).code).toBe(Code.Internal);
  });
});
