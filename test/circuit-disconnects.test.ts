/**
 * Upstream work stops when nobody waits for it: a client that disconnects (REST stream, REST
 * non-streaming, gRPC stream) makes the router abort its request to the backend, and a generation
 * longer than ROUTER_GENERATION_TIMEOUT is cut. Seen from the backend's side: a TCP relay between
 * router and simulator records whether the router closed the upstream connection before the
 * simulator finished its answer (a finished answer leaves the keep-alive connection open).
 */
import net from 'node:net';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const SLOW = 'slow:1b';

/** Relays TCP to the simulator and notes upstream connections the router cut mid-answer. */
class Relay {
  readonly cutMidAnswer: string[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(target: URL) {
    this.server = net.createServer((down) => {
      const up = net.connect(Number(target.port), target.hostname);
      this.sockets.add(down).add(up);
      let request = '';
      let answer = '';
      let upGone = false;
      up.on('data', (chunk: Buffer) => {
        answer = (answer + chunk.toString('latin1')).slice(-4096);
        down.write(chunk);
      });
      down.on('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1');
        // A new request on a keep-alive connection starts a new exchange.
        if (/^(GET|POST|DELETE) /.test(text)) {
          request = text.slice(0, text.indexOf('\r\n'));
          answer = '';
        }
        up.write(chunk);
      });
      // The router closed its side during a chat whose final chunk had not come: it gave up on it.
      down.on('close', () => {
        if (!upGone && request.includes('/api/chat') && !/"done":\s*true/.test(answer)) this.cutMidAnswer.push(request);
        up.destroy();
        this.sockets.delete(down);
      });
      up.on('close', () => {
        upGone = true;
        down.destroy();
        this.sockets.delete(up);
      });
      down.on('error', () => {});
      up.on('error', () => {});
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let sim: RunningSimulator;
let relay: Relay;
let router: TestRouter;
let timeoutRouter: TestRouter;

beforeAll(async () => {
  // 20 tokens/s with max_tokens 400: 20 s of answer, far longer than any test waits.
  sim = await startOllamaSimulator({ models: [{ id: SLOW, parameterSizeB: 1, tokensPerSecond: 20 }] });
  relay = new Relay(new URL(sim.url));
  const relayUrl = await relay.listen();
  router = await startTestRouter({ ROUTER_OLLAMA_URL: relayUrl, ROUTER_CACHE_ENABLED: 'false' });
  timeoutRouter = await startTestRouter({ ROUTER_OLLAMA_URL: relayUrl, ROUTER_CACHE_ENABLED: 'false', ROUTER_GENERATION_TIMEOUT: '1' });
});
beforeEach(() => {
  relay.cutMidAnswer.length = 0;
});
afterAll(async () => {
  await router?.stop();
  await timeoutRouter?.stop();
  await relay?.close();
  await sim?.close();
});

const body = (stream: boolean) => JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'tell me a long story about a fox' }], max_tokens: 400, stream });

describe('client disconnects abort the upstream request', () => {
  it('REST stream: the client reads a little, then goes away', async () => {
    const ac = new AbortController();
    const res = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(true), signal: ac.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('data: ');
    ac.abort();
    await expect.poll(() => relay.cutMidAnswer.length, { timeout: 5000 }).toBe(1);
  });

  it('REST non-streaming: the client gives up while the answer is being generated', async () => {
    const ac = new AbortController();
    const pending = fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(false), signal: ac.signal });
    // Wait until the router is generating upstream (the simulator has the request).
    const seen = sim.requests.length;
    await expect.poll(() => sim.requests.slice(seen).some((r) => r.path === '/api/chat'), { timeout: 5000 }).toBe(true);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => relay.cutMidAnswer.length, { timeout: 5000 }).toBe(1);
  });

  it('gRPC stream: the client cancels the call', async () => {
    const client = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    const ac = new AbortController();
    const stream = client.chatStream({ request: { messages: [{ role: 1, content: 'tell me a long story about a fox' }], maxTokens: 400 } }, { signal: ac.signal });
    let messages = 0;
    await expect(
      (async () => {
        for await (const _m of stream) {
          if (++messages === 3) ac.abort();
        }
      })(),
    ).rejects.toThrow();
    await expect.poll(() => relay.cutMidAnswer.length, { timeout: 5000 }).toBe(1);
  });

  it('a finished answer leaves the upstream connection alone (the relay tells the two apart)', async () => {
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(relay.cutMidAnswer).toEqual([]);
  });
});

describe('ROUTER_GENERATION_TIMEOUT', () => {
  it('cuts a generation that runs longer, ends the stream with an error and aborts upstream', async () => {
    const res = await fetch(`${timeoutRouter.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(true) });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text.split('\n\n').filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]');
    const last = JSON.parse(events[events.length - 1]!.slice(6)) as { error?: { message: string; code: string } };
    expect(last.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/timeout/) });
    expect(text).not.toContain('data: [DONE]');
    await expect.poll(() => relay.cutMidAnswer.length, { timeout: 5000 }).toBe(1);
  });
});
