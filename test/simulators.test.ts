/**
 * The simulators as a plain fetch client sees them: wire shapes (JSON, SSE, NDJSON), tools, vision,
 * thinking, embeddings, load/unload, failure modes and a clean close().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startLlamaCppSimulator,
  startOllamaSimulator,
  startOpenAISimulator,
  type FailureMode,
  type RunningSimulator,
  type SimModel,
} from '../src/simulators/index.js';

// ---------------------------------------------------------------------------------------------
// Helpers

const post = (url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });

/** Parses an SSE body into its `data:` payloads (JSON objects, or the literal "[DONE]"). */
function sse(text: string): unknown[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter((e) => e.length > 0)
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      const data = e.slice(6);
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}

function ndjson(text: string): Array<Record<string, any>> {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

const cosine = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

/** The first fenced code block of an answer. */
const codeOf = (text: string): string | undefined => /```[a-z]*\n([\s\S]*?)```/.exec(text)?.[1];
const parses = (js: string): boolean => {
  try {
    new Function(js); // parse only; never called
    return true;
  } catch {
    return false;
  }
};

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
};

const MODELS: SimModel[] = [
  { id: 'smart', capabilities: { tools: true, vision: true }, quality: { coding: 0.95, reasoning: 0.95, creativity: 0.95, general: 0.95 } },
  { id: 'dumb', quality: { coding: 0.1, reasoning: 0.1, creativity: 0.1, general: 0.1 } },
  { id: 'thinker', capabilities: { thinking: true, tools: true } },
  { id: 'embedder', capabilities: { embeddings: true }, embeddingDim: 128 },
];

/** Every failure mode, as a plain fetch client sees it. `kind` decides the expected error body. */
async function expectFailures(sim: RunningSimulator, chatUrl: string, body: Record<string, unknown>, kind: 'openai' | 'llamacpp' | 'ollama', streamLine: 'sse' | 'ndjson'): Promise<void> {
  const model = body.model as string;
  const check = async (mode: FailureMode, fn: () => Promise<void>): Promise<void> => {
    sim.setFailure(mode, model);
    try {
      await fn();
    } finally {
      sim.setFailure('none');
    }
  };
  await check('reset', async () => {
    await expect(post(chatUrl, body)).rejects.toThrow();
  });
  await check('http500', async () => {
    const r = await post(chatUrl, body);
    expect(r.status).toBe(500);
    const j = (await r.json()) as any;
    if (kind === 'ollama') expect(typeof j.error).toBe('string');
    else if (kind === 'llamacpp') expect(j.error).toMatchObject({ code: 500, type: 'server_error' });
    else expect(Object.keys(j.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  });
  await check('html-error', async () => {
    const r = await post(chatUrl, body);
    expect(r.status).toBe(502);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(await r.text()).toContain('502 Bad Gateway');
  });
  await check('overloaded', async () => {
    const r = await post(chatUrl, body);
    expect(r.status).toBe(kind === 'ollama' ? 503 : 429);
    expect(r.headers.get('retry-after')).toBe('1');
    const j = (await r.json()) as any;
    expect(j.error).toBeTruthy();
  });
  await check('malformed', async () => {
    const r = await post(chatUrl, { ...body, stream: false });
    expect(r.status).toBe(200);
    await expect(r.json()).rejects.toThrow();
    const s = await post(chatUrl, { ...body, stream: true });
    const text = await s.text();
    const bad = (streamLine === 'sse' ? text.split('\n\n').filter(Boolean).map((e) => e.slice(6)) : text.trimEnd().split('\n')).filter((l) => {
      if (l === '[DONE]') return false;
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad.length).toBe(1);
  });
  await check('cut-stream', async () => {
    const r = await post(chatUrl, { ...body, stream: true });
    expect(r.status).toBe(200);
    await expect(r.text()).rejects.toThrow(); // the body ends without the final chunk
  });
  await check('slow-first-token', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const pending = post(chatUrl, body, {}, ac.signal);
    const first = await Promise.race([pending.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(first).toBe('waiting');
    ac.abort();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
  });
  await check('hang', async () => {
    const ac = new AbortController();
    const pending = post(chatUrl, body, {}, ac.signal);
    const first = await Promise.race([pending.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 200))]);
    expect(first).toBe('waiting');
    ac.abort();
    await expect(pending).rejects.toThrow();
  });
  // A per-model failure leaves the other models alone.
  sim.setFailure('http500', model);
  try {
    expect((await post(chatUrl, { ...body, model: 'dumb', stream: false })).status).toBe(200);
  } finally {
    sim.setFailure('none');
  }
}

// ---------------------------------------------------------------------------------------------
// OpenAI

describe('OpenAI simulator', () => {
  let sim: RunningSimulator;
  let v1: string;
  const auth = { authorization: 'Bearer sk-test-123' };
  beforeAll(async () => {
    sim = await startOpenAISimulator({ models: MODELS, apiKey: 'sk-test-123' });
    v1 = `${sim.url}/v1`;
  });
  afterAll(() => sim.close());

  it('lists models and rejects a wrong key in the OpenAI error shape', async () => {
    const r = await fetch(`${v1}/models`, { headers: auth });
    expect(await r.json()).toEqual({
      object: 'list',
      data: MODELS.map((m) => ({ id: m.id, object: 'model', created: expect.any(Number), owned_by: expect.any(String) })),
    });
    expect(((await (await fetch(`${v1}/models/smart`, { headers: auth })).json()) as any).id).toBe('smart');
    const bad = await fetch(`${v1}/models`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const missing = await post(`${v1}/chat/completions`, { model: 'nope', messages: [{ role: 'user', content: 'hi' }] }, auth);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('model_not_found');
    expect(sim.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'nope' } });
  });

  it('answers a chat completion in the exact shape, deterministically', async () => {
    const body = { model: 'smart', temperature: 0, messages: [{ role: 'user', content: 'Write a JavaScript function to reverse a string' }] };
    const j = (await (await post(`${v1}/chat/completions`, body, auth)).json()) as any;
    expect(j).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'smart',
      system_fingerprint: expect.any(String),
      service_tier: 'default',
      choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String), refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: expect.objectContaining({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) }),
    });
    expect(j.usage.total_tokens).toBe(j.usage.prompt_tokens + j.usage.completion_tokens);
    const again = (await (await post(`${v1}/chat/completions`, body, auth)).json()) as any;
    expect(again.choices[0].message.content).toBe(j.choices[0].message.content);
  });

  it('streams SSE chunks with role first, usage last and [DONE]', async () => {
    const body = { model: 'smart', messages: [{ role: 'user', content: 'What is 12 * 7 + 3?' }] };
    const full = (await (await post(`${v1}/chat/completions`, body, auth)).json()) as any;
    const r = await post(`${v1}/chat/completions`, { ...body, stream: true, stream_options: { include_usage: true } }, auth);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const events = sse(await r.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1) as any[];
    const id = chunks[0].id;
    for (const c of chunks) expect(c).toMatchObject({ id, object: 'chat.completion.chunk', created: chunks[0].created, model: 'smart' });
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual(full.usage);
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    const last = chunks.at(-2);
    expect(last.choices[0].finish_reason).toBe('stop');
    const text = chunks.slice(0, -1).map((c) => c.choices[0].delta.content ?? '').join('');
    expect(text).toBe(full.choices[0].message.content);
    expect(text).toContain('**Final answer: 87**');
  });

  it('honours max_tokens and stop sequences', async () => {
    const base = { model: 'smart', messages: [{ role: 'user', content: 'Explain how photosynthesis works in plants' }] };
    const cut = (await (await post(`${v1}/chat/completions`, { ...base, max_tokens: 5 }, auth)).json()) as any;
    expect(cut.choices[0].finish_reason).toBe('length');
    expect(cut.usage.completion_tokens).toBe(5);
    const stopped = (await (await post(`${v1}/chat/completions`, { ...base, stop: ['Key points'] }, auth)).json()) as any;
    expect(stopped.choices[0].finish_reason).toBe('stop');
    expect(stopped.choices[0].message.content).not.toContain('Key points');
  });

  it('makes good models better than bad ones', async () => {
    const ask = async (model: string, content: string): Promise<string> =>
      ((await (await post(`${v1}/chat/completions`, { model, messages: [{ role: 'user', content }] }, auth)).json()) as any).choices[0].message.content;
    const goodCode = codeOf(await ask('smart', 'Write a JavaScript function that checks if a number is prime'));
    expect(goodCode && parses(goodCode)).toBe(true);
    const badCode = await ask('dumb', 'Write a JavaScript function that checks if a number is prime');
    const bc = codeOf(badCode);
    expect(bc === undefined || !parses(bc)).toBe(true);
    const good = await ask('smart', 'Write a short story about a lighthouse keeper');
    const bad = await ask('dumb', 'Write a short story about a lighthouse keeper');
    expect(good.length).toBeGreaterThan(bad.length * 3);
    // An explicit hint in the system prompt overrides detection.
    const hinted = (await (
      await post(`${v1}/chat/completions`, { model: 'smart', messages: [{ role: 'system', content: '[category:reasoning]' }, { role: 'user', content: 'hello there' }] }, auth)
    ).json()) as any;
    expect(hinted.choices[0].message.content).toContain('Final answer');
  });

  it('calls tools (non-stream and streamed deltas) and answers after the tool result', async () => {
    const body = { model: 'smart', tools: [weatherTool], messages: [{ role: 'user', content: 'What is the weather in Paris for 3 days?' }] };
    const j = (await (await post(`${v1}/chat/completions`, body, auth)).json()) as any;
    const choice = j.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls[0];
    expect(call).toMatchObject({ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius', days: 3 });

    const events = sse(await (await post(`${v1}/chat/completions`, { ...body, stream: true }, auth)).text()).slice(0, -1) as any[];
    const deltas = events.flatMap((e) => e.choices[0].delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.any(String), type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(deltas.slice(1).every((d: any) => d.index === 0 && d.id === undefined)).toBe(true);
    expect(JSON.parse(deltas.map((d: any) => d.function.arguments).join(''))).toEqual(JSON.parse(call.function.arguments));
    expect(events.at(-1).choices[0].finish_reason).toBe('tool_calls');

    const follow = (await (
      await post(
        `${v1}/chat/completions`,
        { ...body, messages: [...body.messages, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' }] },
        auth,
      )
    ).json()) as any;
    expect(follow.choices[0].finish_reason).toBe('stop');
    expect(follow.choices[0].message.content).toContain('temp');

    const refused = await post(`${v1}/chat/completions`, { ...body, model: 'dumb' }, auth);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error.message).toContain('does not support tools');
  });

  it('rejects images for non-vision models and describes them for vision models', async () => {
    const messages = [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }];
    const no = await post(`${v1}/chat/completions`, { model: 'dumb', messages }, auth);
    expect(no.status).toBe(400);
    expect(Object.keys(((await no.json()) as any).error).sort()).toEqual(['code', 'message', 'param', 'type']);
    const yes = (await (await post(`${v1}/chat/completions`, { model: 'smart', messages }, auth)).json()) as any;
    expect(yes.choices[0].message.content).toMatch(/^The image shows/);
  });

  it('returns reasoning_content for thinking models', async () => {
    const j = (await (await post(`${v1}/chat/completions`, { model: 'thinker', messages: [{ role: 'user', content: 'Why is the sky blue?' }] }, auth)).json()) as any;
    expect(j.choices[0].message.reasoning_content.length).toBeGreaterThan(10);
    expect(j.usage.completion_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    const events = sse(await (await post(`${v1}/chat/completions`, { model: 'thinker', stream: true, messages: [{ role: 'user', content: 'Why is the sky blue?' }] }, auth)).text()).slice(0, -1) as any[];
    const firstReasoning = events.findIndex((e) => e.choices[0].delta.reasoning_content);
    const firstContent = events.findIndex((e) => e.choices[0].delta.content);
    expect(firstReasoning).toBeGreaterThan(0);
    expect(firstContent).toBeGreaterThan(firstReasoning);
  });

  it('embeds: float and base64, similar texts closer than unrelated ones', async () => {
    const texts = ['How do I reverse a string in JavaScript?', 'What is the way to reverse a JS string?', 'Best pizza toppings for a summer party'];
    const r = (await (await post(`${v1}/embeddings`, { model: 'embedder', input: texts }, auth)).json()) as any;
    expect(r).toMatchObject({ object: 'list', model: 'embedder', usage: { prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) } });
    const [a, b, c] = r.data.map((d: any, i: number) => {
      expect(d).toMatchObject({ object: 'embedding', index: i });
      expect(d.embedding).toHaveLength(128);
      expect(Math.abs(cosine(d.embedding, d.embedding) - 1)).toBeLessThan(1e-9);
      return d.embedding as number[];
    });
    expect(cosine(a, b)).toBeGreaterThan(0.5);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.3);
    const b64 = (await (await post(`${v1}/embeddings`, { model: 'embedder', input: texts[0], encoding_format: 'base64' }, auth)).json()) as any;
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    const decoded = Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
    decoded.forEach((v, i) => expect(v).toBeCloseTo(a[i], 6));
    expect((await post(`${v1}/embeddings`, { model: 'smart', input: 'x' }, auth)).status).toBe(400);
  });
});

// The auth header is required above; the failure helper posts without it, so run failures on an open sim.
describe('OpenAI simulator failures (no api key)', () => {
  it('injects every failure mode', async () => {
    const sim = await startOpenAISimulator({ models: MODELS });
    try {
      await expectFailures(sim, `${sim.url}/v1/chat/completions`, { model: 'smart', messages: [{ role: 'user', content: 'Tell me about rivers' }] }, 'openai', 'sse');
    } finally {
      await sim.close();
    }
  }, 15_000);
});

// ---------------------------------------------------------------------------------------------
// llama.cpp

describe('llama.cpp simulator (single)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startLlamaCppSimulator({ models: [{ id: 'qwen3-8b', capabilities: { thinking: true, tools: true }, contextLength: 32768, parameterSizeB: 8.2 }], apiKey: 'k' });
  });
  afterAll(() => sim.close());
  const auth = { authorization: 'Bearer k' };

  it('serves /health publicly and /v1/models, /props, /slots', async () => {
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ status: 'ok' });
    const models = (await (await fetch(`${sim.url}/v1/models`)).json()) as any;
    expect(models.data).toHaveLength(1);
    expect(models.data[0]).toMatchObject({ id: 'qwen3-8b', object: 'model', owned_by: 'llamacpp', meta: { n_ctx_train: 32768, n_params: 8_200_000_000, size: expect.any(Number) } });
    expect(((await (await fetch(`${sim.url}/models`)).json()) as any).data[0].id).toBe('qwen3-8b');
    const denied = await fetch(`${sim.url}/props`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } });
    const props = (await (await fetch(`${sim.url}/props`, { headers: auth })).json()) as any;
    expect(props).toMatchObject({ total_slots: expect.any(Number), model_path: expect.stringContaining('.gguf'), modalities: { vision: false } });
    expect(props.default_generation_settings.n_ctx).toBe(32768);
    const slots = (await (await fetch(`${sim.url}/slots`, { headers: auth })).json()) as any[];
    expect(slots[0]).toMatchObject({ id: 0, is_processing: false });
    expect(sim.loaded()).toEqual(['qwen3-8b']);
  });

  it('answers chat with timings and reasoning_content, streamed and not', async () => {
    const body = { model: 'anything', messages: [{ role: 'user', content: 'Solve: 15 + 27' }] };
    const j = (await (await post(`${sim.url}/v1/chat/completions`, body, auth)).json()) as any;
    expect(j.choices[0].message.reasoning_content).toBeTruthy();
    expect(j.choices[0].message.content).toContain('42');
    expect(j.timings).toMatchObject({ prompt_n: expect.any(Number), predicted_n: j.usage.completion_tokens, predicted_per_second: expect.any(Number) });
    expect(j.usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
    const events = sse(await (await post(`${sim.url}/v1/chat/completions`, { ...body, stream: true }, auth)).text());
    expect(events.at(-1)).toBe('[DONE]');
    const last = events.at(-2) as any;
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(last.timings.predicted_n).toBe(j.timings.predicted_n);
    const noThink = (await (await post(`${sim.url}/v1/chat/completions`, { ...body, chat_template_kwargs: { enable_thinking: false } }, auth)).json()) as any;
    expect(noThink.choices[0].message.reasoning_content).toBeUndefined();
  });

  it('answers /completion and refuses embeddings without --embeddings', async () => {
    const c = (await (await post(`${sim.url}/completion`, { prompt: 'Once upon a time', n_predict: 4 }, auth)).json()) as any;
    expect(c).toMatchObject({ stop: true, tokens_predicted: 4, stop_type: 'limit', timings: expect.any(Object) });
    const e = await post(`${sim.url}/v1/embeddings`, { input: 'x' }, auth);
    expect(e.status).toBe(501);
    expect(((await e.json()) as any).error).toMatchObject({ code: 501, type: 'not_supported_error' });
  });

  it('injects failure modes in the llama.cpp shape', async () => {
    const open = await startLlamaCppSimulator({ models: MODELS.slice(0, 2), mode: 'router' });
    try {
      await expectFailures(open, `${open.url}/v1/chat/completions`, { model: 'smart', messages: [{ role: 'user', content: 'Tell me about rivers' }] }, 'llamacpp', 'sse');
    } finally {
      await open.close();
    }
  }, 15_000);
});

describe('llama.cpp simulator (swap, router)', () => {
  it('swaps models like llama-swap', async () => {
    const sim = await startLlamaCppSimulator({ mode: 'swap', models: MODELS });
    try {
      expect(await (await fetch(`${sim.url}/health`)).text()).toBe('OK');
      expect(((await (await fetch(`${sim.url}/v1/models`)).json()) as any).data.map((m: any) => m.id)).toEqual(MODELS.map((m) => m.id));
      expect(await (await fetch(`${sim.url}/running`)).json()).toEqual({ running: [] });
      await post(`${sim.url}/v1/chat/completions`, { model: 'smart', messages: [{ role: 'user', content: 'hi' }] });
      expect((await (await fetch(`${sim.url}/running`)).json()) as any).toMatchObject({ running: [{ model: 'smart', state: 'ready' }] });
      await post(`${sim.url}/v1/chat/completions`, { model: 'dumb', messages: [{ role: 'user', content: 'hi' }] });
      expect(sim.loaded()).toEqual(['dumb']);
      const props = (await (await fetch(`${sim.url}/upstream/thinker/props`)).json()) as any;
      expect(props.model_path).toContain('thinker');
      expect(sim.loaded()).toEqual(['thinker']);
      const unknown = await post(`${sim.url}/v1/chat/completions`, { model: 'ghost', messages: [{ role: 'user', content: 'hi' }] });
      expect(unknown.status).toBe(404);
      expect(await (await fetch(`${sim.url}/unload`)).text()).toBe('OK');
      expect(sim.loaded()).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it('loads and unloads like llama-server router mode', async () => {
    const sim = await startLlamaCppSimulator({ mode: 'router', models: MODELS });
    try {
      const list = async (): Promise<Record<string, string>> =>
        Object.fromEntries(((await (await fetch(`${sim.url}/models`)).json()) as any).data.map((m: any) => [m.id, m.status.value]));
      expect(Object.values(await list())).toEqual(['unloaded', 'unloaded', 'unloaded', 'unloaded']);
      expect(await (await post(`${sim.url}/models/load`, { model: 'dumb' })).json()).toEqual({ success: true });
      expect((await list()).dumb).toBe('loaded');
      await post(`${sim.url}/v1/chat/completions`, { model: 'smart', messages: [{ role: 'user', content: 'hi' }] });
      expect(sim.loaded().sort()).toEqual(['dumb', 'smart']);
      expect(await (await post(`${sim.url}/models/unload`, { model: 'dumb' })).json()).toEqual({ success: true });
      expect(sim.loaded()).toEqual(['smart']);
      const e = (await (await post(`${sim.url}/v1/embeddings`, { model: 'embedder', input: ['a cat', 'a dog'] })).json()) as any;
      expect(e.data[0].embedding).toHaveLength(128);
    } finally {
      await sim.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Ollama

describe('Ollama simulator', () => {
  let sim: RunningSimulator;
  const OLLAMA: SimModel[] = [
    { id: 'qwen2.5-coder:7b', family: 'qwen2', parameterSizeB: 7.6, capabilities: { tools: true }, contextLength: 32768, quality: { coding: 0.9 } },
    { id: 'llava:latest', capabilities: { vision: true } },
    { id: 'qwen3:8b', capabilities: { thinking: true, tools: true } },
    { id: 'nomic-embed-text:latest', capabilities: { embeddings: true }, embeddingDim: 96 },
    { id: 'slow:1b', tokensPerSecond: 100, firstTokenMs: 150 },
    { id: 'smart', capabilities: { tools: true } },
    { id: 'dumb' },
  ];
  beforeAll(async () => {
    sim = await startOllamaSimulator({ models: OLLAMA });
  });
  afterAll(() => sim.close());

  it('answers the liveness probe, version, tags and show', async () => {
    const root = await fetch(`${sim.url}/`);
    expect(await root.text()).toBe('Ollama is running');
    expect((await fetch(`${sim.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect(await (await fetch(`${sim.url}/api/version`)).json()).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    const tags = (await (await fetch(`${sim.url}/api/tags`)).json()) as any;
    expect(tags.models[0]).toEqual({
      name: 'qwen2.5-coder:7b',
      model: 'qwen2.5-coder:7b',
      modified_at: expect.any(String),
      size: expect.any(Number),
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      details: { parent_model: '', format: 'gguf', family: 'qwen2', families: ['qwen2'], parameter_size: '7.6B', quantization_level: 'Q4_K_M' },
    });
    const show = (await (await post(`${sim.url}/api/show`, { model: 'qwen2.5-coder:7b' })).json()) as any;
    expect(show.model_info['qwen2.context_length']).toBe(32768);
    expect(show.capabilities).toEqual(['completion', 'tools']);
    expect(((await (await post(`${sim.url}/api/show`, { name: 'nomic-embed-text' })).json()) as any).capabilities).toEqual(['embedding']);
    const missing = await post(`${sim.url}/api/show`, { model: 'ghost' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'ghost' not found" });
  });

  it('streams NDJSON chat with final metrics, and answers stream:false', async () => {
    const body = { model: 'qwen2.5-coder:7b', messages: [{ role: 'user', content: 'Write a python function for fibonacci' }] };
    const r = await post(`${sim.url}/api/chat`, body);
    expect(r.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = ndjson(await r.text());
    for (const l of lines.slice(0, -1)) expect(l).toEqual({ model: 'qwen2.5-coder:7b', created_at: expect.any(String), message: { role: 'assistant', content: expect.any(String) }, done: false });
    const final = lines.at(-1)!;
    expect(final).toMatchObject({ done: true, done_reason: 'stop', message: { role: 'assistant', content: '' } });
    for (const k of ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration']) expect(Number.isInteger(final[k])).toBe(true);
    expect(final.eval_count).toBe(lines.length - 1);
    const one = (await (await post(`${sim.url}/api/chat`, { ...body, stream: false })).json()) as any;
    expect(one.message.content).toBe(lines.map((l) => l.message.content).join(''));
    expect(one.message.content).toContain('```python');
    const cut = (await (await post(`${sim.url}/api/chat`, { ...body, stream: false, options: { num_predict: 3 } })).json()) as any;
    expect(cut).toMatchObject({ done_reason: 'length', eval_count: 3 });
  });

  it('reports firstTokenMs and tokensPerSecond in timing and metrics', async () => {
    const t0 = Date.now();
    const r = await post(`${sim.url}/api/chat`, { model: 'slow:1b', messages: [{ role: 'user', content: 'hi there' }], options: { num_predict: 10 } });
    const reader = r.body!.getReader();
    await reader.read();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    const final = ndjson(text).at(-1)!;
    expect(final.eval_count).toBe(10);
    expect(final.eval_duration).toBe(100_000_000); // 10 tokens at 100 tokens/s
    expect(final.prompt_eval_duration).toBe(150_000_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(230);
  });

  it('loads and unloads models (chat and generate), visible in /api/ps and loaded()', async () => {
    const load = (await (await post(`${sim.url}/api/chat`, { model: 'dumb', messages: [] })).json()) as any;
    expect(load).toEqual({ model: 'dumb', created_at: expect.any(String), message: { role: 'assistant', content: '' }, done_reason: 'load', done: true });
    const ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as any;
    const entry = ps.models.find((m: any) => m.name === 'dumb');
    expect(entry).toMatchObject({ model: 'dumb', size: expect.any(Number), size_vram: entry.size, context_length: expect.any(Number), expires_at: expect.any(String) });
    expect(Date.parse(entry.expires_at) - Date.now()).toBeGreaterThan(4 * 60_000);
    expect(sim.loaded()).toContain('dumb');
    const unload = (await (await post(`${sim.url}/api/chat`, { model: 'dumb', messages: [], keep_alive: 0 })).json()) as any;
    expect(unload.done_reason).toBe('unload');
    expect(sim.loaded()).not.toContain('dumb');
    expect(await (await post(`${sim.url}/api/generate`, { model: 'dumb' })).json()).toEqual({ model: 'dumb', created_at: expect.any(String), response: '', done: true });
    expect(sim.loaded()).toContain('dumb');
    expect(await (await post(`${sim.url}/api/generate`, { model: 'dumb', keep_alive: 0 })).json()).toMatchObject({ done_reason: 'unload' });
    expect(sim.loaded()).not.toContain('dumb');
    // A chat with keep_alive 0 answers, then unloads; a normal chat stays loaded.
    await post(`${sim.url}/api/chat`, { model: 'dumb', stream: false, keep_alive: 0, messages: [{ role: 'user', content: 'hi' }] });
    expect(sim.loaded()).not.toContain('dumb');
    await post(`${sim.url}/api/chat`, { model: 'dumb', stream: false, keep_alive: '10m', messages: [{ role: 'user', content: 'hi' }] });
    expect(sim.loaded()).toContain('dumb');
  });

  it('generates with /api/generate (stream and not)', async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/generate`, { model: 'dumb', prompt: 'Tell me about the moon' })).text());
    expect(lines[0]).toEqual({ model: 'dumb', created_at: expect.any(String), response: expect.any(String), done: false });
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', response: '', context: expect.any(Array), eval_count: lines.length - 1 });
    const one = (await (await post(`${sim.url}/api/generate`, { model: 'dumb', prompt: 'Tell me about the moon', stream: false })).json()) as any;
    expect(one.response).toBe(lines.map((l) => l.response).join(''));
  });

  it('calls tools with object arguments and rejects tools for models without them', async () => {
    const body = { model: 'qwen2.5-coder:7b', stream: false, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Tokyo?' }] };
    const j = (await (await post(`${sim.url}/api/chat`, body)).json()) as any;
    expect(j.message.tool_calls).toEqual([{ id: expect.any(String), function: { index: 0, name: 'get_weather', arguments: { city: 'Tokyo', unit: 'celsius', days: 1 } } }]);
    const streamed = ndjson(await (await post(`${sim.url}/api/chat`, { ...body, stream: true })).text());
    expect(streamed.find((l) => l.message.tool_calls)?.done).toBe(false);
    const follow = (await (
      await post(`${sim.url}/api/chat`, { ...body, messages: [...body.messages, j.message, { role: 'tool', tool_name: 'get_weather', content: 'sunny, 24C' }] })
    ).json()) as any;
    expect(follow.message.tool_calls).toBeUndefined();
    expect(follow.message.content).toContain('sunny');
    const no = await post(`${sim.url}/api/chat`, { ...body, model: 'dumb' });
    expect(no.status).toBe(400);
    expect(((await no.json()) as any).error).toContain('does not support tools');
  });

  it('handles images and thinking', async () => {
    const img = { role: 'user', content: 'What is in this image?', images: ['iVBORw0KGgoAAAANSUhEUg=='] };
    expect((await post(`${sim.url}/api/chat`, { model: 'dumb', stream: false, messages: [img] })).status).toBe(400);
    const seen = (await (await post(`${sim.url}/api/chat`, { model: 'llava', stream: false, messages: [img] })).json()) as any;
    expect(seen.message.content).toMatch(/^The image shows/);
    const think = ndjson(await (await post(`${sim.url}/api/chat`, { model: 'qwen3:8b', messages: [{ role: 'user', content: 'Why is the sky blue?' }] })).text());
    expect(think[0].message.thinking).toBeTruthy();
    expect(think.findIndex((l) => l.message.content)).toBeGreaterThan(0);
    const off = (await (await post(`${sim.url}/api/chat`, { model: 'qwen3:8b', think: false, stream: false, messages: [{ role: 'user', content: 'Why?' }] })).json()) as any;
    expect(off.message.thinking).toBeUndefined();
    expect((await post(`${sim.url}/api/chat`, { model: 'dumb', think: true, messages: [{ role: 'user', content: 'Why?' }] })).status).toBe(400);
  });

  it('embeds with /api/embed and /api/embeddings', async () => {
    const e = (await (await post(`${sim.url}/api/embed`, { model: 'nomic-embed-text', input: ['The cat sat on the mat', 'A cat is sitting on the mat', 'Quarterly tax filing deadlines'] })).json()) as any;
    expect(e).toMatchObject({ model: 'nomic-embed-text', total_duration: expect.any(Number), prompt_eval_count: expect.any(Number) });
    const [a, b, c] = e.embeddings as number[][];
    expect(a).toHaveLength(96);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.3);
    const legacy = (await (await post(`${sim.url}/api/embeddings`, { model: 'nomic-embed-text', prompt: 'The cat sat on the mat' })).json()) as any;
    expect(legacy.embedding).toEqual(a);
    expect((await post(`${sim.url}/api/embed`, { model: 'dumb', input: 'x' })).status).toBe(400);
  });

  it('serves its OpenAI-compatible routes', async () => {
    const models = (await (await fetch(`${sim.url}/v1/models`)).json()) as any;
    expect(models.object).toBe('list');
    expect(models.data[0]).toMatchObject({ id: 'qwen2.5-coder:7b', object: 'model', owned_by: 'library' });
    const j = (await (await post(`${sim.url}/v1/chat/completions`, { model: 'qwen3:8b', messages: [{ role: 'user', content: 'hi' }] })).json()) as any;
    expect(j).toMatchObject({ object: 'chat.completion', model: 'qwen3:8b', choices: [{ finish_reason: 'stop' }] });
    expect(j.choices[0].message.reasoning).toBeTruthy();
    const missing = await post(`${sim.url}/v1/chat/completions`, { model: 'ghost', messages: [{ role: 'user', content: 'hi' }] });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.message).toContain('not found');
  });

  it('injects every failure mode in the Ollama shape', async () => {
    await expectFailures(sim, `${sim.url}/api/chat`, { model: 'smart', messages: [{ role: 'user', content: 'Tell me about rivers' }] }, 'ollama', 'ndjson');
  }, 15_000);
});

// ---------------------------------------------------------------------------------------------
// close()

describe('close()', () => {
  const tcp = (): number => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;

  it('ends hanging and streaming requests and leaves no open sockets or servers', async () => {
    const before = tcp();
    const sims = await Promise.all([
      startOpenAISimulator({ models: [{ id: 'm', tokensPerSecond: 5 }] }),
      startLlamaCppSimulator({ models: [{ id: 'm', tokensPerSecond: 5 }] }),
      startOllamaSimulator({ models: [{ id: 'm', tokensPerSecond: 5 }], failure: 'hang' }),
    ]);
    const pending = [
      post(`${sims[0].url}/v1/chat/completions`, { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }).then((r) => r.text()),
      post(`${sims[1].url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      post(`${sims[2].url}/api/chat`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    ];
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await Promise.all(sims.map((s) => s.close()));
    expect(Date.now() - t0).toBeLessThan(500);
    for (const p of await Promise.allSettled(pending)) expect(p.status).toBe('rejected');
    await expect(fetch(`${sims[0].url}/v1/models`)).rejects.toThrow();
    for (let i = 0; i < 20 && tcp() > before; i++) await new Promise((r) => setTimeout(r, 25));
    expect(tcp()).toBeLessThanOrEqual(before);
  });
});
