/**
 * Oversized RPC bodies (over the 10 MB limit) from clients that keep sending after the answer: the
 * RESOURCE_EXHAUSTED answer comes at once, and the request is over on the server at once too.
 *
 * - HTTP/2 (raw node:http2 client, the whole body queued, session kept open): the stream is reset
 *   after the trailers (RST_STREAM NO_ERROR), the request leaves the server (logged with its gRPC
 *   status, not kept "in flight"), the session serves the next call, and shutdown does not wait the
 *   drain time for it.
 * - HTTP/1.1 keep-alive with a chunked body (raw socket, and connect-node's 1.1 transport): the answer
 *   says `Connection: close` and the socket is closed, instead of a kept-alive socket the server no
 *   longer reads (the next request on it was reset by the keep-alive timeout).
 */
import http2 from 'node:http2';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const EXPLAIN = '/smarterrouter.v1.RouterService/Explain';
const BIG = 12 * 1024 * 1024;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function routerWithLogs(env: Record<string, string> = {}): Promise<{ router: TestRouter; lines: () => Array<Record<string, unknown>> }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const router = await startTestRouter({ ROUTER_LOG_FORMAT: 'json', ROUTER_LOG_LEVEL: 'info', ...env }, { logDestination: out });
  // Tests that time the shutdown stop the router themselves; the others are stopped here.
  const stop = router.stop.bind(router);
  let stopping: Promise<void> | undefined;
  router.stop = () => (stopping ??= stop());
  cleanups.push(() => router.stop());
  return {
    router,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A gRPC length-prefixed message (uncompressed). */
function grpcFrame(json: string): Buffer {
  const body = Buffer.from(json);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('an oversized gRPC request over HTTP/2 from a client that keeps sending', () => {
  it('is answered RESOURCE_EXHAUSTED, reset, logged with its real status, and does not hold up shutdown', async () => {
    // A long drain time: before the fix, shutdown waited all of it for the unfinished stream.
    const { router, lines } = await routerWithLogs({ ROUTER_SHUTDOWN_TIMEOUT: '20' });
    // maxSessionMemory raised: the client queues the whole 12 MB and keeps sending it after the answer.
    const session = http2.connect(router.url, { maxSessionMemory: 1000 });
    session.on('error', () => {});
    cleanups.push(() => void session.destroy());

    const headers = { ':method': 'POST', ':path': EXPLAIN, 'content-type': 'application/grpc+json', te: 'trailers' };
    const big = session.request(headers);
    big.on('error', () => {});
    big.resume();
    const started = Date.now();
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => big.once('trailers', resolve));
    const closed = new Promise<number>((resolve) => big.once('close', () => resolve(Date.now() - started)));
    big.end(grpcFrame(JSON.stringify({ prompt: 'x'.repeat(BIG) })));

    expect((await trailers)['grpc-status']).toBe(String(Code.ResourceExhausted));
    // The server resets the stream (NO_ERROR) instead of leaving it open while the client sends.
    const closedAfter = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 2000))]);
    expect(closedAfter).toBeLessThan(2000);
    expect(big.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);

    // The request is over on the server too: logged (with the RPC's status) while the session is still open.
    const logged = () => lines().find((l) => l.msg === 'request completed' && l.url === EXPLAIN);
    expect(await until(() => logged() !== undefined, 2000)).toBe(true);
    expect(logged()).toMatchObject({ status: 200, grpcStatus: Code.ResourceExhausted });
    expect(logged()!.ms as number).toBeLessThan(2000);

    // The same session still serves calls.
    const small = session.request(headers);
    small.resume();
    const smallTrailers = new Promise<http2.IncomingHttpHeaders>((resolve) => small.once('trailers', resolve));
    small.end(grpcFrame(JSON.stringify({ prompt: 'hello' })));
    expect((await smallTrailers)['grpc-status']).toBe('0');

    // Shutdown with the session still open finishes at once, not after ROUTER_SHUTDOWN_TIMEOUT.
    const t0 = Date.now();
    await router.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('answers connect-node clients the same (gRPC, gRPC-Web and Connect over HTTP/2)', async () => {
    const { router } = await routerWithLogs({ ROUTER_SHUTDOWN_TIMEOUT: '20' });
    // The client's own HTTP/2 session memory (10 MB by default) must hold the 12 MB it queues, or
    // the client fails the call itself (ENHANCE_YOUR_CALM) before the server's answer matters.
    const nodeOptions = { maxSessionMemory: 1000 };
    const transports = [
      createGrpcTransport({ baseUrl: router.url, nodeOptions }),
      createGrpcWebTransport({ baseUrl: router.url, httpVersion: '2', nodeOptions }),
      createConnectTransport({ baseUrl: router.url, httpVersion: '2', nodeOptions }),
    ];
    for (const transport of transports) {
      const client = createClient(RouterService, transport);
      const error = await client.explain({ input: { case: 'prompt', value: 'x'.repeat(BIG) } }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.ResourceExhausted);
      const ok = await client.explain({ input: { case: 'prompt', value: 'hello' } });
      expect(ok).toBeDefined();
    }
    // The clients' sessions are still open: shutdown does not wait the drain time for them.
    const t0 = Date.now();
    await router.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('an oversized chunked Connect request over HTTP/1.1 keep-alive', () => {
  it('is answered at once with Connection: close, and the socket is closed', async () => {
    const { router } = await routerWithLogs();
    const socket = net.connect(Number(new URL(router.url).port), '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    socket.write(`POST ${EXPLAIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n`);
    // 11 MB in 1 MB chunks, and no last chunk: the body never ends, so only the limit can answer.
    const part = Buffer.alloc(1024 * 1024, 'x');
    for (let i = 0; i < 11; i++) socket.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));

    expect(await until(() => text.includes('resource_exhausted'), 2000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    const head = text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toMatch(/^http\/1\.1 429 /);
    expect(head).toContain('connection: close');
    // The server closes the socket after the answer (it could not read another request from it).
    const closedInTime = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
    expect(closedInTime).toBe(true);
  });

  it('leaves the connect-node HTTP/1.1 transport able to make the next call at once', async () => {
    const { router } = await routerWithLogs();
    const client = createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      const error = await client.explain({ input: { case: 'prompt', value: 'x'.repeat(BIG) } }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.ResourceExhausted);
      expect(Date.now() - t0).toBeLessThan(2000);
      // Before the fix this call went out on the kept-alive socket the server no longer read, and
      // failed with ECONNRESET when the keep-alive timeout cut it ~6 s later.
      const t1 = Date.now();
      await client.explain({ input: { case: 'prompt', value: 'hello' } });
      expect(Date.now() - t1).toBeLessThan(2000);
    }
  });
});
