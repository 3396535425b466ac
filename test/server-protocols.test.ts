/**
 * One port, every protocol: REST over HTTP/1.1, Connect over HTTP/1.1 and h2c, gRPC-Web, gRPC (h2c),
 * and gRPC reflection for `buf curl` — each checked with a real client against a real router.
 */
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { ProfilerService, ReprofileState } from '../gen/smarterrouter/v1/profiler_pb.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const run = promisify(execFile);
const BUF = new URL('../node_modules/.bin/buf', import.meta.url).pathname;

let router: TestRouter;
beforeAll(async () => {
  router = await startTestRouter();
});
afterAll(async () => {
  await router?.stop();
});

/** A real AdminService call over the given protocol (loopback: no admin key needed while unset). */
async function expectAnswers(transport: Transport): Promise<void> {
  const client = createClient(AdminService, transport);
  const answer = await client.listPlugins({});
  expect(answer.plugins.map((p) => p.name)).toContain('ollama');
}

describe('one port', () => {
  it('serves REST over HTTP/1.1 (curl)', async () => {
    const { stdout } = await run('curl', ['-s', '--http1.1', '-i', `${router.url}/health`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(stdout).toMatch(/content-type: application\/json/i);
    const body = JSON.parse(stdout.slice(stdout.indexOf('\r\n\r\n') + 4));
    expect(body.database).toEqual({ ok: true });
    expect(body.backends).toEqual([expect.objectContaining({ name: 'ollama', provider: 'ollama', ok: false })]);
    expect(body.status).toBe('unavailable');
    expect(body.ready).toBe(false);
  });

  it('serves REST over h2c too (curl --http2-prior-knowledge)', async () => {
    const { stdout } = await run('curl', ['-s', '--http2-prior-knowledge', '-i', `${router.url}/health`]);
    expect(stdout).toMatch(/^HTTP\/2 200/);
  });

  it('echoes X-Request-ID when sent and generates one otherwise', async () => {
    const sent = await fetch(`${router.url}/health`, { headers: { 'x-request-id': 'client-abc-123' } });
    expect(sent.headers.get('x-request-id')).toBe('client-abc-123');
    const generated = await fetch(`${router.url}/health`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // An id with unsafe characters is replaced rather than echoed into logs and headers.
    const unsafe = await fetch(`${router.url}/health`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown REST routes with OpenAI error JSON', async () => {
    const res = await fetch(`${router.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: 'No route for GET /v2/nothing.', type: 'invalid_request_error', param: null, code: 'unknown_route' },
    });
  });

  it('Connect over HTTP/1.1', async () => {
    await expectAnswers(createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
  });

  it('Connect over h2c', async () => {
    await expectAnswers(createConnectTransport({ baseUrl: router.url, httpVersion: '2' }));
  });

  it('gRPC-Web over HTTP/1.1', async () => {
    await expectAnswers(createGrpcWebTransport({ baseUrl: router.url, httpVersion: '1.1' }));
  });

  it('gRPC over h2c', async () => {
    await expectAnswers(createGrpcTransport({ baseUrl: router.url }));
  });

  it('server-streaming RPCs stream over gRPC: ProfilerService.Reprofile runs and finishes', async () => {
    const client = createClient(ProfilerService, createGrpcTransport({ baseUrl: router.url }));
    const states: ReprofileState[] = [];
    for await (const event of client.reprofile({})) states.push(event.state);
    expect(states[0]).toBe(ReprofileState.STARTED);
    expect(states.at(-1)).toBe(ReprofileState.FINISHED);
  });

  it('an unknown gRPC method gets a true trailers-only UNIMPLEMENTED: one HEADERS frame ending the stream, no DATA', async () => {
    const session = http2.connect(router.url);
    try {
      const answer = await new Promise<{ headers: http2.IncomingHttpHeaders; endStream: boolean; dataBytes: number; dataEvents: number; trailers: boolean }>(
        (resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': '/nope.v1.Nothing/Call', 'content-type': 'application/grpc', te: 'trailers' });
          let headers: http2.IncomingHttpHeaders = {};
          let endStream = false;
          let dataBytes = 0;
          let dataEvents = 0;
          let trailers = false;
          // flags are the HEADERS frame's: END_STREAM there means no DATA frame can follow.
          stream.on('response', (h, flags) => {
            headers = h;
            endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
          });
          stream.on('data', (chunk: Buffer) => {
            dataEvents++;
            dataBytes += chunk.length;
          });
          stream.on('trailers', () => (trailers = true));
          stream.on('error', reject);
          stream.on('end', () => resolve({ headers, endStream, dataBytes, dataEvents, trailers }));
          stream.end(Buffer.from([0, 0, 0, 0, 0]));
        },
      );
      expect(answer.headers[':status']).toBe(200);
      expect(answer.headers['content-type']).toBe('application/grpc');
      expect(answer.headers['grpc-status']).toBe('12');
      expect(decodeURIComponent(String(answer.headers['grpc-message']))).toBe('No route for POST /nope.v1.Nothing/Call.');
      expect(answer.endStream).toBe(true);
      expect(answer.dataEvents).toBe(0);
      expect(answer.dataBytes).toBe(0);
      expect(answer.trailers).toBe(false);
    } finally {
      session.close();
    }
  });

  it.each<[string, () => Transport]>([
    ['gRPC', () => createGrpcTransport({ baseUrl: router.url })],
    ['gRPC-Web', () => createGrpcWebTransport({ baseUrl: router.url, httpVersion: '1.1' })],
    ['Connect', () => createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' })],
  ])('a real %s client calling an unknown method gets Code.Unimplemented', async (_name, make) => {
    // AdminService.ListPlugins, re-addressed to a service this router does not serve.
    const listPlugins = AdminService.method.listPlugins;
    const unknown = { ...listPlugins, parent: { ...AdminService, typeName: 'nope.v1.Nothing' } } as typeof listPlugins;
    const error = await make()
      .unary(unknown, undefined, undefined, undefined, {})
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.Unimplemented);
  });

  it('buf curl lists the three services through reflection (gRPC, h2c)', async () => {
    const { stdout } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--list-services', router.url]);
    const services = stdout.trim().split('\n');
    expect(services).toEqual(
      expect.arrayContaining(['smarterrouter.v1.RouterService', 'smarterrouter.v1.AdminService', 'smarterrouter.v1.ProfilerService']),
    );
  });

  it('buf curl calls a method without a local schema (Connect protocol)', async () => {
    const { stdout } = await run(BUF, [
      'curl',
      '--protocol',
      'connect',
      '--http2-prior-knowledge',
      '-d',
      '{}',
      `${router.url}/smarterrouter.v1.AdminService/GetStats`,
    ]);
    const stats = JSON.parse(stdout) as { uptimeSeconds?: number; backends?: Array<{ name: string }> };
    expect(stats.backends?.map((b) => b.name)).toEqual(['ollama']);
  });
});
