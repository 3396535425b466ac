/**
 * The response, routing and semantic caches and request coalescing, end to end: a real router on
 * loopback in front of the Ollama simulator, plain fetch for REST, connect-node for the RPCs. The
 * simulator's request log is the ground truth for "did a model run".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AdminService, CacheScope } from '../gen/smarterrouter/v1/admin_pb.js';
import { CacheStatus, RouterService, Role } from '../gen/smarterrouter/v1/router_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter, waitForModels } from './support/router.js';

const EMBED = 'nomic-embed-text:latest';
let sim: RunningSimulator;
let router: TestRouter;
let promptNo = 0;

/** A prompt no other test uses, so tests do not see each other's cache entries. */
function fresh(text = 'Describe the weather on a quiet autumn day'): string {
  return `${text} (case ${++promptNo})`;
}

const user = (content: string) => ({ role: 'user', content });

function chatCalls(): number {
  return sim.requests.filter((r) => r.path === '/api/chat').length;
}

async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; cache: string | null; model: string | null; json: any }> {
  const r = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    // temperature 0: only deterministic requests are cached (a test of sampled ones overrides it).
    body: JSON.stringify({ model: 'smarterrouter/main', temperature: 0, ...body }),
  });
  return { status: r.status, cache: r.headers.get('x-router-cache'), model: r.headers.get('x-router-model'), json: await r.json() };
}

async function streamChat(body: Record<string, unknown>): Promise<{ cache: string | null; text: string; frames: string[] }> {
  const r = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'smarterrouter/main', stream: true, temperature: 0, ...body }),
  });
  expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const raw = await r.text();
  const frames = raw.trim().split('\n\n');
  let text = '';
  for (const f of frames) {
    expect(f.startsWith('data: ')).toBe(true);
    const data = f.slice(6);
    if (data === '[DONE]') continue;
    text += JSON.parse(data).choices?.[0]?.delta?.content ?? '';
  }
  return { cache: r.headers.get('x-router-cache'), text, frames };
}

async function invalidate(body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${router.url}/admin/cache/invalidate`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: r.status, json: await r.json() };
}

beforeAll(async () => {
  sim = await startOllamaSimulator({
    models: [
      { id: 'llama3.2:3b', capabilities: { tools: true }, quality: { general: 0.9, coding: 0.9, reasoning: 0.9, creativity: 0.9 } },
      // Slow enough that concurrent requests overlap; used only when named (coalescing tests).
      { id: 'tortoise:1b', tokensPerSecond: 200, firstTokenMs: 150, quality: { general: 0.1, coding: 0.1, reasoning: 0.1, creativity: 0.1 } },
      { id: EMBED, capabilities: { embeddings: true }, embeddingDim: 256 },
    ],
  });
  // No ROUTER_EMBED_MODEL here: the semantic cache would (rightly) match the near-identical
  // prompts the other tests use. It has its own router below.
  router = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_EXPOSE_MODELS: 'true' });
  await waitForModels(router, ['llama3.2:3b', 'tortoise:1b', EMBED]);
});

afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

describe('response cache', () => {
  it('answers an identical request from the cache: X-Router-Cache miss, then hit, one model call', async () => {
    const body = { messages: [user(fresh())] };
    const before = chatCalls();
    const first = await chat(body);
    const second = await chat(body);
    expect(first.status).toBe(200);
    expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
    expect(chatCalls() - before).toBe(1);
    expect(second.json.choices[0].message.content).toBe(first.json.choices[0].message.content);
    expect(second.json.usage).toEqual(first.json.usage);
    expect(second.model).toBe(first.model);
    // A hit is its own answer (own id, so feedback on it works) from the same model.
    expect(second.json.id).not.toBe(first.json.id);
    expect(second.json.model).toBe(first.json.model);
    const feedback = await fetch(`${router.url}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_id: second.json.id, score: 1 }),
    });
    expect(feedback.status).toBe(200);
  });

  it('never gives one request the answer of another with different parameters', async () => {
    const prompt = fresh('List three facts about rivers');
    const base = { messages: [user(prompt)] };
    const variants: Array<Record<string, unknown>> = [
      base,
      { ...base, top_p: 0.5 },
      { ...base, max_tokens: 7 },
      { ...base, seed: 42 },
      { ...base, stop: ['.'] },
      { ...base, presence_penalty: 0.5 },
      { ...base, response_format: { type: 'json_object' } },
      { ...base, tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }] },
      { messages: [{ role: 'system', content: 'Answer in French.' }, user(prompt)] },
      { messages: [user(prompt), { role: 'assistant', content: 'Sure.' }, user(prompt)] },
      { ...base, model: 'llama3.2:3b' },
    ];
    const before = chatCalls();
    for (const v of variants) expect((await chat(v)).cache).toBe('miss');
    expect(chatCalls() - before).toBe(variants.length);
    // Each of them is now cached under its own key.
    for (const v of variants) expect((await chat(v)).cache).toBe('hit');
    expect(chatCalls() - before).toBe(variants.length);
  });

  it('never shares answers across API keys: each key (and no key) has its own entries and flights', async () => {
    const body = { messages: [user(fresh('What is my account number'))] };
    const as = (key?: string) => chat(body, key ? { authorization: `Bearer ${key}` } : {});
    expect((await as('sk-alice')).cache).toBe('miss');
    expect((await as('sk-alice')).cache).toBe('hit');
    expect((await as('sk-bob')).cache).toBe('miss');
    expect((await as()).cache).toBe('miss');
    expect((await as()).cache).toBe('hit');
    // Concurrent identical requests with different keys are not coalesced either.
    const twin = { messages: [user(fresh('Summarise my last invoice'))] };
    const before = chatCalls();
    await Promise.all([chat(twin, { authorization: 'Bearer sk-carol' }), chat(twin, { authorization: 'Bearer sk-dave' })]);
    expect(chatCalls() - before).toBe(2);
    // RPC reads the same metadata: alice's answer is hers there too.
    const rpc = createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
    const rpcRequest = { temperature: 0, messages: [{ role: Role.USER, content: body.messages[0]!.content }] };
    expect((await rpc.chat(rpcRequest, { headers: { authorization: 'Bearer sk-alice' } })).route?.cache).toBe(CacheStatus.HIT);
    expect((await rpc.chat(rpcRequest, { headers: { authorization: 'Bearer sk-erin' } })).route?.cache).toBe(CacheStatus.MISS);
  });

  it('does not serve sampled requests (temperature > 0, or none: a chat UI\'s "regenerate") from the cache', async () => {
    for (const temperature of [0.7, undefined]) {
      const body = { messages: [user(fresh())], temperature };
      const before = chatCalls();
      expect((await chat(body)).cache).toBe('miss');
      expect((await chat(body)).cache).toBe('miss');
      expect(chatCalls() - before).toBe(2);
    }
  });

  it('honours Cache-Control: no-cache (fresh answer, stored) and no-store (fresh answer, not stored)', async () => {
    const cached = { messages: [user(fresh())] };
    await chat(cached);
    let before = chatCalls();
    expect((await chat(cached, { 'cache-control': 'no-cache' })).cache).toBe('miss');
    expect((await chat(cached, { pragma: 'no-cache' })).cache).toBe('miss');
    expect(chatCalls() - before).toBe(2);
    expect((await chat(cached)).cache).toBe('hit');

    const unstored = { messages: [user(fresh())] };
    before = chatCalls();
    expect((await chat(unstored, { 'cache-control': 'no-store' })).cache).toBe('miss');
    expect((await chat(unstored)).cache).toBe('miss');
    expect(chatCalls() - before).toBe(2);
  });

  it('caches streamed answers and replays a hit as SSE, to streaming and waiting clients alike', async () => {
    const body = { messages: [user(fresh('Write a short poem about the sea'))] };
    const before = chatCalls();
    const first = await streamChat(body);
    const second = await streamChat(body);
    expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
    expect(second.text).toBe(first.text);
    expect(second.text.length).toBeGreaterThan(0);
    expect(second.frames.at(-1)).toBe('data: [DONE]');
    const whole = await chat(body);
    expect(whole.cache).toBe('hit');
    expect(whole.json.choices[0].message.content).toBe(first.text);
    expect(chatCalls() - before).toBe(1);
  });

  it('caches answers of a named model (routing bypassed) per model', async () => {
    const messages = [user(fresh())];
    const before = chatCalls();
    expect((await chat({ model: 'llama3.2:3b', messages })).cache).toBe('miss');
    const hit = await chat({ model: 'llama3.2:3b', messages });
    expect(hit.cache).toBe('hit');
    expect(hit.model).toBe('llama3.2:3b');
    expect((await chat({ model: 'tortoise:1b', messages })).cache).toBe('miss');
    expect(chatCalls() - before).toBe(2);
  });

  it('never caches a failed answer', async () => {
    const body = { model: 'llama3.2:3b', messages: [user(fresh())] };
    sim.setFailure('cut-stream', 'llama3.2:3b');
    try {
      const broken = await streamChat(body);
      expect(broken.cache).toBe('miss');
      expect(broken.frames.at(-1)).not.toBe('data: [DONE]');
    } finally {
      sim.setFailure('none');
    }
    expect((await chat(body)).cache).toBe('miss');
    expect((await chat(body)).cache).toBe('hit');
  });
});

describe('coalescing', () => {
  it('sends N identical concurrent requests upstream once', async () => {
    const body = { model: 'tortoise:1b', messages: [user(fresh('Tell me a long story about a lighthouse keeper'))] };
    const before = chatCalls();
    const answers = await Promise.all(Array.from({ length: 5 }, () => chat(body)));
    expect(chatCalls() - before).toBe(1);
    const texts = new Set(answers.map((a) => a.json.choices[0].message.content));
    expect(texts.size).toBe(1);
    expect(answers.map((a) => a.cache).sort()).toEqual(['hit', 'hit', 'hit', 'hit', 'miss']);
    expect(new Set(answers.map((a) => a.json.id)).size).toBe(5);
  });

  it('gives a streaming client that joins late the parts produced so far, then the rest', async () => {
    const body = { model: 'tortoise:1b', stream: true, temperature: 0, messages: [user(fresh('Tell me a long story about a mountain village'))] };
    const before = chatCalls();
    const leader = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const reader = leader.body!.getReader();
    let leaderRaw = '';
    // Wait until the leader has content, so the follower joins a flight already under way.
    while (!/"content":"[^"]/.test(leaderRaw)) {
      const { value, done } = await reader.read();
      if (done) break;
      leaderRaw += new TextDecoder().decode(value);
    }
    const follower = streamChat(body);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      leaderRaw += new TextDecoder().decode(value);
    }
    const joined = await follower;
    const leaderText = leaderRaw
      .trim()
      .split('\n\n')
      .map((f) => f.slice(6))
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? '')
      .join('');
    expect(joined.text).toBe(leaderText);
    expect(joined.frames.at(-1)).toBe('data: [DONE]');
    expect(chatCalls() - before).toBe(1);
  });

  it('keeps the shared answer going when the first client leaves', async () => {
    const body = { model: 'tortoise:1b', temperature: 0, messages: [user(fresh('Tell me a long story about a clockmaker'))] };
    const before = chatCalls();
    const ac = new AbortController();
    const leaving = fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: ac.signal,
    }).catch(() => undefined);
    // Let the first request start its flight before the second joins it.
    while (chatCalls() === before) await new Promise((r) => setTimeout(r, 5));
    const coalesced = async () => ((await (await fetch(`${router.url}/admin/cache`)).json()) as any).coalesced as number;
    const joinedBefore = await coalesced();
    const staying = chat(body);
    // Leave only once the second request has joined the flight.
    while ((await coalesced()) === joinedBefore) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await leaving;
    const answer = await staying;
    expect(answer.status).toBe(200);
    expect(answer.json.choices[0].message.content.length).toBeGreaterThan(0);
    expect(chatCalls() - before).toBe(1);
  });
});

describe('coalescing: decisions of the followers', () => {
  it('a follower that leaves mid-stream has its decision settled as aborted; the leader stays ok', async () => {
    const body = { model: 'tortoise:1b', stream: true, temperature: 0, max_tokens: 60, messages: [user(fresh('Tell me a long story about a harbour'))] };
    const open = async (signal?: AbortSignal) => {
      const res = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
      const reader = res.body!.getReader();
      let raw = '';
      while (!/"content":"[^"]/.test(raw)) {
        const { value, done } = await reader.read();
        if (done) break;
        raw += new TextDecoder().decode(value);
      }
      return { reader, id: /"id":"([^"]+)"/.exec(raw)![1]!, cache: res.headers.get('x-router-cache') };
    };
    const leader = await open();
    const leaving = new AbortController();
    const follower = await open(leaving.signal);
    expect(follower.cache).toBe('hit');
    leaving.abort();
    while (!(await leader.reader.read()).done);
    const statusOf = async (id: string) => {
      for (let i = 0; i < 50; i++) {
        const list = ((await (await fetch(`${router.url}/admin/decisions?limit=100`)).json()) as { decisions: Array<{ response_id: string; status: string }> }).decisions;
        const found = list.find((d) => d.response_id === id);
        if (found && (found.status !== 'ok' || id === leader.id)) return found.status;
        await new Promise((r) => setTimeout(r, 100));
      }
      return 'ok';
    };
    expect(await statusOf(follower.id)).toBe('aborted');
    expect(await statusOf(leader.id)).toBe('ok');
  });
});

describe('semantic cache', () => {
  let semantic: TestRouter;
  beforeAll(async () => {
    semantic = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_EXPOSE_MODELS: 'true', ROUTER_EMBED_MODEL: EMBED });
    await waitForModels(semantic, ['llama3.2:3b', EMBED]);
  });
  afterAll(async () => {
    await semantic?.stop();
  });

  const ask = async (body: Record<string, unknown>) => {
    const r = await fetch(`${semantic.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ temperature: 0, ...body }) });
    return { cache: r.headers.get('x-router-cache'), json: (await r.json()) as any };
  };

  it('serves a similar prompt with the same parameters from the semantic cache', async () => {
    // The simulator's embedding puts these two at cosine 1.0 (stop words dropped) and the third at
    // about 0.63: below ROUTER_CACHE_SIMILARITY_THRESHOLD (0.85).
    const original = { messages: [user('Write a Python function to reverse a string')] };
    const similar = { messages: [user('Please write a Python function to reverse the string')] };
    const before = chatCalls();
    const embedsBefore = sim.requests.filter((r) => r.path === '/api/embed').length;
    const first = await ask(original);
    expect(first.cache).toBe('miss');
    const second = await ask(similar);
    expect(second.cache).toBe('semantic');
    expect(second.json.choices[0].message.content).toBe(first.json.choices[0].message.content);
    expect(chatCalls() - before).toBe(1);
    // One embedding per lookup; the miss stored the vector it already had.
    expect(sim.requests.filter((r) => r.path === '/api/embed').length - embedsBefore).toBe(2);

    expect((await ask({ messages: [user('Write a Python function to sort a list')] })).cache).toBe('miss');
    // Same meaning, other parameters: another partition.
    expect((await ask({ ...similar, max_tokens: 9 })).cache).toBe('miss');
    expect((await ask({ messages: [{ role: 'system', content: 'Be brief.' }, ...similar.messages] })).cache).toBe('miss');
    expect(chatCalls() - before).toBe(4);
  });

  it('drops semantic entries on invalidation (scope semantic)', async () => {
    const body = { messages: [user('Name the largest planet of the solar system')] };
    expect((await ask(body)).cache).toBe('miss');
    const r = await fetch(`${semantic.url}/admin/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'semantic' }) });
    const removed = (await r.json()) as any;
    expect(removed.semantic_removed).toBeGreaterThanOrEqual(1);
    expect(removed.response_removed).toBe(0);
    // The exact entry is still there; a reworded prompt no longer finds the semantic one.
    expect((await ask(body)).cache).toBe('hit');
    expect((await ask({ messages: [user('Please name the largest planet of the solar system')] })).cache).toBe('miss');
  });
});

describe('ROUTER_CACHE_SEMANTIC_ENABLED=false', () => {
  it('keeps the exact cache and embeds nothing for a paraphrase', async () => {
    const exactOnly = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_EXPOSE_MODELS: 'true', ROUTER_EMBED_MODEL: EMBED, ROUTER_CACHE_SEMANTIC_ENABLED: 'false' });
    try {
      await waitForModels(exactOnly, ['llama3.2:3b', EMBED]);
      const ask = async (content: string) =>
        (await fetch(`${exactOnly.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'smarterrouter/main', temperature: 0, messages: [user(content)] }) })).headers.get('x-router-cache');
      const embeds = () => sim.requests.filter((r) => r.path === '/api/embed').length;
      const before = embeds();
      expect(await ask('Write a Python function to reverse a list')).toBe('miss');
      expect(await ask('Please write a Python function to reverse the list')).toBe('miss');
      expect(await ask('Write a Python function to reverse a list')).toBe('hit');
      expect(embeds() - before).toBe(0);
    } finally {
      await exactOnly.stop();
    }
  });
});

describe('invalidation and statistics', () => {
  it('POST /admin/cache/invalidate empties all caches, one model, or the response cache only', async () => {
    const a = { model: 'llama3.2:3b', messages: [user(fresh())] };
    const b = { model: 'tortoise:1b', messages: [user(fresh())] };
    await chat(a);
    await chat(b);
    const byModel = await invalidate({ model: 'tortoise:1b', scope: 'response' });
    expect(byModel.status).toBe(200);
    // Earlier tests cached tortoise answers too; all of them go, llama's stay.
    expect(byModel.json.response_removed).toBeGreaterThanOrEqual(1);
    expect((await chat(a)).cache).toBe('hit');
    expect((await chat(b)).cache).toBe('miss');

    const responseOnly = await invalidate({ scope: 'response' });
    expect(responseOnly.json.response_removed).toBeGreaterThanOrEqual(2);
    expect(responseOnly.json.routing_removed).toBe(0);
    expect((await chat(a)).cache).toBe('miss');

    const all = await invalidate();
    expect(all.status).toBe(200);
    expect(all.json).toEqual({ response_removed: expect.any(Number), routing_removed: expect.any(Number), semantic_removed: expect.any(Number) });
    expect(all.json.response_removed).toBeGreaterThanOrEqual(1);
    expect((await chat(a)).cache).toBe('miss');
  });

  it('rejects bad invalidation requests with OpenAI error JSON', async () => {
    const bad = await invalidate({ scope: 'everything' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ param: 'scope', code: 'invalid_value' });
    expect((await invalidate({ model: '' })).status).toBe(400);
  });

  it('AdminService.InvalidateCache and RouterService.Chat with a cache-control header', async () => {
    const transport = createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' });
    const admin = createClient(AdminService, transport);
    const rpc = createClient(RouterService, transport);
    const request = { model: 'llama3.2:3b', temperature: 0, messages: [{ role: Role.USER, content: fresh() }] };

    const headers: string[] = [];
    const first = await rpc.chat(request, { onHeader: (h) => headers.push(h.get('x-router-cache') ?? '') });
    const second = await rpc.chat(request, { onHeader: (h) => headers.push(h.get('x-router-cache') ?? '') });
    expect([first.route?.cache, second.route?.cache]).toEqual([CacheStatus.MISS, CacheStatus.HIT]);
    expect(headers).toEqual(['miss', 'hit']);
    expect(second.message?.content).toBe(first.message?.content);
    // The same REST answer is in the same cache: one core, two doors.
    expect((await chat({ model: 'llama3.2:3b', messages: [user(request.messages[0]!.content)] })).cache).toBe('hit');

    const bypass = await rpc.chat(request, { headers: { 'cache-control': 'no-cache' } });
    expect(bypass.route?.cache).toBe(CacheStatus.MISS);

    const removed = await admin.invalidateCache({ scope: CacheScope.RESPONSE, model: 'llama3.2:3b' });
    expect(removed.responseRemoved).toBeGreaterThanOrEqual(1n);
    expect(removed.routingRemoved).toBe(0n);
    expect((await rpc.chat(request)).route?.cache).toBe(CacheStatus.MISS);

    const everything = await admin.invalidateCache({});
    expect(everything.responseRemoved).toBeGreaterThanOrEqual(1n);
  });

  it('GET /admin/cache reports hits, misses and entries per cache kind', async () => {
    const body = { messages: [user(fresh())] };
    await chat(body);
    await chat(body);
    const stats = (await (await fetch(`${router.url}/admin/cache`)).json()) as any;
    expect(stats.enabled).toBe(true);
    const byKind = Object.fromEntries(stats.caches.map((c: any) => [c.kind, c]));
    expect(Object.keys(byKind).sort()).toEqual(['response', 'routing', 'semantic']);
    expect(byKind.response.hits).toBeGreaterThanOrEqual(1);
    expect(byKind.response.misses).toBeGreaterThanOrEqual(1);
    expect(byKind.response.entries).toBeGreaterThanOrEqual(1);
    expect(byKind.routing.misses).toBeGreaterThanOrEqual(1);
    expect(byKind.semantic).toMatchObject({ hits: 0, misses: 0, entries: 0 }); // off without ROUTER_EMBED_MODEL
    expect(stats.coalesced).toBeGreaterThanOrEqual(4);
  });
});

describe('cache settings', () => {
  it('ROUTER_CACHE_NONDETERMINISTIC, ROUTER_CACHE_RESPONSE_MAX_SIZE and ROUTER_CACHE_SIMILARITY_THRESHOLD take effect', async () => {
    const tuned = await startTestRouter({
      ROUTER_BACKENDS: `sim=ollama:${sim.url}`,
      ROUTER_EXPOSE_MODELS: 'true',
      ROUTER_CACHE_NONDETERMINISTIC: 'true',
      ROUTER_CACHE_RESPONSE_MAX_SIZE: '1',
      ROUTER_EMBED_MODEL: EMBED,
      // "reverse a string" and "sort a list" are about 0.63 apart in the simulator's embedding.
      ROUTER_CACHE_SIMILARITY_THRESHOLD: '0.5',
    });
    try {
      await waitForModels(tuned, ['llama3.2:3b', EMBED]);
      const ask = async (body: Record<string, unknown>) =>
        (await fetch(`${tuned.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama3.2:3b', ...body }) })).headers.get('x-router-cache');
      const sampled = { temperature: 0.9, messages: [user('Write a Python function to reverse a string')] };
      expect(await ask(sampled)).toBe('miss');
      expect(await ask(sampled)).toBe('hit');
      expect(await ask({ temperature: 0.9, messages: [user('Write a Python function to sort a list')] })).toBe('semantic');
      // One response entry at most: a second answer evicts the first.
      expect(await ask({ messages: [user('Name three colours of the rainbow')] })).toBe('miss');
      expect(await ask({ messages: [user('Name three animals of the savanna')] })).toBe('miss');
      expect(await ask({ messages: [user('Name three colours of the rainbow')] })).toBe('miss');
    } finally {
      await tuned.stop();
    }
  });
});

describe('with ROUTER_CACHE_ENABLED=false', () => {
  it('sends every request upstream and answers invalidation with 409 / FAILED_PRECONDITION', async () => {
    const off = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_EXPOSE_MODELS: 'true', ROUTER_CACHE_ENABLED: 'false' });
    try {
      await waitForModels(off, ['llama3.2:3b']);
      const body = JSON.stringify({ model: 'llama3.2:3b', messages: [user(fresh())] });
      const before = chatCalls();
      const send = () => fetch(`${off.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const [r1, r2] = [await send(), await send()];
      expect([r1.headers.get('x-router-cache'), r2.headers.get('x-router-cache')]).toEqual(['miss', 'miss']);
      expect(chatCalls() - before).toBe(2);
      const r = await fetch(`${off.url}/admin/cache/invalidate`, { method: 'POST' });
      expect(r.status).toBe(409);
      expect(((await r.json()) as any).error.code).toBe('cache_disabled');
      const admin = createClient(AdminService, createConnectTransport({ baseUrl: off.url, httpVersion: '1.1' }));
      await expect(admin.invalidateCache({})).rejects.toMatchObject({ code: 9 /* FailedPrecondition */ });
    } finally {
      await off.stop();
    }
  });
});
