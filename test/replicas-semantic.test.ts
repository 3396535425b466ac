/**
 * Semantic-cache entries shared between replicas through a Redis stream (src/server/redis/
 * semantic-stream.ts): each replica keeps its own vector index, entries and invalidations travel,
 * answers are read from the shared response cache. First the pieces over a real Redis (two caches
 * in this process), then real routers on loopback in front of the Ollama simulator, whose
 * embeddings put "X" and "please X" at cosine 1.0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../src/core/cache/answer.js';
import { InlineSemanticIndex } from '../src/core/cache/inline-index.js';
import { ResponseCache } from '../src/core/cache/response-cache.js';
import { SemanticCache, type SemanticChange, type SemanticPeers } from '../src/core/cache/semantic-cache.js';
import { connectRedis } from '../src/server/redis/client.js';
import { SemanticStream } from '../src/server/redis/semantic-stream.js';
import { RedisSharedStore } from '../src/server/redis/store.js';
import { embedText, startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';
import { freePort, redisBin, startRedis, type Service } from './support/services.js';
import { cachedAnswer } from './support/cached-answer.js';

const started = await startRedis();
const redis: Service | undefined = 'skip' in started ? undefined : started;
const skip = 'skip' in started ? started.skip : undefined;
const connections: Redis[] = [];
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

const EMBED = 'nomic-embed-text:latest';
const embed = async (text: string) => embedText(text, 256, EMBED);
const never = new AbortController().signal;

const answer = cachedAnswer;
const textOf = (a: CachedAnswer | undefined) => (a?.parts[0]?.type === 'text-delta' ? a.parts[0].delta : undefined);

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Replica {
  responses: ResponseCache;
  semantic: SemanticCache;
  stream: SemanticStream;
  errors: string[];
  /** What ChatCache.fill does with a fresh answer: the exact cache, then the semantic one. */
  store(id: string, prompt: string, a: CachedAnswer): Promise<void>;
  ask(prompt: string): Promise<string | undefined>;
}

/** One replica's caches as the wiring builds them (no router around them). */
async function replica(url: string, name: string, prefix: string, limits: { maxEntries?: number; ttlMs?: number } = {}): Promise<Replica> {
  const ttlMs = limits.ttlMs ?? 60_000;
  const maxEntries = limits.maxEntries ?? 50;
  const commands = await connectRedis(url);
  const reader = await connectRedis(url, undefined, 'reader', { commandTimeoutMs: 1500 });
  connections.push(commands, reader);
  const errors: string[] = [];
  const responses = new ResponseCache({ maxSize: maxEntries, ttlMs, shared: new RedisSharedStore(commands, prefix), onSharedError: (_e, during) => errors.push(`response ${during}`) });
  const semantic = new SemanticCache({ index: new InlineSemanticIndex(), embed, threshold: 0.85, maxSize: maxEntries, ttlMs, embedTimeoutMs: 1000 });
  const stream = new SemanticStream({
    redis: commands,
    reader,
    key: `${prefix}semantic:${EMBED}`,
    origin: name,
    maxEntries,
    ttlMs,
    sink: semantic,
    answer: (id) => responses.lookup(id),
    blockMs: 200,
    retryMs: 50,
    onError: (_e, during) => errors.push(`semantic ${during}`),
  });
  await stream.start();
  semantic.share(stream);
  closers.push(async () => {
    await stream.close();
    await semantic.close();
  });
  return {
    responses,
    semantic,
    stream,
    errors,
    async store(id, prompt, a) {
      responses.store(id, a);
      semantic.store(id, prompt, 'p', a, await embed(prompt));
    },
    async ask(prompt) {
      return textOf((await semantic.lookup(prompt, 'p', never)).answer);
    },
  };
}

describe('SemanticCache with peers (no Redis)', () => {
  it('publishes its entries and invalidations; remote entries live their remaining TTL and read answers through the peers', async () => {
    let now = 1_000;
    let online = true;
    const published: SemanticChange[] = [];
    const sharedAnswers = new Map<string, CachedAnswer>();
    const peers: SemanticPeers = { publish: (c) => published.push(c), answer: async (id) => sharedAnswers.get(id), online: () => online };
    const cache = new SemanticCache({ index: new InlineSemanticIndex(), embed, threshold: 0.85, maxSize: 10, ttlMs: 60_000, now: () => now, embedTimeoutMs: 1000 });
    cache.share(peers);
    const ask = async (prompt: string) => textOf((await cache.lookup(prompt, 'p', never)).answer);

    cache.store('own', 'the largest planet', 'p', answer('m1', 'Jupiter'), await embed('the largest planet'));
    expect(published).toEqual([{ type: 'add', entry: { id: 'own', partition: 'p', model: 'm1', vector: await embed('the largest planet') } }]);
    // Online, the shared store decides: not there (yet), no hit; there, its answer.
    expect(await ask('please the largest planet')).toBeUndefined();
    sharedAnswers.set('own', answer('m1', 'Jupiter (shared)'));
    expect(await ask('please the largest planet')).toBe('Jupiter (shared)');
    // Offline, entries this replica stored serve the answer it kept.
    online = false;
    expect(await ask('please the largest planet')).toBe('Jupiter');

    cache.applyRemote({ type: 'add', entry: { id: 'remote', partition: 'p', model: 'm2', vector: await embed('capital city of Peru') } }, now + 5_000);
    expect(await ask('capital city of Peru')).toBeUndefined(); // offline: nothing to read its answer from
    online = true;
    sharedAnswers.set('remote', answer('m2', 'Lima'));
    expect(await ask('capital city of Peru')).toBe('Lima');
    now += 5_000; // its TTL ran out where it was written
    expect(await ask('capital city of Peru')).toBeUndefined();
    cache.applyRemote({ type: 'add', entry: { id: 'stale', partition: 'p', model: 'm2', vector: await embed('boiling point of water') } }, now - 1);
    expect(cache.size).toBe(1);

    // An answer gone from the shared store (response-only invalidation) drops the entry once it is old enough.
    sharedAnswers.clear();
    now += 60_000 - 5_001;
    expect(await ask('please the largest planet')).toBeUndefined();
    expect(cache.size).toBe(0);

    cache.applyRemote({ type: 'add', entry: { id: 'r2', partition: 'p', model: 'm2', vector: await embed('capital city of Peru') } });
    cache.applyRemote({ type: 'invalidate', model: 'm2' });
    expect(cache.size).toBe(0);
    // Changes from other replicas are never published again.
    expect(published).toHaveLength(1);
    published.length = 0;
    expect(cache.invalidate('m1')).toBe(0);
    cache.invalidate();
    expect(published).toEqual([{ type: 'invalidate', model: 'm1' }, { type: 'invalidate' }]);
    // After close (the router shutting down), the stream's last changes are ignored.
    await cache.close();
    cache.applyRemote({ type: 'add', entry: { id: 'late', partition: 'p', model: 'm', vector: await embed('x') } });
    expect(cache.size).toBe(0);
  });
});

let prefixes = 0;
const nextPrefix = () => `sem-${process.pid}-${prefixes++}:`;

describe.skipIf(skip !== undefined)(`semantic entries over a real Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('an entry stored on one replica is a hit on the other, its answer read from the shared response cache', async () => {
    const prefix = nextPrefix();
    const [one, two] = await Promise.all([replica(redis!.url, 'one', prefix), replica(redis!.url, 'two', prefix)]);
    await one.store('k1', 'Write a Python function to reverse a string', answer('m1', 'def rev(s): return s[::-1]'));
    await until('the entry on the other replica', () => two.semantic.size === 1);
    expect(await until('the hit', () => two.ask('Please write a Python function to reverse the string'))).toBe('def rev(s): return s[::-1]');
    // Only similar prompts: an unrelated one stays a miss.
    expect(await two.ask('Name the largest planet of the solar system')).toBeUndefined();
    expect(one.errors.concat(two.errors)).toEqual([]);
  });

  it('invalidation reaches the other replica: by model, everything, and response-only (the answers entries point to)', async () => {
    const prefix = nextPrefix();
    const [one, two] = await Promise.all([replica(redis!.url, 'one', prefix), replica(redis!.url, 'two', prefix)]);
    await one.store('k1', 'Write a Python function to reverse a string', answer('m1', 'reversed'));
    await one.store('k2', 'Name the largest planet of the solar system', answer('m2', 'Jupiter'));
    await until('both entries on the other replica', () => two.semantic.size === 2);
    await until('the answers', () => two.ask('Please name the largest planet of the solar system'));

    // By model, on one: the other drops m1's entry and keeps m2's.
    expect(one.semantic.invalidate('m1')).toBe(1);
    await until('m1 dropped on the other', () => two.semantic.size === 1);
    expect(await two.ask('Please write a Python function to reverse the string')).toBeUndefined();
    expect(await two.ask('Please name the largest planet of the solar system')).toBe('Jupiter');

    // Response-only, on two: the entries stay but the answer they point to is gone, on both replicas.
    two.responses.invalidate();
    await until('the shared answer gone', async () => (await one.responses.lookup('k2')) === undefined);
    expect(await one.ask('Please name the largest planet of the solar system')).toBeUndefined();
    expect(await two.ask('Please name the largest planet of the solar system')).toBeUndefined();

    // Everything, on two: one's entries go too.
    await two.store('k3', 'Explain how photosynthesis works in plants', answer('m3', 'light'));
    await until('k3 on one', () => one.semantic.size === 2);
    two.semantic.invalidate();
    await until('all dropped on one', () => one.semantic.size === 0);
    expect(one.errors.concat(two.errors)).toEqual([]);
  });

  it('a replica that starts later catches up; the stream stays within the cache size; expired entries are not replayed', async () => {
    const prefix = nextPrefix();
    const one = await replica(redis!.url, 'one', prefix, { maxEntries: 3 });
    const prompts = ['reverse a string in Python', 'the largest planet', 'photosynthesis in plants', 'boiling point of water', 'capital city of Peru'];
    for (const [i, p] of prompts.entries()) await one.store(`k${i}`, p, answer('m', `answer ${i}`));
    const inspect = await connectRedis(redis!.url);
    connections.push(inspect);
    await until('five appends', async () => (await inspect.xrange(`${prefix}semantic:${EMBED}`, '-', '+')).length === 3 && (await one.responses.lookup('k4')));
    expect(await inspect.xlen(`${prefix}semantic:${EMBED}`)).toBe(3);
    // Caught up before start() resolves: the three newest entries.
    const late = await replica(redis!.url, 'late', prefix, { maxEntries: 3 });
    expect(late.semantic.size).toBe(3);
    expect(await late.ask('please the capital city of Peru')).toBe('answer 4');
    expect(await late.ask('reverse a string in Python')).toBeUndefined();

    // TTL: an entry older than the TTL is not replayed, a younger one is.
    const shortPrefix = nextPrefix();
    const writer = await replica(redis!.url, 'writer', shortPrefix, { ttlMs: 1000 });
    await writer.store('old', 'the largest planet', answer('m', 'old'));
    await new Promise((r) => setTimeout(r, 600));
    await writer.store('young', 'capital city of Peru', answer('m', 'young'));
    await new Promise((r) => setTimeout(r, 500));
    const newcomer = await replica(redis!.url, 'newcomer', shortPrefix, { ttlMs: 1000 });
    expect(newcomer.semantic.size).toBe(1);
    expect(await newcomer.ask('capital city of Peru')).toBe('young');
  });

  it('skips what it cannot read in the stream and follows on', async () => {
    const prefix = nextPrefix();
    const one = await replica(redis!.url, 'one', prefix);
    const inspect = await connectRedis(redis!.url);
    connections.push(inspect);
    const key = `${prefix}semantic:${EMBED}`;
    await inspect.xadd(key, '*', 'c', '{not json');
    await inspect.xadd(key, '*', 'other', 'field');
    await inspect.xadd(key, '*', 'c', JSON.stringify({ o: 'x', t: 'add', id: 'k', p: 'p', m: 'm', v: 'AAA' }));
    const two = await replica(redis!.url, 'two', prefix);
    await two.store('k1', 'the largest planet', answer('m', 'Jupiter'));
    await until('the good entry after the bad ones', () => one.semantic.size === 1);
    expect(await until('the hit', () => one.ask('the largest planet'))).toBe('Jupiter');
  });

  it('with Redis away nothing throws and entries stored here still serve; back, the replica follows again', async () => {
    const own = await ownRedis();
    const prefix = nextPrefix();
    const [one, two] = await Promise.all([replica(own.url, 'one', prefix), replica(own.url, 'two', prefix)]);
    await own.kill();
    await until('the link to notice', () => !one.stream.online());
    // Stored locally (the publish and the shared write fail, reported once), served from memory.
    await one.store('k1', 'the largest planet', answer('m', 'Jupiter'));
    expect(await one.ask('please the largest planet')).toBe('Jupiter');
    expect(await two.ask('please the largest planet')).toBeUndefined();
    await until('the failures reported', () => one.errors.includes('semantic publish') && one.errors.includes('semantic read'));

    await own.restart();
    await until('both back', () => one.stream.online() && two.stream.online(), 15_000);
    await two.store('k2', 'capital city of Peru', answer('m', 'Lima'));
    expect(await until('the new entry on the replica that was cut off', () => one.ask('capital city of Peru'), 15_000)).toBe('Lima');
    expect(one.errors.filter((e) => e === 'semantic publish')).toHaveLength(1);
    await own.kill();
  });
});

/** A Redis this test can stop and start again on the same port (startRedis picks a new port each time). */
async function ownRedis(): Promise<{ url: string; kill(): Promise<void>; restart(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sr-semantic-redis-'));
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(redisBin()!, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until('redis', async () => {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      const ok = await probe.connect().then(() => probe.ping()).then(() => true, () => false);
      probe.disconnect();
      return ok;
    });
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await launch();
  closers.push(async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `redis://127.0.0.1:${port}`, kill, restart: launch };
}

describe.skipIf(skip !== undefined)(`routers sharing semantic entries${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let sim: RunningSimulator;
  let a: TestRouter;
  let b: TestRouter;
  let env: Record<string, string>;
  let inspect: Redis;
  const prefix = `sem-routers-${process.pid}:`;

  beforeAll(async () => {
    if (skip) return;
    sim = await startOllamaSimulator({
      models: [
        { id: 'llama3.2:3b', quality: { general: 0.9, coding: 0.9, reasoning: 0.9, creativity: 0.9 } },
        { id: EMBED, capabilities: { embeddings: true }, embeddingDim: 256 },
      ],
    });
    env = { ROUTER_REDIS_URL: redis!.url, ROUTER_REDIS_PREFIX: prefix, ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_EXPOSE_MODELS: 'true', ROUTER_EMBED_MODEL: EMBED };
    [a, b] = await Promise.all([startTestRouter(env), startTestRouter(env)]);
    inspect = await connectRedis(redis!.url);
    connections.push(inspect);
    for (const r of [a, b]) await until('the models', async () => hasModels(r));
  }, 60_000);

  const hasModels = async (r: TestRouter) => {
    const ids = ((await (await fetch(`${r.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    return ids.includes('llama3.2:3b') && ids.includes(EMBED);
  };

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await sim?.close();
  });

  const chatCalls = () => sim.requests.filter((r) => r.path === '/api/chat').length;
  const ask = async (router: { url: string }, content: string) => {
    const r = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smarterrouter/main', temperature: 0, messages: [{ role: 'user', content }] }),
    });
    expect(r.status).toBe(200);
    const json = (await r.json()) as { choices: Array<{ message: { content: string } }> };
    return { cache: r.headers.get('x-router-cache'), content: json.choices[0]!.message.content };
  };
  const invalidate = async (router: { url: string }, body: Record<string, unknown>) => {
    const r = await fetch(`${router.url}/admin/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBe(200);
    return (await r.json()) as { response_removed: number; semantic_removed: number };
  };
  /** The entry reached `router` and its answer is in the shared response cache. */
  const shared = async (router: TestRouter, entries: number) => {
    await until('the entry on the other replica', () => router.core.cache!.semantic!.size >= entries);
    await until('the shared answer', async () => (await inspect.keys(`${prefix}response:idx:*`)).length > 0);
  };

  it('a paraphrase of a prompt answered on A is served on B from the semantic cache', async () => {
    const first = await ask(a, 'Write a Python function to reverse a string');
    expect(first.cache).toBe('miss');
    await shared(b, 1);
    const calls = chatCalls();
    const second = await ask(b, 'Please write a Python function to reverse the string');
    expect(second).toEqual({ cache: 'semantic', content: first.content });
    expect(chatCalls()).toBe(calls);
  });

  it('invalidation on A removes the entries on B (semantic scope, then one model, then response-only)', async () => {
    expect((await invalidate(a, { scope: 'semantic' })).semantic_removed).toBeGreaterThanOrEqual(1);
    await until('B emptied', () => b.core.cache!.semantic!.size === 0);
    expect((await ask(b, 'Please write a Python function to reverse the string')).cache).toBe('miss');

    // B's fresh answer is now shared with A; dropping that model's entries on A drops them on B.
    await shared(a, 1);
    await invalidate(a, { scope: 'all', model: 'llama3.2:3b' });
    await until('B emptied', () => b.core.cache!.semantic!.size === 0);

    // Response-only: the entry stays on B, the answer it points to is gone for everyone.
    const planet = await ask(a, 'Name the largest planet of the solar system');
    expect(planet.cache).toBe('miss');
    await shared(b, 1);
    expect((await ask(b, 'Please name the largest planet of the solar system')).cache).toBe('semantic');
    expect((await invalidate(a, { scope: 'response' })).semantic_removed).toBe(0);
    await until('the shared answers gone', async () => (await inspect.keys(`${prefix}response:*`)).length === 0);
    // (B never stored this paraphrase: a semantic hit fills nothing.)
    expect((await ask(b, 'Please name the largest planet of the solar system')).cache).toBe('miss');
  });

  it('a replica started after the entry was written hits it', async () => {
    const first = await ask(a, 'Explain how photosynthesis works in green plants');
    expect(first.cache).toBe('miss');
    await until('the shared answer', async () => (await inspect.keys(`${prefix}response:idx:*`)).length > 0);
    await until('the stream entry', async () => (await inspect.xlen(`${prefix}semantic:${encodeURIComponent(EMBED)}`)) > 0);
    const c = await startTestRouter(env);
    try {
      await until('the models', () => hasModels(c));
      const late = await ask(c, 'Please explain how photosynthesis works in the green plants');
      expect(late).toEqual({ cache: 'semantic', content: first.content });
    } finally {
      await c.stop();
    }
  });
});
