/**
 * The node:http fetch the router gives its backends behaves like fetch where backends rely on it:
 * statuses and headers, streamed bodies, aborts before and during the body, network errors with
 * their cause code.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFetch, nodeBodyOf } from '../src/plugins/backends/node-fetch.js';
import { readLines } from '../src/plugins/backends/http.js';

const httpFetch = createHttpFetch();
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/json') {
        res.writeHead(201, { 'content-type': 'application/json', 'x-echo': req.headers['x-test'] ?? '' });
        res.end(JSON.stringify({ method: req.method, body, length: req.headers['content-length'] ?? null }));
      } else if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const timer = setInterval(() => {
          res.write(`data: ${n++}\n\n`);
          if (n === 3) {
            clearInterval(timer);
            res.end('data: [DONE]\n\n');
          }
        }, 5);
      } else if (req.url === '/slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first');
        // never ends: the client aborts
      } else if (req.url === '/hang') {
        // never answers
      } else if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"nope"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  httpFetch.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('node:http fetch', () => {
  it('sends method, headers and body; returns status, headers and JSON', async () => {
    const res = await httpFetch(`${base}/json`, { method: 'POST', headers: { 'X-Test': 'yes', 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(await res.json()).toEqual({ method: 'POST', body: '{"a":1}', length: '7' });
  });

  it('accepts Headers objects and binary bodies', async () => {
    const res = await httpFetch(`${base}/json`, { method: 'PUT', headers: new Headers({ 'x-test': 'h' }), body: new TextEncoder().encode('bin') });
    expect(await res.json()).toMatchObject({ method: 'PUT', body: 'bin' });
  });

  it('streams a body chunk by chunk', async () => {
    const res = await httpFetch(`${base}/stream`);
    const text = await res.text();
    expect(text).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
  });

  it('lets readLines iterate the Node body directly, line by line', async () => {
    const res = await httpFetch(`${base}/stream`);
    expect(nodeBodyOf(res)).toBeDefined();
    const lines: string[] = [];
    for await (const line of readLines(res, { backend: 'test' })) lines.push(line);
    expect(lines.filter(Boolean)).toEqual(['data: 0', 'data: 1', 'data: 2', 'data: [DONE]']);
  });

  it('does not hand out the Node body once the web body was read', async () => {
    const res = await httpFetch(`${base}/json`);
    await res.text();
    expect(nodeBodyOf(res)).toBeUndefined();
  });

  it('gives error statuses to the caller (not exceptions) and handles 204', async () => {
    const missing = await httpFetch(`${base}/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('{"error":"nope"}');
    const empty = await httpFetch(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('rejects with the abort reason when aborted before the answer', async () => {
    const controller = new AbortController();
    const pending = httpFetch(`${base}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(new DOMException('stop', 'AbortError')), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(httpFetch(`${base}/json`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('errors the body stream when aborted while reading it', async () => {
    const controller = new AbortController();
    const res = await httpFetch(`${base}/slow-body`, { signal: controller.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first');
    controller.abort();
    await expect(reader.read()).rejects.toBeDefined();
  });

  it('reports a refused connection like undici: TypeError with the cause code', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await httpFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as { cause: { code: string } }).cause.code).toBe('ECONNREFUSED');
  });

  it('reuses connections (keep-alive)', async () => {
    const sockets = new Set<unknown>();
    const onConnection = (socket: unknown) => sockets.add(socket);
    server.on('connection', onConnection);
    for (let i = 0; i < 5; i++) await (await httpFetch(`${base}/json`)).text();
    server.off('connection', onConnection);
    expect(sockets.size).toBeLessThanOrEqual(1);
  });
});

/**
 * Runs `scenario` while watching for uncaught exceptions (an 'error' event nobody listens to), waits
 * a moment for late ones, and returns them: what would have taken the router's process down.
 */
async function crashesDuring(scenario: () => Promise<void>): Promise<unknown[]> {
  const crashes: unknown[] = [];
  const onUncaught = (error: unknown) => crashes.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    await scenario();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  return crashes;
}

describe('node:http fetch, aborts nobody is reading', () => {
  it('an abort after the headers, with the body never read, does not crash the process', async () => {
    const crashes = await crashesDuring(async () => {
      const controller = new AbortController();
      const res = await httpFetch(`${base}/slow-body`, { signal: controller.signal });
      expect(res.status).toBe(200);
      controller.abort();
    });
    expect(crashes).toEqual([]);
  });

  it('an abort while the last chunk is handled crashes nothing and the next request still works', async () => {
    const crashes = await crashesDuring(async () => {
      const controller = new AbortController();
      const res = await httpFetch(`${base}/json`, { signal: controller.signal });
      // Abort while handling the last chunk, as a backend plugin does when its consumer stops as
      // the answer ends. Destroying the request here used to destroy its socket with no error
      // listener left on it: an uncaught exception that took the process down.
      const read = (async () => {
        for await (const chunk of nodeBodyOf(res)!) {
          expect(chunk.length).toBeGreaterThan(0);
          controller.abort();
        }
      })();
      // The reader may see the abort or the end, whichever node:http reports first.
      await read.catch((error: unknown) => expect((error as Error).name).toBe('AbortError'));
    });
    expect(crashes).toEqual([]);
    expect(((await (await httpFetch(`${base}/json`)).json()) as { method: string }).method).toBe('GET');
  });

  it('an abort after the whole answer arrived unread errors the body for its reader and crashes nothing', async () => {
    let res: Response | undefined;
    const crashes = await crashesDuring(async () => {
      const controller = new AbortController();
      res = await httpFetch(`${base}/json`, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 30));
      controller.abort();
    });
    expect(crashes).toEqual([]);
    await expect(res!.text()).rejects.toThrow(/aborted/i);
  });
});
