/**
 * Per-client rate limits on a real router (ROUTER_RATE_LIMIT_ENABLED with tiny per-minute budgets),
 * called over REST (fetch and the openai SDK) and RPC with the Connect protocol (unary and streaming),
 * gRPC and gRPC-Web. Each case uses its own client key, so each has its own bucket and the cases do
 * not depend on each other's order.
 */
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import OpenAI, { RateLimitError } from 'openai';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const LIMIT = 3;
const ADMIN_LIMIT = 2;
const ADMIN_KEY = 'rate-admin-key';
const KEYS = Array.from({ length: 8 }, (_, i) => `rate-client-${i}`);

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    ROUTER_RATE_LIMIT_ENABLED: 'true',
    ROUTER_RATE_LIMIT_REQUESTS_PER_MINUTE: String(LIMIT),
    ROUTER_RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE: String(ADMIN_LIMIT),
    ROUTER_ADMIN_API_KEY: ADMIN_KEY,
    ROUTER_API_KEYS: KEYS.join(','),
  });
});
afterAll(async () => {
  await router?.stop();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

function expectRetryAfter(value: string | null | undefined): void {
  expect(value).toMatch(/^\d+$/);
  expect(Number(value)).toBeGreaterThanOrEqual(1);
  expect(Number(value)).toBeLessThanOrEqual(60);
}

async function rpcError(call: () => Promise<unknown>): Promise<ConnectError | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return ConnectError.from(error);
  }
}

describe('REST', () => {
  it('answers 429 with Retry-After and OpenAI error JSON once a client used its budget', async () => {
    for (let i = 0; i < LIMIT; i++) {
      const res = await fetch(`${router.url}/v1/models`, { headers: auth(KEYS[0]!) });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - i - 1));
    }
    const refused = await fetch(`${router.url}/v1/models`, { headers: { ...auth(KEYS[0]!), origin: 'http://ui.example' } });
    expect(refused.status).toBe(429);
    expectRetryAfter(refused.headers.get('retry-after'));
    // A browser UI can read the refusal.
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(await refused.json()).toEqual({
      error: { message: expect.stringContaining(`${LIMIT} requests per minute`), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
    });
  });

  it('the OpenAI SDK sees a typed RateLimitError', async () => {
    const sdk = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: KEYS[1], maxRetries: 0 });
    for (let i = 0; i < LIMIT; i++) await sdk.models.list();
    const error = await sdk.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers?.get('retry-after')).toMatch(/^\d+$/);
  });

  it('gives each client key its own budget', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await fetch(`${router.url}/v1/models`, { headers: auth(KEYS[2]!) })).status).toBe(200);
    expect((await fetch(`${router.url}/v1/models`, { headers: auth(KEYS[2]!) })).status).toBe(429);
    expect((await fetch(`${router.url}/v1/models`, { headers: auth(KEYS[3]!) })).status).toBe(200);
  });

  it('keeps the admin budget separate from the /v1 budget, and never limits /health', async () => {
    // The admin key opens /v1 too; using up its /v1 budget leaves its admin budget untouched.
    for (let i = 0; i < LIMIT; i++) expect((await fetch(`${router.url}/v1/models`, { headers: auth(ADMIN_KEY) })).status).toBe(200);
    expect((await fetch(`${router.url}/v1/models`, { headers: auth(ADMIN_KEY) })).status).toBe(429);
    for (let i = 0; i < ADMIN_LIMIT; i++) {
      const res = await fetch(`${router.url}/admin/plugins`, { headers: auth(ADMIN_KEY) });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe(String(ADMIN_LIMIT));
    }
    const refused = await fetch(`${router.url}/admin/plugins`, { headers: auth(ADMIN_KEY) });
    expect(refused.status).toBe(429);
    expectRetryAfter(refused.headers.get('retry-after'));
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    // AdminService shares the admin budget of the same client.
    const rpc = await rpcError(() => createClient(AdminService, createGrpcTransport({ baseUrl: router.url })).listPlugins({}, { headers: auth(ADMIN_KEY) }));
    expect(rpc?.code).toBe(Code.ResourceExhausted);

    for (let i = 0; i < 3 * LIMIT; i++) expect((await fetch(`${router.url}/health`)).status).toBe(200);
  });

  it('counts made-up keys against the IP, so guessing keys does not buy requests', async () => {
    // Every keyless or wrong-key request from 127.0.0.1 shares one bucket (and is refused 401 within it).
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await fetch(`${router.url}/v1/models`, { headers: auth(`guess-${i}`) })).status);
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect(statuses[LIMIT]).toBe(429);
  });
});

describe('RPC', () => {
  async function exhaust(transport: Transport, key: string): Promise<void> {
    const client = createClient(RouterService, transport);
    for (let i = 0; i < LIMIT; i++) await client.listModels({}, { headers: auth(key) });
  }

  it('Connect protocol: HTTP 429, Connect error JSON resource_exhausted and Retry-After', async () => {
    await exhaust(createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }), KEYS[4]!);
    const res = await fetch(`${router.url}/smarterrouter.v1.RouterService/ListModels`, {
      method: 'POST',
      headers: { ...auth(KEYS[4]!), 'content-type': 'application/json', 'connect-protocol-version': '1' },
      body: '{}',
    });
    expect(res.status).toBe(429);
    expectRetryAfter(res.headers.get('retry-after'));
    expect(await res.json()).toEqual({ code: 'resource_exhausted', message: expect.stringContaining('requests per minute') });
    // And a real Connect client reads it as RESOURCE_EXHAUSTED, unary and streaming.
    const transport = createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' });
    const unary = await rpcError(() => createClient(RouterService, transport).listModels({}, { headers: auth(KEYS[4]!) }));
    expect(unary?.code).toBe(Code.ResourceExhausted);
    const stream = await rpcError(async () => {
      for await (const _ of createClient(RouterService, transport).chatStream({ request: { messages: [{ role: Role.USER, content: 'hi' }] } }, { headers: auth(KEYS[4]!) })) {
        // nothing arrives
      }
    });
    expect(stream?.code).toBe(Code.ResourceExhausted);
    expect(stream?.rawMessage).toContain('requests per minute');
  });

  it('gRPC: a trailers-only answer with grpc-status 8 and Retry-After', async () => {
    await exhaust(createGrpcTransport({ baseUrl: router.url }), KEYS[5]!);
    const error = await rpcError(() => createClient(RouterService, createGrpcTransport({ baseUrl: router.url })).listModels({}, { headers: auth(KEYS[5]!) }));
    expect(error?.code).toBe(Code.ResourceExhausted);

    // On the wire: one HEADERS frame that ends the stream, carrying the status (no body, no trailers frame).
    const session = http2.connect(router.url);
    try {
      const answer = await new Promise<{ headers: http2.IncomingHttpHeaders; ended: boolean; bytes: number; trailers: boolean }>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/smarterrouter.v1.RouterService/ListModels',
          'content-type': 'application/grpc',
          te: 'trailers',
          ...auth(KEYS[5]!),
        });
        let headers: http2.IncomingHttpHeaders = {};
        let ended = false;
        let bytes = 0;
        let trailers = false;
        stream.on('response', (h, flags) => {
          headers = h;
          ended = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
        });
        stream.on('trailers', () => (trailers = true));
        stream.on('data', (d: Buffer) => (bytes += d.length));
        stream.on('end', () => resolve({ headers, ended, bytes, trailers }));
        stream.on('error', reject);
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      expect(answer.headers[':status']).toBe(200);
      expect(answer.headers['grpc-status']).toBe('8');
      expect(decodeURIComponent(String(answer.headers['grpc-message']))).toContain('requests per minute');
      expectRetryAfter(answer.headers['retry-after'] as string);
      expect(answer.ended).toBe(true);
      expect(answer.bytes).toBe(0);
      expect(answer.trailers).toBe(false);
    } finally {
      session.close();
    }
  });

  it('gRPC-Web: RESOURCE_EXHAUSTED', async () => {
    const transport = createGrpcWebTransport({ baseUrl: router.url, httpVersion: '1.1' });
    await exhaust(transport, KEYS[6]!);
    const error = await rpcError(() => createClient(RouterService, transport).listModels({}, { headers: auth(KEYS[6]!) }));
    expect(error?.code).toBe(Code.ResourceExhausted);
  });

  it('RouterService and /v1 share a client budget (one API, two doors)', async () => {
    const client = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    for (let i = 0; i < LIMIT - 1; i++) await client.listModels({}, { headers: auth(KEYS[7]!) });
    expect((await fetch(`${router.url}/v1/models`, { headers: auth(KEYS[7]!) })).status).toBe(200);
    expect((await rpcError(() => client.listModels({}, { headers: auth(KEYS[7]!) })))?.code).toBe(Code.ResourceExhausted);
  });
});

describe('disabled (the default)', () => {
  it('never limits', async () => {
    const open = await startTestRouter({ ROUTER_RATE_LIMIT_REQUESTS_PER_MINUTE: '1' });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${open.url}/v1/models`);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      }
    } finally {
      await open.stop();
    }
  });
});
