/**
 * Routing options a user sets in the environment, seen from a real client: the answer signature,
 * router aliases with their own quality preference, the model prefix, id qualification when two
 * backends offer the same model, and the external model name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

let a: RunningSimulator;
let b: RunningSimulator;
const routers: TestRouter[] = [];

beforeAll(async () => {
  a = await startOllamaSimulator({ models: [{ id: 'llama3.2:3b', parameterSizeB: 3.2 }, { id: 'qwen2.5:32b', parameterSizeB: 32 }] });
  b = await startOllamaSimulator({ models: [{ id: 'llama3.2:3b', parameterSizeB: 3.2 }] });
});
afterAll(async () => {
  for (const r of routers) await r.stop();
  await a?.close();
  await b?.close();
});

async function router(env: Record<string, string>): Promise<TestRouter> {
  const r = await startTestRouter(env);
  routers.push(r);
  return r;
}

async function chat(r: TestRouter, model: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'What is the capital of Peru?' }] }),
  });
  return { res, body: (await res.json()) as { choices: Array<{ message: { content: string } }>; error?: { message: string } } };
}

describe('routing options', () => {
  it('appends the signature naming the model when ROUTER_SIGNATURE_ENABLED=true', async () => {
    const r = await router({ ROUTER_OLLAMA_URL: a.url, ROUTER_SIGNATURE_ENABLED: 'true', ROUTER_SIGNATURE_FORMAT: '\\n-- via {model}' });
    const { res, body } = await chat(r, 'smarterrouter/main');
    const model = res.headers.get('x-router-model');
    expect(body.choices[0]!.message.content.endsWith(`\n-- via ${model}`)).toBe(true);
    const plain = await router({ ROUTER_OLLAMA_URL: a.url });
    expect((await chat(plain, 'smarterrouter/main')).body.choices[0]!.message.content).not.toContain('-- via');
  });

  it('serves aliases from ROUTER_MODEL_ALIASES with their own preference, listed in /v1/models', async () => {
    const r = await router({ ROUTER_OLLAMA_URL: a.url, ROUTER_MODEL_ALIASES: 'quick=0,deep=1', ROUTER_EXTERNAL_MODEL_NAME: 'lab/router' });
    const list = (await (await fetch(`${r.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toEqual(['lab/router', 'lab/quick', 'lab/deep']);
    expect((await chat(r, 'lab/quick')).res.headers.get('x-router-model')).toBe('llama3.2:3b');
    expect((await chat(r, 'lab/deep')).res.headers.get('x-router-model')).toBe('qwen2.5:32b');
    // The header overrides the alias for one request.
    expect((await chat(r, 'lab/deep', { 'x-router-quality-preference': '0' })).res.headers.get('x-router-model')).toBe('llama3.2:3b');
    const unknown = await chat(r, 'smarterrouter/main');
    expect(unknown.res.status).toBe(404);
  });

  it('rejects a bad ROUTER_MODEL_ALIASES value at start-up', async () => {
    await expect(startTestRouter({ ROUTER_MODEL_ALIASES: 'fast=2' })).rejects.toThrow(/ROUTER_MODEL_ALIASES: "fast=2" is not name=preference/);
  });

  it('applies ROUTER_MODEL_PREFIX and qualifies ids two backends share', async () => {
    const r = await router({ ROUTER_BACKENDS: `one=ollama:${a.url},two=ollama:${b.url}`, ROUTER_MODEL_PREFIX: 'home/', ROUTER_EXPOSE_MODELS: 'true' });
    const ids = ((await (await fetch(`${r.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['home/one/llama3.2:3b', 'home/two/llama3.2:3b', 'home/qwen2.5:32b']));
    const direct = await chat(r, 'home/two/llama3.2:3b');
    expect(direct.res.headers.get('x-router-model')).toBe('home/two/llama3.2:3b');
    expect(b.requests.some((q) => q.path === '/api/chat')).toBe(true);
  });
});
