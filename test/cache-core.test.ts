/**
 * The core cache modules on their own: LRU + TTL with an injected clock (no waiting), canonical
 * keys, answer capture, the routing cache's registry versioning, coalescing and the semantic cache
 * over the inline vector index.
 */
import { describe, expect, it } from 'vitest';
import { capture, compact, replay } from '../src/core/cache/answer.js';
import { parseCacheControl } from '../src/core/cache/cache-control.js';
import { Coalescer } from '../src/core/cache/coalesce.js';
import { InlineSemanticIndex } from '../src/core/cache/inline-index.js';
import { responseKey, routingKey, semanticParts, stableStringify } from '../src/core/cache/keys.js';
import { LruCache } from '../src/core/cache/lru.js';
import { ResponseCache } from '../src/core/cache/response-cache.js';
import { RoutingCache } from '../src/core/cache/routing-cache.js';
import { SemanticCache } from '../src/core/cache/semantic-cache.js';
import type { RouteRequest } from '../src/core/types.js';
import { PluginError, type ChatStreamPart } from '../src/plugin-api/index.js';
import { cachedAnswer } from './support/cached-answer.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const request = (over: Partial<RouteRequest> = {}): RouteRequest => ({
  model: 'smarterrouter/main',
  messages: [{ role: 'user', content: 'hello' }],
  protocol: 'rest',
  ...over,
});

const answer = cachedAnswer;

async function* parts(list: ChatStreamPart[], opts: { throwAfter?: boolean } = {}): AsyncGenerator<ChatStreamPart> {
  for (const p of list) yield p;
  if (opts.throwAfter) throw new Error('boom');
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe('LruCache', () => {
  it('expires entries after the TTL (injected clock)', () => {
    const c = clock();
    const lru = new LruCache<string, number>({ maxSize: 10, ttlMs: 1000, now: c.now });
    lru.set('a', 1);
    c.advance(999);
    expect(lru.get('a')).toBe(1);
    c.advance(1);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('evicts the least recently used entry at max size; a read counts as use', () => {
    const removed: string[] = [];
    const lru = new LruCache<string, number>({ maxSize: 2, ttlMs: 60_000, onRemove: (k) => removed.push(k) });
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // b is now the least recently used
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(removed).toEqual(['b']);
    expect(lru.size).toBe(2);
  });

  it('deletes by predicate and clears, counting only fresh entries', () => {
    const c = clock();
    const lru = new LruCache<string, string>({ maxSize: 10, ttlMs: 100, now: c.now });
    lru.set('old', 'x');
    c.advance(100);
    lru.set('a', 'x');
    lru.set('b', 'y');
    expect(lru.deleteWhere((v) => v === 'x')).toBe(1);
    expect(lru.size).toBe(1);
    expect(lru.clear()).toBe(1);
    expect(lru.size).toBe(0);
  });

  it('rejects nonsense limits', () => {
    expect(() => new LruCache({ maxSize: 0, ttlMs: 1 })).toThrow(RangeError);
    expect(() => new LruCache({ maxSize: 1, ttlMs: 0 })).toThrow(RangeError);
  });
});

describe('ResponseCache', () => {
  it('holds at most maxSize answers and invalidates by model', () => {
    const cache = new ResponseCache({ maxSize: 2, ttlMs: 60_000 });
    cache.set('k1', answer('m1'));
    cache.set('k2', answer('m2'));
    cache.set('k3', answer('m1'));
    expect(cache.size).toBe(2);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.invalidate('m1')).toBe(1);
    expect(cache.get('k2')?.model).toBe('m2');
    expect(cache.invalidate()).toBe(1);
  });
});

describe('keys', () => {
  it('stable JSON ignores key order and undefined members', () => {
    expect(stableStringify({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
  });

  it('every answer-relevant field changes the response key; transport fields do not', () => {
    const base = responseKey(request());
    expect(responseKey(request({ stream: true, protocol: 'grpc', requestId: 'r1', cacheControl: { noCache: true } }))).toBe(base);
    const variants: Array<Partial<RouteRequest>> = [
      { model: 'other' },
      { messages: [{ role: 'user', content: 'hello!' }] },
      { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'hello' }] },
      { temperature: 0 },
      { topP: 0.9 },
      { maxTokens: 5 },
      { seed: 1 },
      { stop: ['x'] },
      { presencePenalty: 0.1 },
      { frequencyPenalty: 0.1 },
      { tools: [{ name: 't' }] },
      { toolChoice: 'required' },
      { responseFormat: { type: 'json_object' } },
      { qualityPreference: 0.2 },
      { providerOptions: { ollama: { num_ctx: 4096 } } },
    ];
    const keys = new Set(variants.map((v) => responseKey(request(v))));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(base)).toBe(false);
  });

  it('semantic parts: the last user text is the prompt, everything else the partition', () => {
    const a = semanticParts(request({ messages: [{ role: 'user', content: 'reverse a string' }] }))!;
    const b = semanticParts(request({ messages: [{ role: 'user', content: 'flip a string' }] }))!;
    expect(a.prompt).toBe('reverse a string');
    expect(a.partition).toBe(b.partition);
    expect(semanticParts(request({ messages: [{ role: 'user', content: 'flip a string' }], maxTokens: 3 }))!.partition).not.toBe(a.partition);
    expect(semanticParts(request({ messages: [{ role: 'user', content: [{ type: 'image', url: 'http://x/y.png' }] }] }))).toBeUndefined();
    expect(semanticParts(request({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }))).toBeUndefined();
  });

  it('semantic parts: prompts with other numbers or another count of negations are never compared', () => {
    const partition = (content: string) => semanticParts(request({ messages: [{ role: 'user', content }] }))!.partition;
    expect(partition('Convert 100 USD to EUR')).not.toBe(partition('Convert 250 USD to EUR'));
    expect(partition('Should I take ibuprofen with alcohol?')).not.toBe(partition('Should I not take ibuprofen with alcohol?'));
    expect(partition("Why doesn't my build work?")).not.toBe(partition('Why does my build work?'));
    // The same facts in other words still share a partition (the vector decides).
    expect(partition('Convert 100 USD to EUR please')).toBe(partition('How much is 100 USD in EUR?'));
  });

  it('the routing key follows the registry version and ignores sampling settings', () => {
    expect(routingKey(request({ temperature: 1 }), 1)).toBe(routingKey(request(), 1));
    expect(routingKey(request(), 2)).not.toBe(routingKey(request(), 1));
    expect(routingKey(request({ tools: [{ name: 't' }] }), 1)).not.toBe(routingKey(request(), 1));
  });
});

describe('RoutingCache', () => {
  it('starts afresh when the registry snapshot changes', () => {
    const cache = new RoutingCache<{ model: string }>({ maxSize: 5, ttlMs: 60_000, selectedModel: (p) => p.model });
    const v1 = [{}];
    const key = cache.keyFor(request(), v1);
    cache.set(key, { model: 'm1' });
    expect(cache.get(cache.keyFor(request(), v1))).toEqual({ model: 'm1' });
    const v2 = [{}];
    expect(cache.get(cache.keyFor(request(), v2))).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set(cache.keyFor(request(), v2), { model: 'm2' });
    expect(cache.invalidate('m1')).toBe(0);
    expect(cache.invalidate('m2')).toBe(1);
  });
});

describe('capture', () => {
  const finish: ChatStreamPart = { type: 'finish', finishReason: 'stop', usage: { promptTokens: 2, completionTokens: 2 } };

  it('hands over a complete answer (text runs merged) and passes every part through', async () => {
    let stored: unknown;
    const seen = await drain(capture(parts([{ type: 'text-delta', delta: 'a' }, { type: 'text-delta', delta: 'b' }, finish]), (p) => (stored = p)));
    expect(seen).toHaveLength(3);
    expect(stored).toEqual([{ type: 'text-delta', delta: 'ab' }, finish]);
  });

  it('never stores an error, a cut stream, a filtered answer or one the consumer abandoned', async () => {
    let calls = 0;
    const store = () => calls++;
    const error = new PluginError({ code: 'bad_response', message: 'x' });
    await drain(capture(parts([{ type: 'text-delta', delta: 'a' }, { type: 'error', error }]), store));
    await drain(capture(parts([{ type: 'text-delta', delta: 'a' }]), store));
    await expect(drain(capture(parts([{ type: 'text-delta', delta: 'a' }], { throwAfter: true }), store))).rejects.toThrow('boom');
    await drain(capture(parts([{ type: 'finish', finishReason: 'content_filter', usage: { promptTokens: 1, completionTokens: 0 } }]), store));
    for await (const _ of capture(parts([{ type: 'text-delta', delta: 'a' }, finish]), store)) break;
    expect(calls).toBe(0);
  });

  it('replays copies, so a consumer cannot change the cached answer', async () => {
    const cached = answer();
    const out = await drain(replay(cached));
    (out[0] as { delta: string }).delta = 'changed';
    expect((cached.parts[0] as { delta: string }).delta).toBe('hi');
    expect(compact([{ type: 'reasoning-delta', delta: 'x' }, { type: 'text-delta', delta: 'y' }])).toHaveLength(2);
  });
});

describe('parseCacheControl', () => {
  it('reads no-cache and no-store from Cache-Control and Pragma', () => {
    expect(parseCacheControl(undefined)).toBeUndefined();
    expect(parseCacheControl('max-age=0')).toBeUndefined();
    expect(parseCacheControl('No-Cache')).toEqual({ noCache: true });
    expect(parseCacheControl('private, no-store')).toEqual({ noStore: true });
    expect(parseCacheControl(['no-cache', 'no-store'])).toEqual({ noCache: true, noStore: true });
    expect(parseCacheControl(null, 'no-cache')).toEqual({ noCache: true });
  });
});

describe('Coalescer', () => {
  /** A producer whose parts the test releases one by one. */
  function controlled() {
    const queue: Array<(v: IteratorResult<string>) => void> = [];
    let calls = 0;
    let signal: AbortSignal | undefined;
    const pending: string[] = [];
    const produce = async (s: AbortSignal) => {
      calls++;
      signal = s;
      return {
        info: 'head',
        parts: {
          [Symbol.asyncIterator]: () => ({
            next: () =>
              new Promise<IteratorResult<string>>((resolve) => {
                const value = pending.shift();
                if (value !== undefined) resolve(value === '<end>' ? { done: true, value: undefined } : { done: false, value });
                else queue.push(resolve);
              }),
          }),
        },
      };
    };
    const push = (value: string) => {
      const waiting = queue.shift();
      if (waiting) waiting(value === '<end>' ? { done: true, value: undefined } : { done: false, value });
      else pending.push(value);
    };
    return { produce, push, calls: () => calls, signal: () => signal };
  }

  const tick = () => new Promise((r) => setImmediate(r));

  it('runs one producer for identical requests; a late joiner gets earlier parts, then the rest', async () => {
    const co = new Coalescer<string, string>(() => new Error('aborted'));
    const p = controlled();
    const leader = await co.run('k', p.produce, new AbortController().signal);
    const leaderParts = drain(leader.parts);
    p.push('a');
    p.push('b');
    await tick();
    const follower = await co.join('k', new AbortController().signal)!;
    expect(follower.info).toBe('head');
    const followerParts = drain(follower.parts);
    p.push('c');
    p.push('<end>');
    expect(await leaderParts).toEqual(['a', 'b', 'c']);
    expect(await followerParts).toEqual(['a', 'b', 'c']);
    expect(p.calls()).toBe(1);
    expect(co.size).toBe(0);
    expect(co.join('k', new AbortController().signal)).toBeUndefined();
  });

  it('keeps going while one subscriber remains; aborts upstream when the last one leaves', async () => {
    const co = new Coalescer<string, string>(() => new Error('aborted'));
    const p = controlled();
    const leaderAbort = new AbortController();
    const followerAbort = new AbortController();
    await co.run('k', p.produce, leaderAbort.signal);
    await co.join('k', followerAbort.signal);
    leaderAbort.abort();
    expect(p.signal()!.aborted).toBe(false);
    followerAbort.abort();
    expect(p.signal()!.aborted).toBe(true);
    // A torn-down flight is not joined: the next identical request starts afresh.
    expect(co.join('k', new AbortController().signal)).toBeUndefined();
  });

  it('gives every subscriber the producer failure before the first part', async () => {
    const co = new Coalescer<string, string>(() => new Error('aborted'));
    let fail!: (e: Error) => void;
    const produce = () => new Promise<never>((_, reject) => (fail = reject));
    const leader = co.run('k', produce, new AbortController().signal);
    const follower = co.join('k', new AbortController().signal)!;
    fail(new Error('no model'));
    await expect(leader).rejects.toThrow('no model');
    await expect(follower).rejects.toThrow('no model');
    expect(co.size).toBe(0);
  });

  it('rejects a subscriber whose client leaves before the first part with the abort error', async () => {
    const co = new Coalescer<string, string>(() => new Error('client gone'));
    const produce = () => new Promise<never>(() => {});
    const stay = new AbortController();
    void co.run('k', produce, stay.signal).catch(() => {});
    const leaving = new AbortController();
    const joined = co.join('k', leaving.signal)!;
    leaving.abort();
    await expect(joined).rejects.toThrow('client gone');
    stay.abort();
  });
});

describe('SemanticCache', () => {
  const vectors: Record<string, number[]> = {
    'reverse a string': [1, 0, 0],
    'reverse the string': [0.95, 0.1, 0],
    'sort a list': [0, 1, 0],
  };
  const embed = async (text: string) => vectors[text] ?? [0, 0, 1];

  it('finds a similar prompt in the same partition only, above the threshold', async () => {
    const c = clock();
    const cache = new SemanticCache({ index: new InlineSemanticIndex(), embed, threshold: 0.85, maxSize: 10, ttlMs: 1000, now: c.now, embedTimeoutMs: 1000 });
    const signal = new AbortController().signal;
    const miss = await cache.lookup('reverse a string', 'p1', signal);
    expect(miss.answer).toBeUndefined();
    cache.store('id1', 'reverse a string', 'p1', answer('m1', 'def rev'), miss.vector);
    const hit = await cache.lookup('reverse the string', 'p1', signal);
    expect(hit.answer?.parts[0]).toEqual({ type: 'text-delta', delta: 'def rev' });
    expect(hit.similarity).toBeGreaterThan(0.85);
    expect((await cache.lookup('reverse the string', 'p2', signal)).answer).toBeUndefined();
    expect((await cache.lookup('sort a list', 'p1', signal)).answer).toBeUndefined();
    c.advance(1000);
    expect((await cache.lookup('reverse the string', 'p1', signal)).answer).toBeUndefined();
    await cache.close();
  });

  it('evicts from the index with the LRU, invalidates by model, and embeds in the background when storing without a vector', async () => {
    const index = new InlineSemanticIndex();
    const cache = new SemanticCache({ index, embed, threshold: 0.85, maxSize: 1, ttlMs: 60_000, embedTimeoutMs: 1000 });
    cache.store('a', 'reverse a string', 'p', answer('m1'), [1, 0, 0]);
    cache.store('b', 'sort a list', 'p', answer('m2'), [0, 1, 0]);
    expect(index.size).toBe(1);
    cache.store('c', 'reverse a string', 'p', answer('m1'));
    await new Promise((r) => setImmediate(r));
    expect(cache.size).toBe(1);
    expect(cache.invalidate('m2')).toBe(0);
    expect(cache.invalidate('m1')).toBe(1);
    expect(index.size).toBe(0);
    await cache.close();
  });

  it('reports a failed embedding instead of throwing from store', async () => {
    const errors: string[] = [];
    const cache = new SemanticCache({
      index: new InlineSemanticIndex(),
      embed: async () => {
        throw new Error('embedder down');
      },
      threshold: 0.85,
      maxSize: 5,
      ttlMs: 60_000,
      embedTimeoutMs: 1000,
      onError: (e, during) => errors.push(`${during}: ${(e as Error).message}`),
    });
    cache.store('a', 'x', 'p', answer());
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['store: embedder down']);
    await expect(cache.lookup('x', 'p', new AbortController().signal)).rejects.toThrow('embedder down');
    await cache.close();
  });
});
