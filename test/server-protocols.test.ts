/**
 * One port, every protocol: REST over HTTP/1.1, Connect over HTTP/1.1 and h2c, gRPC-Web, gRPC (h2c),
 * and gRPC reflection for `buf curl` — each checked with a real client against a real router.
 */
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Transport } from '@connectrpc/connect';
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
    expect(body.status).toBe('degraded');
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
      error: { message: 'No route for GET /v2/nothing.', type: 'not_found_error', param: null, code: 'unknown_route' },
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

  it('an unknown gRPC method gets grpc-status UNIMPLEMENTED', async () => {
    const session = http2.connect(router.url);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/nope.v1.Nothing/Call', 'content-type': 'application/grpc', te: 'trailers' });
        stream.on('response', (h) => resolve(h));
        stream.on('error', reject);
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
        stream.resume();
      });
      expect(headers['grpc-status']).toBe('12');
    } finally {
      session.close();
    }
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
