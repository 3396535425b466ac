/**
 * POST /v1/embeddings through the official openai SDK and RouterService.Embed through connect-node,
 * against a real router in front of the Ollama and OpenAI simulators. The simulators' embedding is
 * deterministic, so the expected vectors are computed here with the same function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { embedText, startOllamaSimulator, startOpenAISimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter, waitForModels } from './support/router.js';

const NOMIC = 'nomic-embed-text:latest';
const OPENAI_EMBED = 'text-embedding-3-small';
let ollama: RunningSimulator;
let openaiSim: RunningSimulator;
let router: TestRouter;
let client: OpenAI;

function expectVector(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  // float32 on the wire (base64): about 7 significant digits.
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 5);
}

async function rpcFailure(call: () => Promise<unknown>): Promise<ConnectError | undefined> {
  return call().then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
}

beforeAll(async () => {
  ollama = await startOllamaSimulator({
    models: [
      { id: 'llama3.2:3b' },
      { id: NOMIC, capabilities: { embeddings: true }, embeddingDim: 256 },
    ],
  });
  openaiSim = await startOpenAISimulator({ models: [{ id: OPENAI_EMBED, capabilities: { embeddings: true }, embeddingDim: 128 }] });
  router = await startTestRouter({
    ROUTER_BACKENDS: `sim=ollama:${ollama.url},cloud=openai:${openaiSim.url}/v1`,
    ROUTER_EXPOSE_MODELS: 'true',
    ROUTER_EMBED_MODEL: NOMIC,
  });
  await waitForModels(router, ['llama3.2:3b', NOMIC, OPENAI_EMBED]);
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await router?.stop();
  await ollama?.close();
  await openaiSim?.close();
});

describe('POST /v1/embeddings (openai SDK)', () => {
  it('embeds one string with ROUTER_EMBED_MODEL when the router model is named', async () => {
    const r = await client.embeddings.create({ model: 'smarterrouter/main', input: 'The quick brown fox' });
    expect(r.object).toBe('list');
    expect(r.model).toBe(NOMIC);
    expect(r.data).toHaveLength(1);
    expect(r.data[0]).toMatchObject({ object: 'embedding', index: 0 });
    // The SDK asks for base64 by default and decodes it: the float32 round trip is checked here.
    expectVector(r.data[0]!.embedding, embedText('The quick brown fox', 256, NOMIC));
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens);
  });

  it('embeds an array of strings in order, as floats when asked', async () => {
    const texts = ['first text', 'second text about rivers', 'third'];
    const r = await client.embeddings.create({ model: 'smarterrouter/main', input: texts, encoding_format: 'float' });
    expect(r.data.map((d) => d.index)).toEqual([0, 1, 2]);
    r.data.forEach((d, i) => {
      expect(Array.isArray(d.embedding)).toBe(true);
      expectVector(d.embedding, embedText(texts[i]!, 256, NOMIC));
    });
  });

  it('uses a named embedding model on another backend, with dimensions', async () => {
    const r = await client.embeddings.create({ model: OPENAI_EMBED, input: 'hello world' });
    expect(r.model).toBe(OPENAI_EMBED);
    expectVector(r.data[0]!.embedding, embedText('hello world', 128, OPENAI_EMBED));
    const short = await client.embeddings.create({ model: OPENAI_EMBED, input: 'hello world', dimensions: 32 });
    expect(short.data[0]!.embedding).toHaveLength(32);
  });

  it('returns base64 little-endian float32 when asked explicitly', async () => {
    const res = await fetch(`${router.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'abc', encoding_format: 'base64' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-router-model')).toBe(NOMIC);
    const body = (await res.json()) as any;
    const bytes = Buffer.from(body.data[0].embedding, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expectVector(decoded, embedText('abc', 256, NOMIC));
  });

  it.each([
    ['token ids', { input: [1, 2, 3] }, 'input', 'unsupported_value'],
    ['arrays of token ids', { input: [[1, 2], [3]] }, 'input', 'unsupported_value'],
    ['a missing input', {}, 'input', 'missing_required_parameter'],
    ['an object input', { input: { text: 'x' } }, 'input', 'invalid_type'],
    ['a non-string item', { input: ['ok', null] }, 'input[1]', 'invalid_type'],
    ['an empty array', { input: [] }, 'input', 'invalid_request'],
    ['an empty string', { input: '' }, 'input', 'invalid_request'],
    ['a bad encoding_format', { input: 'x', encoding_format: 'int8' }, 'encoding_format', null],
  ])('answers 400 in OpenAI error JSON for %s', async (_name, body, param, code) => {
    const res = await fetch(`${router.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    const json = (await res.json()) as any;
    expect(json.error.type).toBe('invalid_request_error');
    expect(json.error.param).toBe(param);
    if (code) expect(json.error.code).toBe(code);
  });

  it('rejects a chat model (400) and an unknown model (404) through the SDK', async () => {
    await expect(client.embeddings.create({ model: 'llama3.2:3b', input: 'x' })).rejects.toMatchObject({ status: 400, param: 'model' });
    await expect(client.embeddings.create({ model: 'no-such-model', input: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('answers 502 when the embedding backend fails', async () => {
    ollama.setFailure('http500', NOMIC);
    try {
      await expect(client.embeddings.create({ model: 'smarterrouter/main', input: 'x' })).rejects.toMatchObject({ status: 502 });
    } finally {
      ollama.setFailure('none');
    }
  });
});

describe('RouterService.Embed', () => {
  it('embeds with the configured model when none is named, and with a named one', async () => {
    const rpc = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    const r = await rpc.embed({ input: ['alpha', 'beta gamma'] });
    expect(r.model).toBe(NOMIC);
    expect(r.embeddings).toHaveLength(2);
    expectVector(r.embeddings[1]!.values, embedText('beta gamma', 256, NOMIC));
    expect(r.usage?.promptTokens).toBeGreaterThan(0);
    expect(r.usage?.completionTokens).toBe(0);
    expect(r.usage?.totalTokens).toBe(r.usage?.promptTokens);

    const named = await rpc.embed({ model: OPENAI_EMBED, input: ['alpha'], dimensions: 16 });
    expect(named.model).toBe(OPENAI_EMBED);
    expect(named.embeddings[0]!.values).toHaveLength(16);
  });

  it('maps bad requests to INVALID_ARGUMENT and unknown models to NOT_FOUND', async () => {
    const rpc = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    expect((await rpcFailure(() => rpc.embed({ input: [] })))?.code).toBe(Code.InvalidArgument);
    expect((await rpcFailure(() => rpc.embed({ input: ['ok', ''] })))?.code).toBe(Code.InvalidArgument);
    expect((await rpcFailure(() => rpc.embed({ model: 'llama3.2:3b', input: ['x'] })))?.code).toBe(Code.InvalidArgument);
    expect((await rpcFailure(() => rpc.embed({ model: 'nope', input: ['x'] })))?.code).toBe(Code.NotFound);
    expect((await rpcFailure(() => rpc.embed({ input: ['x'], dimensions: 0 })))?.code).toBe(Code.InvalidArgument);
  });
});

describe('without ROUTER_EMBED_MODEL', () => {
  it('routes the router name to the first available embedding model', async () => {
    const bare = await startTestRouter({ ROUTER_BACKENDS: `cloud=openai:${openaiSim.url}/v1`, ROUTER_EXPOSE_MODELS: 'true' });
    try {
      await waitForModels(bare, [OPENAI_EMBED]);
      const sdk = new OpenAI({ baseURL: `${bare.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const r = await sdk.embeddings.create({ model: 'smarterrouter/main', input: 'x' });
      expect(r.model).toBe(OPENAI_EMBED);
    } finally {
      await bare.stop();
    }
  });
});
