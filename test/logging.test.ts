/**
 * Logs as an operator reads them: every line of a request carries its request id (REST and RPC),
 * ROUTER_LOG_FORMAT picks text or JSON, ROUTER_LOG_LEVEL filters, and credentials never appear.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { createLogger, formatTextLine } from '../src/server/logger.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

async function routerWithLogs(env: Record<string, string>): Promise<{ router: TestRouter; sim: RunningSimulator; lines: () => string[] }> {
  const sim = await startOllamaSimulator({ models: [{ id: 'llama3.2:3b', parameterSizeB: 3.2 }] });
  const out = capture();
  const router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ...env }, { logDestination: out.stream });
  cleanups.push(async () => {
    await router.stop();
    await sim.close();
  });
  return { router, sim, lines: out.lines };
}

describe('logging', () => {
  it('tags every REST log line with the X-Request-ID the client sent (JSON format)', async () => {
    const { router, lines } = await routerWithLogs({ ROUTER_LOG_FORMAT: 'json', ROUTER_LOG_LEVEL: 'debug' });
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-42', authorization: 'Bearer sk-secret-value-123456' },
      body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.headers.get('x-request-id')).toBe('trace-42');
    await res.text();
    const mine = lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.reqId === 'trace-42');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.some((l) => l.msg === 'request completed' && l.status === 200)).toBe(true);
    expect(lines().join('\n')).not.toContain('sk-secret-value-123456');
  });

  it('tags RPC log lines with the request id too', async () => {
    const { router, lines } = await routerWithLogs({ ROUTER_LOG_FORMAT: 'json', ROUTER_LOG_LEVEL: 'info' });
    const client = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    await client.listModels({}, { headers: { 'x-request-id': 'rpc-trace-7' } });
    const mine = lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.reqId === 'rpc-trace-7');
    expect(mine.some((l) => String(l.url).includes('RouterService/ListModels'))).toBe(true);
  });

  it('writes readable text lines with ROUTER_LOG_FORMAT=text and filters by level', async () => {
    const { router, lines } = await routerWithLogs({ ROUTER_LOG_FORMAT: 'text', ROUTER_LOG_LEVEL: 'info' });
    await fetch(`${router.url}/health`, { headers: { 'x-request-id': 'text-1' } });
    const line = lines().find((l) => l.includes('[text-1]'));
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  \[text-1\] request completed method=GET url=\/health status=200 ms=/);
    expect(lines().some((l) => / DEBUG /.test(l))).toBe(false);
  });

  it('formats errors and odd lines without throwing', () => {
    expect(formatTextLine('not json')).toBe('not json');
    const text = formatTextLine(JSON.stringify({ level: 50, time: '2026-11-28T10:00:00.123Z', msg: 'boom', err: { message: 'bad', stack: 'Error: bad\n  at x' } }));
    expect(text).toContain('ERROR boom err="bad"');
    expect(text).toContain('at x');
  });

  it('redacts configured secret paths at every level', () => {
    const out = capture();
    const logger = createLogger({ logLevel: 'trace', logFormat: 'json' }, out.stream);
    logger.debug({ req: { headers: { authorization: 'Bearer sk-abc' } }, apiKey: 'sk-xyz' }, 'with secrets');
    const line = out.lines()[0]!;
    expect(line).not.toContain('sk-abc');
    expect(line).not.toContain('sk-xyz');
    expect(line).toContain('[redacted]');
  });
});
