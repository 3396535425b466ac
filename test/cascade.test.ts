/**
 * Cascading, seen by a real OpenAI SDK client: when the chosen model fails before its first token,
 * the next-best capable model answers; after tokens were sent a failure ends the stream with an
 * error; every decision is stored with its reasons, and feedback changes later routing.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DecisionEntity, FeedbackEntity } from '../src/db/entities.js';
import { startOllamaSimulator, type FailureMode, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const BEST = 'qwen2.5-coder:32b';
const NEXT = 'llama3.1:8b';
const PROMPT = 'Write a Python function that parses an ISO 8601 date string and returns a datetime, with tests.';

let sim: RunningSimulator;
let router: TestRouter;
let client: OpenAI;

beforeAll(async () => {
  sim = await startOllamaSimulator({
    models: [
      { id: BEST, parameterSizeB: 32.8, capabilities: { tools: true }, quality: { coding: 0.95 } },
      { id: NEXT, parameterSizeB: 8, capabilities: { tools: true }, quality: { coding: 0.6 } },
    ],
  });
  router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_FIRST_TOKEN_TIMEOUT: '1', ROUTER_CASCADING_MAX_ATTEMPTS: '3', ROUTER_CACHE_ENABLED: 'false' });
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterEach(() => sim.setFailure('none'));
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

async function chatWithModel(): Promise<{ model: string | null; text: string }> {
  const { data, response } = await client.chat.completions
    .create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: PROMPT }], temperature: 0 })
    .withResponse();
  return { model: response.headers.get('x-router-model'), text: data.choices[0]?.message.content ?? '' };
}

describe('cascade', () => {
  it('routes the prompt to the best coder when all is well', async () => {
    expect((await chatWithModel()).model).toBe(BEST);
  });

  it.each<FailureMode>(['reset', 'http500', 'html-error', 'malformed', 'overloaded', 'hang', 'slow-first-token'])(
    'falls back to the next model when the chosen one fails with %s before its first token',
    async (mode) => {
      sim.setFailure(mode, BEST);
      const answer = await chatWithModel();
      expect(answer.model).toBe(NEXT);
      expect(answer.text.length).toBeGreaterThan(0);
    },
  );

  it('ends a stream with an error event, not a clean end, when the model fails after tokens were sent', async () => {
    sim.setFailure('cut-stream', BEST);
    const stream = await client.chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: PROMPT }], stream: true });
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(text.length).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(Error);
  });

  it('answers 502 in OpenAI error JSON when every candidate fails', async () => {
    sim.setFailure('http500');
    const error = await chatWithModel().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it('stores every decision with its reasons, attempts and response id', async () => {
    sim.setFailure('http500', BEST);
    const { data, response } = await client.chat.completions
      .create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: PROMPT }] })
      .withResponse();
    expect(response.headers.get('x-router-model')).toBe(NEXT);
    await router.core.store.flush();
    const row = await router.db.em.fork().findOneOrFail(DecisionEntity, { responseId: data.id });
    expect(row).toMatchObject({ category: 'coding', selectedModel: NEXT, status: 'ok', protocol: 'rest' });
    const attempts = JSON.parse(row.attempts) as Array<{ model: string; ok: boolean; error?: { code: string } }>;
    expect(attempts.map((a) => [a.model, a.ok])).toEqual([
      [BEST, false],
      [NEXT, true],
    ]);
    expect(attempts[0]!.error?.code).toBe('bad_response');
    const { candidates } = JSON.parse(row.candidates) as { candidates: Array<{ model: string; total?: number }> };
    expect(candidates.map((c) => c.model)).toEqual([BEST, NEXT]);
  });

  it('does not cascade when ROUTER_CASCADING_ENABLED=false', async () => {
    const strict = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_CASCADING_ENABLED: 'false' });
    try {
      sim.setFailure('http500', BEST);
      const res = await fetch(`${strict.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: PROMPT }] }),
      });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('server_error');
    } finally {
      await strict.stop();
    }
  });

  it('feedback is stored and shifts a close call', async () => {
    // Two equally good general models: thumbs-down on the one chosen moves the next decision.
    const pair = await startOllamaSimulator({
      models: [
        { id: 'alpha:7b', parameterSizeB: 7 },
        { id: 'beta:7b', parameterSizeB: 7 },
      ],
    });
    const r = await startTestRouter({ ROUTER_OLLAMA_URL: pair.url, ROUTER_WEIGHT_RECENCY: '0', ROUTER_CACHE_ENABLED: 'false' });
    try {
      const ask = () =>
        fetch(`${r.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'What is the capital of Australia?' }] }),
        });
      const first = await ask();
      const firstModel = first.headers.get('x-router-model')!;
      const { id } = (await first.json()) as { id: string };
      const fb = await fetch(`${r.url}/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_id: id, score: -1, comment: 'wrong answer' }),
      });
      expect(fb.status).toBe(200);
      expect(await fb.json()).toMatchObject({ accepted: true, model: firstModel });
      expect(await r.db.em.fork().count(FeedbackEntity, { responseId: id })).toBe(1);
      const second = await ask();
      expect(second.headers.get('x-router-model')).not.toBe(firstModel);
    } finally {
      await r.stop();
      await pair.close();
    }
  });
});
