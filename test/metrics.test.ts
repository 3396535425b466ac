/**
 * /metrics, GET /admin/stats and AdminService.GetStats against a real router on a real port, with a
 * simulated Ollama behind it. Every metric is checked to MOVE when its event happens (the original
 * declared some counters and never incremented them): requests and durations at both doors,
 * errors, selections, cache hits and misses, attempts and fallbacks, routing failures, time to
 * first token, upstream latency, tokens per second, VRAM (fake nvidia-smi) and event-loop lag.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { CacheKind, Category } from '../gen/smarterrouter/v1/common_pb.js';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { fanOut, NO_EVENTS, safeEvents } from '../src/core/events.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const BEST = 'qwen2.5-coder:32b';
const NEXT = 'llama3.1:8b';
const CODING = 'Write a Python function that parses an ISO 8601 date string and returns a datetime, with tests.';

let sim: RunningSimulator;
let router: TestRouter;
let client: OpenAI;
let n = 0;

beforeAll(async () => {
  sim = await startOllamaSimulator({
    models: [
      { id: BEST, parameterSizeB: 32.8, quality: { coding: 0.95 } },
      { id: NEXT, parameterSizeB: 8, quality: { coding: 0.6 } },
    ],
  });
  // A high threshold: the failures injected here must not open circuits (test/circuit-*.test.ts does that).
  router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_CIRCUIT_FAILURE_THRESHOLD: '1000', ROUTER_FIRST_TOKEN_TIMEOUT: '2' });
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

// --- Prometheus text, parsed just enough ---------------------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(r: TestRouter = router): Promise<Sample[]> {
  const res = await fetch(`${r.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

/** Sum of every series of `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Runs `action` and returns how much each probe moved. */
async function delta(probes: Record<string, [string, Record<string, string>?]>, action: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await scrape();
  await action();
  const after = await scrape();
  return Object.fromEntries(Object.entries(probes).map(([key, [name, labels]]) => [key, value(after, name, labels) - value(before, name, labels)]));
}

const unique = () => `${CODING} (variant ${++n})`;
const chat = (content = unique(), extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content }], temperature: 0, ...extra });

const REST_CHAT = { endpoint: '/v1/chat/completions' };

describe('/metrics', () => {
  it('serves the Prometheus text format with every metric family declared', async () => {
    const res = await fetch(`${router.url}/metrics`);
    const text = await res.text();
    for (const name of [
      'smarterrouter_requests_total',
      'smarterrouter_request_duration_seconds',
      'smarterrouter_errors_total',
      'smarterrouter_model_selections_total',
      'smarterrouter_cache_hits_total',
      'smarterrouter_cache_misses_total',
      'smarterrouter_cache_entries',
      'smarterrouter_vram_total_gb',
      'smarterrouter_vram_used_gb',
      'smarterrouter_vram_utilization_pct',
      'smarterrouter_gpu_total_gb',
      'smarterrouter_upstream_latency_seconds',
      'smarterrouter_time_to_first_token_seconds',
      'smarterrouter_tokens_per_second',
      'smarterrouter_fallbacks_total',
      'smarterrouter_upstream_attempts_total',
      'smarterrouter_routing_failures_total',
      'smarterrouter_circuit_state',
      'smarterrouter_circuit_transitions_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    // Event-loop lag is measured, not declared only.
    expect(value(parse(text), 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(parse(text).some((s) => s.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('a routed answer moves requests, duration, selection, attempts, first token, latency, tokens/s and tokens', async () => {
    const moved = await delta(
      {
        requests: ['smarterrouter_requests_total', { ...REST_CHAT, method: 'POST', status: '200', protocol: 'rest' }],
        duration: ['smarterrouter_request_duration_seconds_count', { ...REST_CHAT, protocol: 'rest' }],
        selection: ['smarterrouter_model_selections_total', { selected_model: BEST, category: 'coding' }],
        attempt: ['smarterrouter_upstream_attempts_total', { model: BEST, outcome: 'ok' }],
        ttft: ['smarterrouter_time_to_first_token_seconds_count', { model: BEST }],
        latency: ['smarterrouter_upstream_latency_seconds_count', { model: BEST }],
        tps: ['smarterrouter_tokens_per_second_count', { model: BEST }],
        completionTokens: ['smarterrouter_tokens_total', { model: BEST, kind: 'completion' }],
        errors: ['smarterrouter_errors_total'],
      },
      async () => expect((await chat()).choices[0]!.message.content).toBeTruthy(),
    );
    expect(moved).toMatchObject({ requests: 1, duration: 1, selection: 1, attempt: 1, ttft: 1, latency: 1, tps: 1, errors: 0 });
    expect(moved.completionTokens).toBeGreaterThan(1);
  });

  it('counts a request the client abandons before its answer as 499 (it fires no onResponse)', async () => {
    sim.setFailure('slow-first-token', BEST);
    try {
      const moved = await delta({ aborted: ['smarterrouter_requests_total', { ...REST_CHAT, status: '499', protocol: 'rest' }] }, async () => {
        const controller = new AbortController();
        const request = fetch(`${router.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: BEST, messages: [{ role: 'user', content: unique() }] }),
          signal: controller.signal,
        }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
        controller.abort();
        await request;
        // The abort reaches the router a moment later.
        for (let i = 0; i < 40 && value(await scrape(), 'smarterrouter_requests_total', { ...REST_CHAT, status: '499' }) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      });
      expect(moved.aborted).toBe(1);
    } finally {
      sim.setFailure('none');
    }
  });

  it('counts a streamed answer once it has ended (the hijacked SSE reply included)', async () => {
    const moved = await delta(
      {
        requests: ['smarterrouter_requests_total', { ...REST_CHAT, status: '200' }],
        latency: ['smarterrouter_upstream_latency_seconds_count', { model: BEST }],
      },
      async () => {
        const stream = await client.chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: unique() }], stream: true });
        for await (const _chunk of stream) {
          // drain
        }
      },
    );
    expect(moved).toEqual({ requests: 1, latency: 1 });
  });

  it('moves the response-cache miss, then hit, counters and reports the entries held', async () => {
    const prompt = unique();
    const first = await delta(
      { miss: ['smarterrouter_cache_misses_total', { cache_type: 'response' }], hit: ['smarterrouter_cache_hits_total', { cache_type: 'response' }] },
      () => chat(prompt),
    );
    expect(first).toEqual({ miss: 1, hit: 0 });
    const second = await delta(
      {
        hit: ['smarterrouter_cache_hits_total', { cache_type: 'response' }],
        attempts: ['smarterrouter_upstream_attempts_total'],
        selection: ['smarterrouter_model_selections_total', { selected_model: BEST }],
      },
      () => chat(prompt),
    );
    // Served from the cache: no model ran, the answer still counts as that model's selection.
    expect(second).toEqual({ hit: 1, attempts: 0, selection: 1 });
    expect(value(await scrape(), 'smarterrouter_cache_entries', { cache_type: 'response' })).toBeGreaterThanOrEqual(1);
  });

  it('counts a fallback when the first choice fails before its first token', async () => {
    sim.setFailure('http500', BEST);
    try {
      const moved = await delta(
        {
          failed: ['smarterrouter_upstream_attempts_total', { model: BEST, outcome: 'internal' }],
          anyFailed: ['smarterrouter_upstream_attempts_total', { model: BEST }],
          fallback: ['smarterrouter_fallbacks_total', { model: NEXT }],
          selection: ['smarterrouter_model_selections_total', { selected_model: NEXT, category: 'coding' }],
        },
        () => chat(),
      );
      expect(moved.anyFailed).toBe(1);
      expect(moved.fallback).toBe(1);
      expect(moved.selection).toBe(1);
    } finally {
      sim.setFailure('none');
    }
  });

  it('counts requests the router cannot serve as errors and routing failures', async () => {
    sim.setFailure('http500');
    try {
      const moved = await delta(
        {
          failures: ['smarterrouter_routing_failures_total', { reason: 'all_candidates_failed' }],
          errors: ['smarterrouter_errors_total', { ...REST_CHAT, error_type: 'bad_gateway' }],
          status502: ['smarterrouter_requests_total', { ...REST_CHAT, status: '502' }],
        },
        async () => {
          await expect(chat()).rejects.toMatchObject({ status: 502 });
        },
      );
      expect(moved).toEqual({ failures: 1, errors: 1, status502: 1 });
    } finally {
      sim.setFailure('none');
    }
  });

  it('counts a bad request as an error of its endpoint', async () => {
    const moved = await delta(
      { errors: ['smarterrouter_errors_total', { ...REST_CHAT, error_type: 'invalid_request' }], status400: ['smarterrouter_requests_total', { ...REST_CHAT, status: '400' }] },
      async () => {
        await expect(client.chat.completions.create({ model: 'smarterrouter/main', messages: [] })).rejects.toMatchObject({ status: 400 });
      },
    );
    expect(moved).toEqual({ errors: 1, status400: 1 });
  });

  it('counts a stream that fails after its first token as an error, though it answered 200', async () => {
    sim.setFailure('cut-stream', BEST);
    try {
      const moved = await delta(
        {
          streamErrors: ['smarterrouter_errors_total', { ...REST_CHAT }],
          status200: ['smarterrouter_requests_total', { ...REST_CHAT, status: '200' }],
        },
        async () => {
          const stream = await client.chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: unique() }], stream: true });
          await expect(
            (async () => {
              for await (const _chunk of stream) {
                // drain until the error event
              }
            })(),
          ).rejects.toThrow();
        },
      );
      expect(moved).toEqual({ streamErrors: 1, status200: 1 });
      const errors = (await scrape()).filter((s) => s.name === 'smarterrouter_errors_total' && s.labels.error_type?.startsWith('stream_'));
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      sim.setFailure('none');
    }
  });

  it('counts RPCs once, by protocol and code, over gRPC and Connect', async () => {
    const grpc = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    const connect = createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
    const CHAT_RPC = '/smarterrouter.v1.RouterService/Chat';
    const moved = await delta(
      {
        grpcOk: ['smarterrouter_requests_total', { endpoint: CHAT_RPC, protocol: 'grpc', status: 'ok' }],
        connectOk: ['smarterrouter_requests_total', { endpoint: '/smarterrouter.v1.RouterService/ListModels', protocol: 'connect', status: 'ok' }],
        invalid: ['smarterrouter_errors_total', { endpoint: CHAT_RPC, error_type: 'invalid_argument' }],
        streamOk: ['smarterrouter_requests_total', { endpoint: '/smarterrouter.v1.RouterService/ChatStream', protocol: 'grpc', status: 'ok' }],
        duration: ['smarterrouter_request_duration_seconds_count', { endpoint: CHAT_RPC, protocol: 'grpc' }],
        // Not counted a second time by the REST hook.
        rest: ['smarterrouter_requests_total', { protocol: 'rest', endpoint: CHAT_RPC }],
      },
      async () => {
        await grpc.chat({ messages: [{ role: 1, content: unique() }] });
        await connect.listModels({});
        await expect(grpc.chat({ messages: [] })).rejects.toThrow();
        for await (const _m of grpc.chatStream({ request: { messages: [{ role: 1, content: unique() }] } })) {
          // drain
        }
      },
    );
    expect(moved).toEqual({ grpcOk: 1, connectOk: 1, invalid: 1, streamOk: 1, duration: 2, rest: 0 });
  });
});

describe('GET /admin/stats and AdminService.GetStats', () => {
  it('report the same registry numbers: requests, errors, selections, caches, backends, uptime', async () => {
    await chat();
    const samples = await scrape();
    const body = (await (await fetch(`${router.url}/admin/stats`)).json()) as Record<string, any>;
    const serving = ['/v1/chat/completions', '/smarterrouter.v1.RouterService/Chat', '/smarterrouter.v1.RouterService/ChatStream'];
    const expectedRequests = serving.reduce((sum, endpoint) => sum + value(samples, 'smarterrouter_requests_total', { endpoint }), 0);
    const expectedErrors = serving.reduce((sum, endpoint) => sum + value(samples, 'smarterrouter_errors_total', { endpoint }), 0);
    expect(body.requests_total).toBe(expectedRequests);
    expect(body.errors_total).toBe(expectedErrors);
    expect(body.errors_total).toBeGreaterThan(0);
    expect(body.uptime_seconds).toBeGreaterThan(0);
    expect(Date.parse(body.started_at)).toBeLessThanOrEqual(Date.now());
    expect(body.selections).toContainEqual({ model: BEST, category: 'coding', count: value(samples, 'smarterrouter_model_selections_total', { selected_model: BEST, category: 'coding' }) });
    const response = body.caches.find((c: { kind: string }) => c.kind === 'response');
    expect(response).toMatchObject({ hits: value(samples, 'smarterrouter_cache_hits_total', { cache_type: 'response' }) });
    expect(response.entries).toBeGreaterThan(0);
    expect(body.caches.map((c: { kind: string }) => c.kind)).toEqual(['response', 'routing', 'semantic']);
    expect(body.backends).toEqual([expect.objectContaining({ name: 'ollama', provider: 'ollama' })]);

    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: router.url }));
    const rpc = await admin.getStats({});
    // The GetStats call itself is an admin RPC, not a chat request: the totals stand.
    expect(Number(rpc.requestsTotal)).toBe(body.requests_total);
    expect(Number(rpc.errorsTotal)).toBe(body.errors_total);
    expect(rpc.uptimeSeconds).toBeGreaterThan(0);
    expect(rpc.startedAt).toBeDefined();
    expect(rpc.selections).toContainEqual(expect.objectContaining({ model: BEST, category: Category.CODING }));
    expect(rpc.caches.find((c) => c.kind === CacheKind.RESPONSE)?.hits).toBe(BigInt(response.hits));
    expect(rpc.backends.map((b) => b.name)).toEqual(['ollama']);
  });
});

describe('VRAM gauges', () => {
  const originalPath = process.env.PATH;
  let gpuRouter: TestRouter | undefined;
  afterAll(async () => {
    await gpuRouter?.stop();
    process.env.PATH = originalPath;
  });

  it('report total, used, utilisation and per-GPU figures from nvidia-smi', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'sr-metrics-nvsmi-'));
    const fixture = new URL('./fixtures/nvidia-smi/two-gpus.csv', import.meta.url).pathname;
    await writeFile(join(bin, 'nvidia-smi'), `#!/bin/sh\ncat '${fixture}'\n`);
    await chmod(join(bin, 'nvidia-smi'), 0o755);
    process.env.PATH = `${bin}:${originalPath}`;
    gpuRouter = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_VRAM_MONITOR_ENABLED: 'true', ROUTER_VRAM_MONITOR_INTERVAL: '1' });
    await expect.poll(async () => value(await scrape(gpuRouter), 'smarterrouter_vram_total_gb'), { timeout: 5000 }).toBe(36);
    const samples = await scrape(gpuRouter);
    // 18750 + 412 MiB used of 24576 + 12288 MiB.
    expect(value(samples, 'smarterrouter_vram_used_gb')).toBeCloseTo((18750 + 412) / 1024, 2);
    expect(value(samples, 'smarterrouter_vram_utilization_pct')).toBeCloseTo((100 * (18750 + 412)) / (24576 + 12288), 1);
    expect(value(samples, 'smarterrouter_gpu_total_gb', { gpu_index: '0', vendor: 'nvidia' })).toBe(24);
    expect(value(samples, 'smarterrouter_gpu_free_gb', { gpu_index: '1' })).toBeCloseTo(11622 / 1024, 2);
    // Without nvidia-smi data (the main test router) the gauges carry no sample at all.
    expect((await scrape()).some((s) => s.name === 'smarterrouter_vram_total_gb')).toBe(false);
  });
});

describe('RouterEvents plumbing', () => {
  it('an observer that throws never reaches the request; the failure is reported once per method', () => {
    const reported: string[] = [];
    const events = safeEvents(
      {
        selection() {
          throw new Error('broken observer');
        },
      },
      (method) => reported.push(method),
    );
    const selection = { model: 'm', backend: 'b', category: 'general' as const, routed: true };
    expect(() => events.selection(selection)).not.toThrow();
    expect(() => events.selection(selection)).not.toThrow();
    // Methods the observer left out are no-ops.
    expect(() => events.cacheLookup('response', true)).not.toThrow();
    expect(reported).toEqual(['selection']);
  });

  it('fanOut sends each event to every observer in order', () => {
    const seen: string[] = [];
    const a = { ...NO_EVENTS, cacheLookup: (kind: string) => seen.push(`a:${kind}`) };
    const b = { ...NO_EVENTS, cacheLookup: (kind: string) => seen.push(`b:${kind}`) };
    fanOut(a, b).cacheLookup('semantic', false);
    expect(seen).toEqual(['a:semantic', 'b:semantic']);
  });
});
