/**
 * Admin auth and client keys, end to end on real ports with real clients (fetch, the openai SDK,
 * connect-node gRPC and Connect transports): REST and RPC x no key, wrong key, right key, and a
 * loopback vs a non-loopback client.
 *
 * "Not loopback" is real, not simulated: the router listens on 0.0.0.0 and the test connects to this
 * machine's own non-loopback interface address (e.g. 192.0.2.2), so the server sees that address as
 * the peer — exactly what a client on the network looks like. Only a machine without any such
 * interface skips those cases (vitest reports them as skipped); the address rules themselves are
 * unit-tested below for every spelling a socket can report.
 */
import { networkInterfaces } from 'node:os';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import OpenAI, { AuthenticationError } from 'openai';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { ProfilerService } from '../gen/smarterrouter/v1/profiler_pb.js';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { isLoopbackAddress } from '../src/server/security/addresses.js';
import { bearerToken, KeyRing } from '../src/server/security/keys.js';
import { AccessPolicy } from '../src/server/security/policy.js';
import { surfaceOf } from '../src/server/security/surface.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const ADMIN_KEY = 'admin-key-0123456789';
const CLIENT_KEYS = ['client-key-a', 'client-key-b'];

/** This machine's first non-loopback IPv4 address, if it has one. */
const EXTERNAL_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

const bearer = (key: string | undefined): Record<string, string> => (key === undefined ? {} : { authorization: `Bearer ${key}` });

async function rpcFailure(call: () => Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

function transports(baseUrl: string): Array<[string, Transport]> {
  return [
    ['gRPC', createGrpcTransport({ baseUrl })],
    ['Connect', createConnectTransport({ baseUrl, httpVersion: '1.1' })],
  ];
}

/** Calls one RPC of each service with the given key; returns the outcome per service. */
async function rpcOutcomes(transport: Transport, key: string | undefined) {
  const headers = bearer(key);
  return {
    router: await rpcFailure(() => createClient(RouterService, transport).listModels({}, { headers })),
    admin: await rpcFailure(() => createClient(AdminService, transport).listPlugins({}, { headers })),
    profiler: await rpcFailure(() => createClient(ProfilerService, transport).getStatus({}, { headers })),
  };
}

describe('access rules (pure)', () => {
  it('recognises every loopback spelling and nothing else', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['192.0.2.2', '10.0.0.1', '128.0.0.1', '::ffff:192.0.2.2', 'fd00::2', '::', '', 'localhost', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
  });

  it('parses Bearer tokens strictly and compares keys exactly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken(['Bearer abc', 'Bearer other'])).toBe('abc');
    for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'abc', 'Bearer a b']) expect(bearerToken(h), String(h)).toBeUndefined();
    const ring = new KeyRing(['k1', 'longer-key-2', '']);
    expect(ring.size).toBe(2);
    expect(ring.has('k1')).toBe(true);
    expect(ring.has('longer-key-2')).toBe(true);
    for (const t of ['k', 'k1 ', 'K1', 'longer-key-', '', undefined]) expect(ring.has(t), String(t)).toBe(false);
  });

  it('classifies routes by their pattern', () => {
    expect(surfaceOf('GET', '/health')).toBe('health');
    expect(surfaceOf('GET', '/v1/models')).toBe('client');
    expect(surfaceOf('OPTIONS', '/v1/*')).toBe('open');
    expect(surfaceOf('GET', '/admin/plugins')).toBe('admin');
    expect(surfaceOf('GET', '/dashboard')).toBe('admin');
    expect(surfaceOf('GET', '/metrics')).toBe('metrics');
    expect(surfaceOf('GET', '/administrator')).toBe('open');
    expect(surfaceOf('GET', undefined)).toBe('open');
    expect(surfaceOf('POST', '/smarterrouter.v1.RouterService/Chat')).toBe('client');
    expect(surfaceOf('POST', '/smarterrouter.v1.AdminService/ListPlugins')).toBe('admin');
    expect(surfaceOf('POST', '/smarterrouter.v1.ProfilerService/GetStatus')).toBe('admin');
    expect(surfaceOf('POST', '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo')).toBe('open');
    // A service nobody classified is treated as admin (fail closed).
    expect(surfaceOf('POST', '/other.v1.NewService/Do')).toBe('admin');
  });

  it('uses a valid key, never an unchecked one, as the rate-limit identity', () => {
    const policy = new AccessPolicy({ adminApiKey: ADMIN_KEY, apiKeys: CLIENT_KEYS });
    expect(policy.clientKeyOf('Bearer client-key-a')).toMatch(/^[0-9a-f]{24}$/);
    expect(policy.clientKeyOf('Bearer client-key-a')).not.toBe(policy.clientKeyOf('Bearer client-key-b'));
    expect(policy.clientKeyOf(`Bearer ${ADMIN_KEY}`)).toBeDefined();
    expect(policy.clientKeyOf('Bearer made-up')).toBeUndefined();
    expect(policy.clientKeyOf(undefined)).toBeUndefined();
  });

  it('needs every address of a proxied chain to be local for admin while no admin key is set', () => {
    const policy = new AccessPolicy({ apiKeys: [] });
    expect(policy.check('admin', undefined, ['127.0.0.1'])).toEqual({ ok: true });
    expect(policy.check('admin', undefined, ['127.0.0.1', '::1'])).toEqual({ ok: true });
    // A local proxy forwarding a remote client, and a remote client forging a loopback hop.
    expect(policy.check('admin', undefined, ['127.0.0.1', '203.0.113.9'])).toMatchObject({ ok: false, status: 403 });
    expect(policy.check('admin', undefined, ['192.0.2.2', '127.0.0.1'])).toMatchObject({ ok: false, status: 403 });
    expect(policy.check('admin', undefined, [])).toMatchObject({ ok: false, status: 403 });
    expect(policy.check('admin', undefined, ['127.0.0.1', 'unknown'])).toMatchObject({ ok: false, status: 403 });
  });

  it('accepts an injected trust function for what counts as local', () => {
    const policy = new AccessPolicy({ apiKeys: [], isLocalClient: (a) => a === '10.1.1.1' });
    expect(policy.check('admin', undefined, '10.1.1.1')).toEqual({ ok: true });
    expect(policy.check('admin', undefined, '127.0.0.1')).toMatchObject({ ok: false, status: 403 });
  });
});

describe('no keys configured (the default)', () => {
  let router: TestRouter;
  let remote: string | undefined;

  beforeAll(async () => {
    router = await startTestRouter({ ROUTER_HOST: '0.0.0.0' });
    const port = new URL(router.url).port;
    remote = EXTERNAL_ADDRESS && `http://${EXTERNAL_ADDRESS}:${port}`;
  });
  afterAll(async () => {
    await router?.stop();
  });

  it('serves /v1, /health and /admin to a loopback client without any Authorization header', async () => {
    for (const path of ['/v1/models', '/health', '/admin/plugins']) {
      const res = await fetch(`${router.url}${path}`);
      expect(res.status, path).toBe(200);
    }
    // Real clients send some key even when none is needed; it is ignored.
    const sdk = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'anything', maxRetries: 0 });
    expect((await sdk.models.list()).data.length).toBeGreaterThan(0);
  });

  it('refuses admin changes sent by another site\'s page (the loopback rule alone let them through)', async () => {
    const post = (headers: Record<string, string>) => fetch(`${router.url}/admin/cache/invalidate`, { method: 'POST', headers });
    for (const headers of [{ origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'null' }] as Array<Record<string, string>>) {
      const res = await post(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('cross_site_request');
    }
    const host = new URL(router.url).host;
    // The dashboard's own calls, and clients that are not browsers, go through.
    for (const headers of [{}, { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }] as Array<Record<string, string>>) {
      expect((await post(headers)).status, JSON.stringify(headers)).toBe(200);
    }
    // Reads are not changes: a cross-site GET cannot read the answer anyway (no CORS on /admin).
    expect((await fetch(`${router.url}/admin/plugins`, { headers: { origin: 'http://evil.example' } })).status).toBe(200);
  });

  it.each(['gRPC', 'Connect'])('serves every RPC service to a loopback client over %s', async (name) => {
    const transport = transports(router.url).find(([n]) => n === name)![1];
    const outcome = await rpcOutcomes(transport, undefined);
    expect(outcome.router).toBe('ok');
    expect(outcome.admin).toBe('ok');
    // ProfilerService may not be built yet: anything but an auth refusal is fine.
    expect([Code.Unauthenticated, Code.PermissionDenied]).not.toContain(outcome.profiler);
  });

  describe.skipIf(!EXTERNAL_ADDRESS)('from a non-loopback address of this machine', () => {
    it('refuses /admin with 403 and OpenAI error JSON, but serves /v1, /health and /metrics', async () => {
      const admin = await fetch(`${remote}/admin/plugins`);
      expect(admin.status).toBe(403);
      expect(await admin.json()).toEqual({
        error: { message: expect.stringContaining('ROUTER_ADMIN_API_KEY'), type: 'permission_error', param: null, code: 'admin_loopback_only' },
      });
      for (const path of ['/admin/explain?prompt=hi', '/dashboard']) expect((await fetch(`${remote}${path}`)).status, path).toBe(403);
      expect((await fetch(`${remote}/v1/models`)).status).toBe(200);
      expect((await fetch(`${remote}/health`)).status).toBe(200);
      // /metrics is for scrapers: not behind the loopback rule (501 until metrics are built).
      expect([200, 501]).toContain((await fetch(`${remote}/metrics`)).status);
    });

    it.each(['gRPC', 'Connect'])('refuses AdminService and ProfilerService with PERMISSION_DENIED over %s', async (name) => {
      const transport = transports(remote!).find(([n]) => n === name)![1];
      const outcome = await rpcOutcomes(transport, undefined);
      expect(outcome).toEqual({ router: 'ok', admin: Code.PermissionDenied, profiler: Code.PermissionDenied });
    });
  });
});

describe('admin key and client keys configured', () => {
  let router: TestRouter;
  let remote: string | undefined;

  beforeAll(async () => {
    router = await startTestRouter({ ROUTER_HOST: '0.0.0.0', ROUTER_ADMIN_API_KEY: ADMIN_KEY, ROUTER_API_KEYS: CLIENT_KEYS.join(',') });
    const port = new URL(router.url).port;
    remote = EXTERNAL_ADDRESS && `http://${EXTERNAL_ADDRESS}:${port}`;
  });
  afterAll(async () => {
    await router?.stop();
  });

  // [key, /v1 status, /admin status, /metrics status (501 = reached the not-yet-built route)]
  const REST_MATRIX: Array<[string, string | undefined, number, number, number]> = [
    ['no key', undefined, 401, 401, 401],
    ['a wrong key', 'wrong-key', 401, 401, 401],
    ['a client key', CLIENT_KEYS[1], 200, 401, 401],
    ['the admin key', ADMIN_KEY, 200, 200, 501],
  ];

  const bases = (): Array<[string, string]> => [['loopback', router.url], ...(remote ? [['non-loopback', remote] as [string, string]] : [])];

  it.each(REST_MATRIX)('REST with %s', async (_label, key, v1, admin, metrics) => {
    for (const [where, base] of bases()) {
      const headers = bearer(key);
      const res = await fetch(`${base}/v1/models`, { headers });
      expect(res.status, `${where} /v1`).toBe(v1);
      if (v1 === 401) {
        expect(await res.json(), where).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      }
      expect((await fetch(`${base}/admin/plugins`, { headers })).status, `${where} /admin`).toBe(admin);
      const metricsStatus = (await fetch(`${base}/metrics`, { headers })).status;
      if (metrics === 501) expect([200, 501], `${where} /metrics`).toContain(metricsStatus);
      else expect(metricsStatus, `${where} /metrics`).toBe(metrics);
      expect((await fetch(`${base}/health`, { headers })).status, `${where} /health`).toBe(200);
    }
  });

  it('the OpenAI SDK gets a typed 401 invalid_api_key with a wrong key and works with a right one', async () => {
    const wrong = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    const error = await wrong.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe('invalid_api_key');
    const right = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: CLIENT_KEYS[0], maxRetries: 0 });
    expect((await right.models.list()).data.length).toBeGreaterThan(0);
  });

  it('answers CORS preflights on /v1 without a key, and puts CORS headers on a 401', async () => {
    const preflight = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'http://ui.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const refused = await fetch(`${router.url}/v1/models`, { headers: { origin: 'http://ui.example' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('cannot be bypassed by spelling the admin path differently', async () => {
    for (const path of ['/%61dmin/plugins', '/admin/plugins/', '//admin/plugins', '/admin/plugins?x=1']) {
      const res = await fetch(`${router.url}${path}`);
      expect([401, 404], path).toContain(res.status);
    }
  });

  // [key, RouterService, AdminService, ProfilerService ('reached' = past auth: OK or UNIMPLEMENTED)]
  const RPC_MATRIX: Array<[string, string | undefined, Code | 'ok', Code | 'ok', Code | 'reached']> = [
    ['no key', undefined, Code.Unauthenticated, Code.Unauthenticated, Code.Unauthenticated],
    ['a wrong key', 'wrong-key', Code.Unauthenticated, Code.Unauthenticated, Code.Unauthenticated],
    ['a client key', CLIENT_KEYS[0], 'ok', Code.Unauthenticated, Code.Unauthenticated],
    ['the admin key', ADMIN_KEY, 'ok', 'ok', 'reached'],
  ];

  describe.each(['gRPC', 'Connect'])('RPC over %s', (name) => {
    it.each(RPC_MATRIX)('with %s', async (_label, key, routerCode, adminCode, profilerCode) => {
      for (const [where, base] of bases()) {
        const transport = transports(base).find(([n]) => n === name)![1];
        const outcome = await rpcOutcomes(transport, key);
        expect(outcome.router, `${where} RouterService`).toBe(routerCode);
        expect(outcome.admin, `${where} AdminService`).toBe(adminCode);
        if (profilerCode === 'reached') expect([Code.Unauthenticated, Code.PermissionDenied], `${where} ProfilerService`).not.toContain(outcome.profiler);
        else expect(outcome.profiler, `${where} ProfilerService`).toBe(profilerCode);
      }
    });
  });

  it('leaves gRPC reflection open (it only describes the schema)', async () => {
    const res = await fetch(`${router.url}/grpc.reflection.v1.ServerReflection/ServerReflectionInfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json' },
      body: new Uint8Array(0),
    });
    // Reflection is bidi (HTTP/2 only); over HTTP/1.1 connect-es refuses the protocol, but never with 401.
    expect(res.status).not.toBe(401);
    expect(await res.text()).not.toContain('unauthenticated');
  });
});

describe('start-up warning', () => {
  async function startupLog(env: Record<string, string>): Promise<string> {
    let log = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        log += chunk.toString();
        done();
      },
    });
    const router = await startTestRouter({ ROUTER_LOG_FORMAT: 'json', ROUTER_LOG_LEVEL: 'info', ...env }, { logDestination: sink });
    await router.stop();
    return log;
  }

  it('warns once that admin endpoints are loopback-only when ROUTER_ADMIN_API_KEY is unset', async () => {
    const lines = (await startupLog({}))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    const warnings = lines.filter((l) => l.msg.includes('ROUTER_ADMIN_API_KEY is not set'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
    expect(warnings[0]!.msg).toContain('loopback');
  });

  it('does not warn when an admin key is set', async () => {
    expect(await startupLog({ ROUTER_ADMIN_API_KEY: ADMIN_KEY })).not.toContain('ROUTER_ADMIN_API_KEY is not set');
  });
});
