/**
 * Refusals on a routed request. A conversation longer than a model's context: the backend refuses it with a 400 that names
 * the context (OpenAI's context_length_exceeded, llama.cpp's exceed_context_size_error). That is the
 * model's limit, so the router moves on to the next model; when every model refuses, or a model
 * refuses the request as invalid for another reason, the client gets a 400 saying why (not a 502
 * that SDKs retry). A backend refusing the router's key (401) says nothing about the request: the
 * next model answers. Against an OpenAI-compatible server written here to its wire format.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRouter, type TestRouter } from './support/router.js';

const MODELS = ['llama-3.1-70b-instruct', 'qwen2.5-32b-instruct', 'llama-3.2-1b-instruct'];
const PROMPT = 'Summarise the history of the printing press in three sentences.';

/** model -> how it refuses: an OpenAI context error, a llama.cpp one, a plain invalid request. */
const refusals = new Map<string, 'openai-context' | 'llamacpp-context' | 'invalid' | 'unauthorized'>();
const chatCalls: string[] = [];

const OPENAI_CONTEXT = {
  error: {
    message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  },
};
const LLAMACPP_CONTEXT = { error: { code: 400, message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: 9000, n_ctx: 8192 } };
const INVALID = { error: { message: "Unrecognized request argument supplied: frobnicate. See http://backend.internal/docs", type: 'invalid_request_error', param: null, code: null } };

const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString()));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created: 0, owned_by: 'test' })) }));
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      const body = JSON.parse(raw) as { model: string };
      chatCalls.push(body.model);
      const refusal = refusals.get(body.model);
      if (refusal === 'unauthorized') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Incorrect API key provided: sk-old.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
        return;
      }
      if (refusal) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify(refusal === 'openai-context' ? OPENAI_CONTEXT : refusal === 'llamacpp-context' ? LLAMACPP_CONTEXT : INVALID));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(`${chunk({ role: 'assistant', content: `answer from ${body.model}` }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error', param: null, code: null } }));
  });
});

let router: TestRouter;
let client: OpenAI;
let ranked: string[];

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  router = await startTestRouter({ ROUTER_PROVIDER: 'openai', ROUTER_OPENAI_BASE_URL: url, ROUTER_CASCADING_MAX_ATTEMPTS: '3', ROUTER_CACHE_ENABLED: 'false' });
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const explained = (await (await fetch(`${router.url}/admin/explain?prompt=${encodeURIComponent(PROMPT)}`)).json()) as { candidates: Array<{ model: string; excluded: boolean }> };
  ranked = explained.candidates.filter((c) => !c.excluded).map((c) => c.model);
  expect(ranked.sort()).toEqual([...MODELS].sort());
  ranked = explained.candidates.filter((c) => !c.excluded).map((c) => c.model);
});

afterAll(async () => {
  await router?.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function ask(): Promise<{ status: number; model: string | null; text: string; error?: { message: string; type: string } }> {
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: PROMPT }] }),
  });
  const body = (await res.json()) as { choices?: Array<{ message: { content: string } }>; error?: { message: string; type: string } };
  return { status: res.status, model: res.headers.get('x-router-model'), text: body.choices?.[0]?.message.content ?? '', error: body.error };
}

describe('context overflow on a routed request', () => {
  it('moves on from models whose context is too small to one that answers', async () => {
    refusals.clear();
    refusals.set(ranked[0]!, 'openai-context');
    refusals.set(ranked[1]!, 'llamacpp-context');
    chatCalls.length = 0;
    const answer = await ask();
    expect(answer).toMatchObject({ status: 200, model: ranked[2], text: `answer from ${ranked[2]}` });
    expect(chatCalls).toEqual(ranked);
    // The openai SDK sees an ordinary answer.
    const sdk = await client.chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: PROMPT }] });
    expect(sdk.choices[0]?.message.content).toBe(`answer from ${ranked[2]}`);
  });

  it('answers 400 with the reason when every model refuses the length', async () => {
    for (const m of MODELS) refusals.set(m, 'openai-context');
    const answer = await ask();
    expect(answer.status).toBe(400);
    expect(answer.error?.type).toBe('invalid_request_error');
    expect(answer.error?.message).toContain('maximum context length');
    const error = await client.chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: PROMPT }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('does not cascade a request refused as invalid for another reason, and names no backend URL', async () => {
    refusals.clear();
    refusals.set(ranked[0]!, 'invalid');
    chatCalls.length = 0;
    const answer = await ask();
    expect(answer.status).toBe(400);
    expect(answer.error?.message).toContain(`The request was refused by ${ranked[0]}`);
    expect(answer.error?.message).toContain('frobnicate');
    expect(answer.error?.message).not.toContain('backend.internal');
    expect(chatCalls).toEqual([ranked[0]]);
  });
});

describe('a refused key on a routed request', () => {
  it('moves on to the next model instead of failing the request', async () => {
    refusals.clear();
    refusals.set(ranked[0]!, 'unauthorized');
    chatCalls.length = 0;
    const answer = await ask();
    expect(answer).toMatchObject({ status: 200, model: ranked[1] });
    expect(chatCalls).toEqual([ranked[0], ranked[1]]);
    refusals.clear();
  });
});
