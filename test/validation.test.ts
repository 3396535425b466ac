/**
 * The shared request rules (src/core/validate.ts) that REST and RPC both call, the incremental
 * JSON depth scan, the classification copy without control characters, whitelisted admin query
 * strings (over real HTTP), and the response schemas keeping every field clients read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ChatMessage } from '../src/plugin-api/index.js';
import type { RouteRequest } from '../src/core/types.js';
import {
  checkFeedback,
  checkRouteRequest,
  classificationMessages,
  jsonDepth,
  jsonTextTooDeep,
  MAX_JSON_DEPTH,
  stripControlChars,
} from '../src/core/validate.js';
import { listQueryProperties, sortOf, whitelistedQuery } from '../src/server/rest/query.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const limits = { maxMessages: 3, maxPromptChars: 10 };
const req = (over: Partial<RouteRequest> = {}): RouteRequest => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], protocol: 'rest', ...over });
const deep = (depth: number): Record<string, unknown> => {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { x: v };
  return v;
};

describe('checkRouteRequest: the rules both doors share', () => {
  const cases: Array<[string, Partial<RouteRequest>, string, RegExp]> = [
    ['no messages', { messages: [] }, 'messages', /at least one/],
    ['too many messages', { messages: Array.from({ length: 4 }, () => ({ role: 'user' as const, content: 'x' })) }, 'messages', /4 messages is more than the limit of 3/],
    ['a long message', { messages: [{ role: 'user', content: 'x'.repeat(11) }] }, 'messages[0].content', /11 characters, at most 10/],
    ['long text parts together', { messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(6) }, { type: 'text', text: 'y'.repeat(6) }] }] }, 'messages[0].content', /12 characters/],
    ['temperature NaN', { temperature: Number.NaN }, 'temperature', /NaN is outside 0\.\.2/],
    ['temperature Infinity', { temperature: Number.POSITIVE_INFINITY }, 'temperature', /outside/],
    ['top_p 1.01', { topP: 1.01 }, 'top_p', /outside 0\.\.1/],
    ['presence_penalty -3', { presencePenalty: -3 }, 'presence_penalty', /outside -2\.\.2/],
    ['quality_preference 2', { qualityPreference: 2 }, 'quality_preference', /outside 0\.\.1/],
    ['max_tokens 0', { maxTokens: 0 }, 'max_tokens', /at least 1/],
    ['max_tokens 2.5', { maxTokens: 2.5 }, 'max_tokens', /not an integer/],
    ['max_tokens past int32', { maxTokens: 2 ** 31 }, 'max_tokens', /at most 2147483647/],
    ['an inexact seed', { seed: 2 ** 60 }, 'seed', /at most/],
    ['five stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /at most 4/],
    ['deep tool parameters', { tools: [{ name: 'f', parameters: deep(MAX_JSON_DEPTH + 1) }] }, 'tools[0].parameters', /nested more than 64/],
    ['a deep response schema', { responseFormat: { type: 'json_schema', schema: deep(100) } }, 'response_format.json_schema', /nested/],
    ['deep provider options', { providerOptions: { ollama: deep(80) } }, 'provider_options', /nested/],
    ['too many tools', { tools: Array.from({ length: 129 }, (_, i) => ({ name: `f${i}` })) }, 'tools', /129 tools, at most 128/],
  ];
  it.each(cases)('%s', (_name, over, param, message) => {
    const v = checkRouteRequest(req(over), limits);
    expect(v?.param).toBe(param);
    expect(v?.message).toMatch(message);
  });

  it('accepts the edges of every range', () => {
    expect(
      checkRouteRequest(
        req({ temperature: 2, topP: 0, presencePenalty: -2, frequencyPenalty: 2, qualityPreference: 1, maxTokens: 1, seed: -(2 ** 53 - 1), stop: ['a', 'b', 'c', 'd'], tools: [{ name: 'f', parameters: deep(MAX_JSON_DEPTH) }] }),
        limits,
      ),
    ).toBeUndefined();
  });

  it('bounds feedback the same way for both doors', () => {
    expect(checkFeedback({ responseId: 'r', score: 1.5 })?.param).toBe('score');
    expect(checkFeedback({ responseId: 'r', score: 0, comment: 'c'.repeat(2001) })?.param).toBe('comment');
    expect(checkFeedback({ responseId: 'r'.repeat(257), score: 0 })?.param).toBe('response_id');
    expect(checkFeedback({ responseId: 'r', score: -1, comment: 'fine' })).toBeUndefined();
  });
});

describe('JSON nesting', () => {
  it('measures parsed values without recursion', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth([[], { a: [1] }])).toBe(3);
    // Far deeper than the stack would allow with recursion: it stops counting past the limit.
    let v: unknown[] = [];
    for (let i = 0; i < 200_000; i++) v = [v];
    expect(jsonDepth(v, 64)).toBe(65);
  });

  it('scans text, skipping brackets inside strings and escaped quotes', () => {
    const text = JSON.stringify({ s: '[[[[{{{{\\"[[[\\', t: 'a\\\\', a: [[[1]]] });
    expect(jsonTextTooDeep(text, 4)).toBe(false);
    expect(jsonTextTooDeep(text, 3)).toBe(true);
    expect(jsonTextTooDeep('['.repeat(65) + ']'.repeat(65))).toBe(true);
    expect(jsonTextTooDeep('"unterminated [[[[[[')).toBe(false);
    expect(JSON.parse(text).a).toEqual([[[1]]]);
  });
});

describe('the classifiers read a copy without control characters', () => {
  it('returns the same array when nothing needs cleaning (no copy on the hot path)', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'plain 👍🏽 text\twith\nlines' }];
    expect(classificationMessages(messages)).toBe(messages);
  });

  it('cleans strings and text parts without touching the original', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'ok' },
      { role: 'user', content: [{ type: 'text', text: 'wr\u0000ite \u001b[1mcode\u001b[0m \ud800' }, { type: 'image', url: 'https://x/y.png' }] },
    ];
    const copy = structuredClone(messages);
    const clean = classificationMessages(messages);
    expect(clean[0]).toBe(messages[0]);
    expect(clean[1]!.content).toEqual([{ type: 'text', text: 'write code \ufffd' }, { type: 'image', url: 'https://x/y.png' }]);
    expect(messages).toEqual(copy);
  });

  it('strips bidi overrides and C1 controls but keeps real text', () => {
    expect(stripControlChars('\u202eabc\u202c \u0085x')).toBe('abc x');
    expect(stripControlChars('שלום')).toBe('שלום');
  });
});

// ---------------------------------------------------------------------------------------------

describe('whitelisted admin query strings over HTTP', () => {
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = Fastify();
    const query = whitelistedQuery({ ...listQueryProperties(['name', 'created_at'], 100), q: { type: 'string', maxLength: 50 } });
    app.get('/things', { preValidation: query.preValidation, schema: query.schema }, async (request) => {
      const q = request.query as { sort?: string; limit?: number; offset?: number };
      return { sort: sortOf(q.sort, 'name'), limit: q.limit ?? 10, offset: q.offset ?? 0 };
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('accepts listed fields, descending sorts and limits in range', async () => {
    const res = await fetch(`${base}/things?sort=-created_at&limit=100&offset=5`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sort: { field: 'created_at', descending: true }, limit: 100, offset: 5 });
  });

  const refused: Array<[string, string, string | null]> = [
    ['an unknown parameter', 'order=name', 'order'],
    ['SQL in sort', 'sort=name%3B%20DROP%20TABLE%20models', null],
    ['an unlisted sort field', 'sort=password', null],
    ['a limit above the maximum', 'limit=101', null],
    ['a negative offset', 'offset=-1', null],
    ['a limit that is no number', 'limit=10%20OR%201%3D1', null],
    ['prototype pollution', '__proto__%5Bx%5D=1', '__proto__[x]'],
  ];
  it.each(refused)('refuses %s with a 400', async (_name, qs, param) => {
    const res = await fetch(`${base}/things?${qs}`);
    expect(res.status).toBe(400);
    if (param) {
      const body = (await res.json()) as { error: { code: string; param: string } };
      expect(body.error).toMatchObject({ code: 'unknown_parameter', param });
    }
  });
});

describe('response schemas keep every field clients read', () => {
  let sim: RunningSimulator;
  let router: TestRouter;

  beforeAll(async () => {
    sim = await startOllamaSimulator({ models: [{ id: 'qwen3:8b', parameterSizeB: 8, capabilities: { tools: true, thinking: true } }] });
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_EXPOSE_MODELS: 'true', ROUTER_CACHE_ENABLED: 'false' });
    for (let i = 0; i < 100 && !router.core.registry.resolve('qwen3:8b'); i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await router?.stop();
    await sim?.close();
  });

  it('chat.completion with tool calls: every OpenAI field, nulls included', async () => {
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'qwen3:8b',
        messages: [{ role: 'user', content: 'What is the weather in Paris? Use the tool.' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        tool_choice: 'required',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(Object.keys(body).sort()).toEqual(['choices', 'created', 'id', 'model', 'object', 'usage']);
    const choice = body.choices[0];
    expect(Object.keys(choice).sort()).toEqual(['finish_reason', 'index', 'logprobs', 'message']);
    expect(choice.logprobs).toBeNull();
    expect(choice.message.refusal).toBeNull();
    expect(choice.message.role).toBe('assistant');
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls[0]).toMatchObject({ id: expect.any(String), type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } });
    expect(Object.keys(body.usage).sort()).toEqual(['completion_tokens', 'prompt_tokens', 'total_tokens']);
  });

  it('/v1/models and /v1/models/{id}', async () => {
    const list = (await (await fetch(`${router.url}/v1/models`)).json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(list.object).toBe('list');
    for (const m of list.data) expect(Object.keys(m).sort()).toEqual(['created', 'id', 'object', 'owned_by']);
    const one = (await (await fetch(`${router.url}/v1/models/qwen3:8b`)).json()) as Record<string, unknown>;
    expect(one).toMatchObject({ id: 'qwen3:8b', object: 'model', owned_by: expect.any(String), created: expect.any(Number) });
  });

  it('the explanation and the plugin list', async () => {
    const e = (await (await fetch(`${router.url}/admin/explain?prompt=${encodeURIComponent('write a sorting function in Go')}`)).json()) as Record<string, any>;
    expect(Object.keys(e)).toEqual(expect.arrayContaining(['category', 'complexity', 'complexity_score', 'confidence', 'classifier', 'needs', 'quality_preference', 'selected_model', 'candidates']));
    expect(e.candidates[0]).toMatchObject({ model: 'qwen3:8b', excluded: false, factors: expect.objectContaining({ capability: expect.any(Number), size_penalty: expect.any(Number) }) });
    const p = (await (await fetch(`${router.url}/admin/plugins`)).json()) as { plugins: Array<Record<string, unknown>> };
    expect(p.plugins.find((x) => x.name === 'ollama')).toMatchObject({ kind: 'backend', source: 'builtin', location: null, instances: expect.any(Array) });
  });

  it('classifies a prompt riddled with control characters like the clean prompt', async () => {
    const explain = async (prompt: string) => {
      const res = await fetch(`${router.url}/admin/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: prompt }] }) });
      const e = (await res.json()) as { category: string; complexity: string; complexity_score: number; confidence: number };
      // The classification only: context needs are measured on the real (unaltered) prompt.
      return { category: e.category, complexity: e.complexity, score: e.complexity_score, confidence: e.confidence };
    };
    const clean = await explain('Write a Python function that reverses a linked list and explain its complexity.');
    const noisy = await explain('Wr\u0000ite a Py\u0000thon func\u0007tion that \u001b[1mreverses\u001b[0m a lin\u202eked list and explain its comp\u0000lexity.');
    expect(noisy).toEqual(clean);
  });
});
