/**
 * ROUTER_TRUST_PROXY on real routers: which address the rate limiter counts and the admin loopback rule
 * judges, for clients that send X-Forwarded-For, over REST, gRPC (h2c) and Connect.
 *
 * The peer address is real: the router listens on 0.0.0.0 and tests connect either to 127.0.0.1 (a
 * proxy on the same host) or to this machine's own non-loopback interface address (a client on the
 * network). Forwarded addresses are written by the test, as a proxy or an attacker would. The budget
 * a request was counted against is read from x-ratelimit-remaining: two requests in one bucket count
 * down together, a new bucket starts full.
 */
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { ConfigError, configFrom } from '../src/config/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const EXTERNAL_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

const LIMIT = 1000;
const xff = (value: string | undefined): Record<string, string> => (value === undefined ? {} : { 'x-forwarded-for': value });

async function start(trust: string | undefined): Promise<{ router: TestRouter; local: string; remote: string | undefined }> {
  const router = await startTestRouter({
    ROUTER_HOST: '0.0.0.0',
    ...(trust === undefined ? {} : { ROUTER_TRUST_PROXY: trust }),
    ROUTER_RATE_LIMIT_ENABLED: 'true',
    ROUTER_RATE_LIMIT_REQUESTS_PER_MINUTE: String(LIMIT),
    ROUTER_RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE: String(LIMIT),
  });
  const port = new URL(router.url).port;
  return { router, local: `http://127.0.0.1:${port}`, remote: EXTERNAL_ADDRESS && `http://${EXTERNAL_ADDRESS}:${port}` };
}

async function adminStatus(base: string, forwardedFor?: string): Promise<number> {
  return (await fetch(`${base}/admin/plugins`, { headers: xff(forwardedFor) })).status;
}

/** AdminService over gRPC and Connect with the given X-Forwarded-For: 'ok' or the error code, per protocol. */
async function adminRpc(base: string, forwardedFor?: string): Promise<Array<Code | 'ok'>> {
  const outcomes: Array<Code | 'ok'> = [];
  for (const transport of [createGrpcTransport({ baseUrl: base }), createConnectTransport({ baseUrl: base, httpVersion: '1.1' })]) {
    try {
      await createClient(AdminService, transport).listPlugins({}, { headers: xff(forwardedFor) });
      outcomes.push('ok');
    } catch (error) {
      outcomes.push(ConnectError.from(error).code);
    }
  }
  return outcomes;
}

/** The requests left in the bucket this request was counted against. */
async function remaining(base: string, forwardedFor?: string): Promise<number> {
  const res = await fetch(`${base}/v1/models`, { headers: xff(forwardedFor) });
  expect(res.status).toBe(200);
  return Number(res.headers.get('x-ratelimit-remaining'));
}

describe('ROUTER_TRUST_PROXY parsing', () => {
  it('accepts false, true, a hop count and lists of addresses, CIDRs and proxy-addr names', () => {
    expect(configFrom({}).trustProxy).toBe(false);
    expect(configFrom({ ROUTER_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(configFrom({ ROUTER_TRUST_PROXY: 'TRUE' }).trustProxy).toBe(true);
    expect(configFrom({ ROUTER_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(configFrom({ ROUTER_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,fd00::/8, loopback, 192.168.0.0/255.255.0.0' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      'fd00::/8',
      'loopback',
      '192.168.0.0/255.255.0.0',
    ]);
  });

  it.each(['maybe', '10.0.0.0/33', '999.1.1.1', '-1', '127.0.0.1,nginx', 'fd00::/129', '1000'])('refuses %s at start-up, naming the variable', (raw) => {
    expect(() => configFrom({ ROUTER_TRUST_PROXY: raw })).toThrow(ConfigError);
    expect(() => configFrom({ ROUTER_TRUST_PROXY: raw })).toThrow(/ROUTER_TRUST_PROXY/);
  });
});

describe('not set (the default): X-Forwarded-For is ignored', () => {
  let r: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    r = await start(undefined);
  });
  afterAll(async () => {
    await r?.router.stop();
  });

  it('counts every loopback request against the socket address, whatever it forwards', async () => {
    const first = await remaining(r.local, '203.0.113.1');
    expect(await remaining(r.local, '203.0.113.2')).toBe(first - 1);
    expect(await remaining(r.local)).toBe(first - 2);
  });

  it('keeps admin open to a loopback client that forwards a remote address (the socket decides)', async () => {
    expect(await adminStatus(r.local, '203.0.113.9')).toBe(200);
  });

  it.skipIf(!EXTERNAL_ADDRESS)('a remote client forging X-Forwarded-For: 127.0.0.1 stays remote: 403, PERMISSION_DENIED', async () => {
    for (const forged of ['127.0.0.1', '::1', '127.0.0.1, 127.0.0.1']) {
      expect(await adminStatus(r.remote!, forged), forged).toBe(403);
      expect(await adminRpc(r.remote!, forged), forged).toEqual([Code.PermissionDenied, Code.PermissionDenied]);
    }
  });
});

describe('a trusted proxy on this host (ROUTER_TRUST_PROXY=127.0.0.1)', () => {
  let r: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    r = await start('127.0.0.1');
  });
  afterAll(async () => {
    await r?.router.stop();
  });

  it('gives each forwarded client its own rate-limit bucket', async () => {
    const a = await remaining(r.local, '198.51.100.1');
    expect(await remaining(r.local, '198.51.100.1')).toBe(a - 1);
    // A proxy that appends: the nearest untrusted hop is the client.
    expect(await remaining(r.local, '10.9.9.9, 198.51.100.1')).toBe(a - 2);
    expect(await remaining(r.local, '198.51.100.2')).toBe(LIMIT - 1);
  });

  it('refuses admin to a remote client the proxy forwards, over REST, gRPC and Connect', async () => {
    expect(await adminStatus(r.local, '198.51.100.7')).toBe(403);
    expect(await adminRpc(r.local, '198.51.100.7')).toEqual([Code.PermissionDenied, Code.PermissionDenied]);
    // A forged 127.0.0.1 behind the client's real address (what an appending proxy sends) is still remote.
    expect(await adminStatus(r.local, '127.0.0.1, 198.51.100.7')).toBe(403);
  });

  it('serves admin to a local client, with or without the proxy', async () => {
    expect(await adminStatus(r.local)).toBe(200);
    expect(await adminStatus(r.local, '127.0.0.1')).toBe(200);
    expect(await adminRpc(r.local)).toEqual(['ok', 'ok']);
  });

  it.skipIf(!EXTERNAL_ADDRESS)('ignores X-Forwarded-For from a peer that is not the trusted proxy', async () => {
    expect(await adminStatus(r.remote!, '127.0.0.1')).toBe(403);
    expect(await adminRpc(r.remote!, '127.0.0.1')).toEqual([Code.PermissionDenied, Code.PermissionDenied]);
    // Its forged addresses do not pick its bucket either: both count against the peer's own address.
    const first = await remaining(r.remote!, '198.51.100.50');
    expect(await remaining(r.remote!, '198.51.100.51')).toBe(first - 1);
  });
});

describe('ROUTER_TRUST_PROXY=true (every peer trusted)', () => {
  let r: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    r = await start('true');
  });
  afterAll(async () => {
    await r?.router.stop();
  });

  it('takes the client from X-Forwarded-For for rate limits', async () => {
    const a = await remaining(r.local, '198.51.100.3');
    expect(await remaining(r.local, '198.51.100.3')).toBe(a - 1);
    expect(await remaining(r.local, '198.51.100.4')).toBe(LIMIT - 1);
  });

  it('still needs every hop to be local for admin: a forged 127.0.0.1 opens nothing', async () => {
    // Through a local proxy that appends the real client: request.ip would be the forged 127.0.0.1.
    expect(await adminStatus(r.local, '127.0.0.1, 198.51.100.7')).toBe(403);
    expect(await adminRpc(r.local, '127.0.0.1, 198.51.100.7')).toEqual([Code.PermissionDenied, Code.PermissionDenied]);
    expect(await adminStatus(r.local)).toBe(200);
  });

  it.skipIf(!EXTERNAL_ADDRESS)('a remote client forging 127.0.0.1 is refused: its socket address is remote', async () => {
    expect(await adminStatus(r.remote!, '127.0.0.1')).toBe(403);
    expect(await adminRpc(r.remote!, '127.0.0.1')).toEqual([Code.PermissionDenied, Code.PermissionDenied]);
  });
});

describe('a hop count (ROUTER_TRUST_PROXY=1)', () => {
  let r: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    r = await start('1');
  });
  afterAll(async () => {
    await r?.router.stop();
  });

  it('trusts exactly the nearest hop: the client is the last X-Forwarded-For entry', async () => {
    const a = await remaining(r.local, '198.51.100.20, 198.51.100.9');
    // Only the last entry counts; what the client wrote before it does not pick the bucket.
    expect(await remaining(r.local, '203.0.113.99, 198.51.100.9')).toBe(a - 1);
    expect(await remaining(r.local, '198.51.100.9, 198.51.100.10')).toBe(LIMIT - 1);
  });

  it('refuses admin to the forwarded remote client and serves a direct local one', async () => {
    expect(await adminStatus(r.local, '198.51.100.9')).toBe(403);
    expect(await adminRpc(r.local, '198.51.100.9')).toEqual([Code.PermissionDenied, Code.PermissionDenied]);
    expect(await adminStatus(r.local)).toBe(200);
  });

  it.skipIf(!EXTERNAL_ADDRESS)('a remote client reaching the router directly cannot forge its way to admin', async () => {
    expect(await adminStatus(r.remote!, '127.0.0.1')).toBe(403);
    expect(await adminRpc(r.remote!, '127.0.0.1')).toEqual([Code.PermissionDenied, Code.PermissionDenied]);
  });
});
