/**
 * Load shedding (@fastify/under-pressure) on a real router. Overload is produced for real, not faked:
 * ROUTER_BACKPRESSURE_MAX_HEAP_MB=1 is below any live process's heap, so from the first one-second
 * sample on, the router is over its threshold and must shed everything but /health.
 */
import { getHeapStatistics } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { configFrom } from '../src/config/index.js';
import { pressureThresholds } from '../src/server/security/backpressure.js';
import { startTestRouter, type TestRouter } from './support/router.js';

async function rpcCode(call: () => Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe('thresholds', () => {
  it('defaults the heap threshold to 90% of the V8 heap limit and passes the event-loop delay through', () => {
    const t = pressureThresholds({ maxEventLoopDelayMs: 1000, maxHeapMb: 0 });
    expect(t.maxEventLoopDelay).toBe(1000);
    expect(t.maxHeapUsedBytes).toBe(Math.floor(getHeapStatistics().heap_size_limit * 0.9));
    expect(pressureThresholds({ maxEventLoopDelayMs: 0, maxHeapMb: 512 })).toEqual({ maxEventLoopDelay: 0, maxHeapUsedBytes: 512 * 1024 * 1024 });
  });
});

describe('an overloaded router', () => {
  let router: TestRouter;

  beforeAll(async () => {
    router = await startTestRouter({ ROUTER_BACKPRESSURE_ENABLED: 'true', ROUTER_BACKPRESSURE_MAX_HEAP_MB: '1' });
    // under-pressure samples once a second; wait (bounded) for the first sample to see the heap.
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${router.url}/v1/models`)).status !== 503) {
      if (Date.now() > deadline) throw new Error('the router never reported pressure');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await router?.stop();
  });

  it('answers REST with 503, Retry-After and OpenAI error JSON', async () => {
    for (const path of ['/v1/models', '/admin/plugins']) {
      const res = await fetch(`${router.url}${path}`);
      expect(res.status, path).toBe(503);
      expect(res.headers.get('retry-after'), path).toMatch(/^\d+$/);
      expect(await res.json(), path).toEqual({
        error: { message: expect.stringContaining('overloaded'), type: 'server_error', param: null, code: 'overloaded' },
      });
    }
  });

  it('keeps /health answering', async () => {
    const res = await fetch(`${router.url}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { version: string }).version).toBeTruthy();
  });

  it('answers RPC with UNAVAILABLE over gRPC and Connect', async () => {
    for (const transport of [createGrpcTransport({ baseUrl: router.url }), createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' })]) {
      expect(await rpcCode(() => createClient(RouterService, transport).listModels({}))).toBe(Code.Unavailable);
      expect(await rpcCode(() => createClient(AdminService, transport).listPlugins({}))).toBe(Code.Unavailable);
    }
    const res = await fetch(`${router.url}/smarterrouter.v1.RouterService/ListModels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toEqual({ code: 'unavailable', message: expect.stringContaining('overloaded') });
  });
});

/**
 * Real event-loop pressure, made in this process (the routers run here too): a timer that keeps the
 * loop busy 40 ms out of every ~45, so under-pressure's 10 ms probe sees tens of ms of mean delay,
 * far above the 5 ms threshold these routers get — like a cold router on a saturated machine.
 */
function saturateEventLoop(): () => void {
  const timer = setInterval(() => {
    const end = performance.now() + 40;
    while (performance.now() < end);
  }, 5);
  return () => clearInterval(timer);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('start-up grace (ROUTER_BACKPRESSURE_STARTUP_GRACE)', () => {
  const lagging = { ROUTER_BACKPRESSURE_ENABLED: 'true', ROUTER_BACKPRESSURE_MAX_EVENT_LOOP_DELAY: '5' };
  let graced: TestRouter;
  let ungraced: TestRouter;
  let heavy: TestRouter;
  let shortGrace: TestRouter;
  let stop: (() => void) | undefined;

  beforeAll(async () => {
    graced = await startTestRouter({ ...lagging, ROUTER_BACKPRESSURE_STARTUP_GRACE: '600' });
    ungraced = await startTestRouter({ ...lagging, ROUTER_BACKPRESSURE_STARTUP_GRACE: '0' });
    heavy = await startTestRouter({ ...lagging, ROUTER_BACKPRESSURE_STARTUP_GRACE: '600', ROUTER_BACKPRESSURE_MAX_HEAP_MB: '1' });
    shortGrace = await startTestRouter({ ...lagging, ROUTER_BACKPRESSURE_STARTUP_GRACE: '1' });
    stop = saturateEventLoop();
    // Wait (bounded) for a one-second sample that shows the lag.
    await until('a lagging sample', () => graced.app.isUnderPressure() && ungraced.app.isUnderPressure());
  });
  afterAll(async () => {
    stop?.();
    await Promise.all([graced, ungraced, heavy, shortGrace].map((r) => r?.stop()));
  });

  it('defaults to 5 seconds', () => {
    expect(configFrom({}).backpressureStartupGrace).toBe(5);
  });

  it('a fresh router serves REST and RPC through its own start-up lag', async () => {
    expect(graced.app.memoryUsage().eventLoopDelay).toBeGreaterThan(5);
    expect((await fetch(`${graced.url}/v1/models`)).status).toBe(200);
    expect(await rpcCode(() => createClient(RouterService, createGrpcTransport({ baseUrl: graced.url })).listModels({}))).toBe('ok');
    expect(await rpcCode(() => createClient(AdminService, createConnectTransport({ baseUrl: graced.url, httpVersion: '1.1' })).listPlugins({}))).toBe('ok');
    // The lag was real all along: the sample still says so.
    expect(graced.app.isUnderPressure()).toBe(true);
  });

  it('without a grace period the same lag sheds at once', async () => {
    expect(ungraced.app.isUnderPressure()).toBe(true);
    const res = await fetch(`${ungraced.url}/v1/models`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    expect(await rpcCode(() => createClient(RouterService, createGrpcTransport({ baseUrl: ungraced.url })).listModels({}))).toBe(Code.Unavailable);
  });

  it('still sheds on a full heap during the grace period', async () => {
    await until('a lagging sample', () => heavy.app.isUnderPressure());
    expect((await fetch(`${heavy.url}/v1/models`)).status).toBe(503);
    expect((await fetch(`${heavy.url}/health`)).status).toBe(200);
  });

  it('ends: once the grace period is over, the lag sheds again', async () => {
    await until('503 after a one-second grace', async () => (await fetch(`${shortGrace.url}/v1/models`)).status === 503);
    expect((await fetch(`${shortGrace.url}/health`)).status).toBe(200);
  });
});

describe('configuration', () => {
  it('is on by default in production config and off when ROUTER_BACKPRESSURE_ENABLED=false', async () => {
    const on = await startTestRouter({ ROUTER_BACKPRESSURE_ENABLED: 'true' });
    const off = await startTestRouter({ ROUTER_BACKPRESSURE_ENABLED: 'false', ROUTER_BACKPRESSURE_MAX_HEAP_MB: '1' });
    try {
      expect(configFrom({}).backpressureEnabled).toBe(true);
      expect(on.app.hasDecorator('isUnderPressure')).toBe(true);
      expect(off.app.hasDecorator('isUnderPressure')).toBe(false);
      expect((await fetch(`${off.url}/v1/models`)).status).toBe(200);
    } finally {
      await on.stop();
      await off.stop();
    }
  });
});
