/**
 * RouterService end to end: a real router on a real port in front of simulated backends, called with
 * real gRPC and Connect (HTTP/1.1) clients, plus `buf curl`. Covers the translation both ways, the
 * stream order (route, deltas, finish), cancellation reaching the backend, the error codes, and the
 * input checks.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, createContextValues, type Client, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { Category, FinishReason } from '../gen/smarterrouter/v1/common_pb.js';
import {
  CacheStatus,
  type ChatRequest,
  ChatRequestSchema,
  type ChatStreamResponse,
  ResponseFormatType,
  Role,
  RouterService,
} from '../gen/smarterrouter/v1/router_pb.js';
import { RouterError, type RouterErrorCode } from '../src/core/types.js';
import { PluginError } from '../src/plugin-api/errors.js';
import { kRequestLogger } from '../src/server/connect/context.js';
import { toConnectError } from '../src/server/connect/errors.js';
import { createLogger } from '../src/server/logger.js';
import { demoFleet, startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';
import { failure } from './support/connect-failure.js';

const run = promisify(execFile);
const BUF = new URL('../node_modules/.bin/buf', import.meta.url).pathname;

type RouterClient = Client<typeof RouterService>;
/** The plain-object form of a ChatRequest (not a created message), so cases can spread it. */
type ChatInit = Exclude<MessageInitShape<typeof ChatRequestSchema>, ChatRequest>;

const user = (content: string) => ({ role: Role.USER, content });
const CODING_PROMPT = 'write a python function that reverses a list';

function transports(baseUrl: string): Array<[string, Transport]> {
  return [
    ['gRPC', createGrpcTransport({ baseUrl })],
    ['Connect over HTTP/1.1', createConnectTransport({ baseUrl, httpVersion: '1.1' })],
  ];
}


/** Every message of a stream, and the error it ended with. */
async function drain(stream: AsyncIterable<ChatStreamResponse>): Promise<{ messages: ChatStreamResponse[]; error?: ConnectError }> {
  const messages: ChatStreamResponse[] = [];
  try {
    for await (const m of stream) messages.push(m);
    return { messages };
  } catch (error) {
    return { messages, error: ConnectError.from(error) };
  }
}

const isDelta = (m: ChatStreamResponse) =>
  m.part.case === 'textDelta' || m.part.case === 'reasoningDelta' || m.part.case === 'toolCallDelta';

describe('RouterService on a simulated fleet', () => {
  let sim: RunningSimulator;
  let router: TestRouter;
  let grpc: RouterClient;
  let connect: RouterClient;

  beforeAll(async () => {
    sim = await startOllamaSimulator({ models: demoFleet({ fast: true }).ollama });
    router = await startTestRouter({
      ROUTER_BACKENDS: `sim=ollama:${sim.url}`,
      // Small limits, so the limit checks are cheap to hit.
      ROUTER_MAX_MESSAGES: '5',
      ROUTER_MAX_PROMPT_CHARS: '2000',
      // The same chat goes through each transport and must reach the model every time.
      ROUTER_CACHE_ENABLED: 'false',
    });
    grpc = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    connect = createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
  });
  afterAll(async () => {
    await router?.stop();
    await sim?.close();
  });

  /** What the router sent to the simulated Ollama in its latest chat call. */
  function lastChatBody(): { messages: Array<Record<string, unknown>> } {
    const request = sim.requests.filter((r) => r.path.startsWith('/api/chat')).at(-1);
    return request!.body as { messages: Array<Record<string, unknown>> };
  }

  it.each([0, 1])('Chat returns the answer with route info (%s)', async (which) => {
    const [name, transport] = transports(router.url)[which]!;
    const client = createClient(RouterService, transport);
    const res = await client.chat({ messages: [user(CODING_PROMPT)] });

    expect(res.message?.role, name).toBe(Role.ASSISTANT);
    expect(res.message?.content.length).toBeGreaterThan(0);
    expect(res.finishReason).toBe(FinishReason.STOP);
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.created?.seconds).toBeGreaterThan(0n);
    expect(res.usage?.completionTokens).toBeGreaterThan(0);
    expect(res.usage?.totalTokens).toBe((res.usage?.promptTokens ?? 0) + (res.usage?.completionTokens ?? 0));

    const route = res.route!;
    expect(route.responseId).toBe(res.id);
    expect(route.category).toBe(Category.CODING);
    expect(route.selectedModel).toBe(res.model);
    expect(route.backend).toBe('sim');
    expect(route.cache).toBe(CacheStatus.MISS);
    expect(route.qualityPreference).toBeGreaterThanOrEqual(0);
    expect(route.attempts.length).toBeGreaterThanOrEqual(1);
    const last = route.attempts.at(-1)!;
    expect(last).toMatchObject({ model: res.model, backend: 'sim', error: '' });
    expect(last.durationMs).toBeGreaterThanOrEqual(0);
  });

  it.each([0, 1])('ChatStream yields the route first, then deltas, then one finish (%s)', async (which) => {
    const [, transport] = transports(router.url)[which]!;
    const client = createClient(RouterService, transport);
    const { messages, error } = await drain(client.chatStream({ request: { messages: [user('Tell me a short story about a lighthouse.')] } }));

    expect(error).toBeUndefined();
    expect(messages[0]?.part.case).toBe('route');
    expect(messages.at(-1)?.part.case).toBe('finish');
    const middle = messages.slice(1, -1);
    expect(middle.length).toBeGreaterThan(0);
    expect(middle.every(isDelta)).toBe(true);

    const text = middle.map((m) => (m.part.case === 'textDelta' ? m.part.value : '')).join('');
    expect(text.length).toBeGreaterThan(0);
    const finish = messages.at(-1)!.part;
    if (finish.case !== 'finish') throw new Error('unreachable');
    expect(finish.value.finishReason).toBe(FinishReason.STOP);
    expect(finish.value.usage?.completionTokens).toBeGreaterThan(0);
    const route = messages[0]!.part;
    if (route.case !== 'route') throw new Error('unreachable');
    expect(route.value.responseId).toMatch(/^chatcmpl-/);
    expect(route.value.selectedModel).not.toBe('');
  });

  it('Explain ranks the candidates for a coding prompt with weighted factors and lists exclusions', async () => {
    const res = await grpc.explain({ input: { case: 'prompt', value: CODING_PROMPT } });

    expect(res.category).toBe(Category.CODING);
    expect(res.needs).toMatchObject({ vision: false, tools: false, json: false });
    const ranked = res.candidates.filter((c) => !c.excluded);
    const excluded = res.candidates.filter((c) => c.excluded);
    expect(ranked.length).toBeGreaterThanOrEqual(3);
    expect(res.selectedModel).toBe(ranked[0]!.model);
    // Best first, excluded last.
    expect(res.candidates.slice(0, ranked.length).every((c) => !c.excluded)).toBe(true);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.totalScore).toBeGreaterThanOrEqual(ranked[i]!.totalScore);
    for (const c of ranked) {
      const f = c.factors!;
      expect(f.capability).toBeGreaterThan(0);
      // The proto promises weighted factors that add up to the total.
      const sum = f.capability + f.benchmark + f.speed + f.recency + f.feedback + f.sizePenalty + f.vram;
      expect(sum).toBeCloseTo(c.totalScore, 6);
      expect(c.backend).toBe('sim');
    }
    const embed = excluded.find((c) => c.model.includes('nomic-embed-text'));
    expect(embed?.excludedReason).toMatch(/embedding/);
    expect(embed?.factors).toBeUndefined();
  });

  it('Explain takes a full request: images need vision', async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const res = await connect.explain({
      input: {
        case: 'request',
        value: { messages: [{ role: Role.USER, content: 'What is in this picture?', parts: [{ part: { case: 'image', value: { source: { case: 'data', value: png } } } }] }] },
      },
      qualityPreference: 0.9,
    });
    expect(res.needs?.vision).toBe(true);
    expect(res.qualityPreference).toBeCloseTo(0.9);
    expect(res.selectedModel).toContain('llava');
    const coder = res.candidates.find((c) => c.model.includes('qwen2.5-coder'));
    expect(coder).toMatchObject({ excluded: true, excludedReason: expect.stringMatching(/vision/) });
  });

  it('Explain over `buf curl` (gRPC, reflection) prints JSON', async () => {
    const { stdout } = await run(BUF, [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '-d',
      JSON.stringify({ prompt: CODING_PROMPT }),
      `${router.url}/smarterrouter.v1.RouterService/Explain`,
    ]);
    const body = JSON.parse(stdout) as { category: string; selectedModel: string; candidates: Array<{ model: string; excluded?: boolean; excludedReason?: string }> };
    expect(body.category).toBe('CATEGORY_CODING');
    expect(body.selectedModel).not.toBe('');
    expect(body.candidates.find((c) => c.model.includes('nomic-embed-text'))).toMatchObject({ excluded: true });
  });

  it('ListModels lists the router alias first, then the backend models', async () => {
    const res = await grpc.listModels({});
    const main = res.models[0]!;
    expect(main).toMatchObject({ id: 'smarterrouter/main', routerAlias: true, backend: '', provider: '', available: true });
    expect(main.qualityPreference).toBeCloseTo(0.5);
    // The union of the chat models' capabilities: qwen3:8b of the demo fleet thinks.
    expect(main.capabilities).toMatchObject({ chat: true, vision: true, tools: true, embeddings: false, thinking: true });

    const coder = res.models.find((m) => m.id.includes('qwen2.5-coder:7b'));
    expect(coder).toMatchObject({ backend: 'sim', provider: 'ollama', routerAlias: false, available: true });
    expect(coder?.capabilities).toMatchObject({ chat: true, tools: true });
    const firstBackendModel = res.models.findIndex((m) => !m.routerAlias);
    expect(res.models.slice(firstBackendModel).every((m) => !m.routerAlias)).toBe(true);
  });

  it('SubmitFeedback accepts the id of an answer and rejects unknown ones with NOT_FOUND', async () => {
    const answer = await connect.chat({ messages: [user('What is the capital of France?')] });
    const res = await grpc.submitFeedback({ responseId: answer.id, score: 1, comment: 'spot on' });
    expect(res).toMatchObject({ accepted: true, model: answer.model });

    const unknown = await failure(() => grpc.submitFeedback({ responseId: 'chatcmpl-doesnotexist', score: -1 }));
    expect(unknown?.code).toBe(Code.NotFound);
    expect(unknown?.rawMessage).toMatch(/chatcmpl-doesnotexist/);
  });

  it('an unknown model is NOT_FOUND', async () => {
    const error = await failure(() => grpc.chat({ model: 'no-such-model:1b', messages: [user('hi')] }));
    expect(error?.code).toBe(Code.NotFound);
  });

  it('a named model bypasses routing', async () => {
    const models = await grpc.listModels({});
    const llama = models.models.find((m) => m.id.includes('llama3.2:3b'))!;
    const res = await grpc.chat({ model: llama.id, messages: [user(CODING_PROMPT)], maxTokens: 8 });
    expect(res.model).toBe(llama.id);
  });

  describe('input checks answer INVALID_ARGUMENT naming the field', () => {
    const ok = (over: Partial<ChatInit> = {}): ChatInit => ({ messages: [user('hi')], ...over });
    const cases: Array<[string, ChatInit, RegExp]> = [
      ['no messages', { messages: [] }, /^messages: at least one/],
      ['more than ROUTER_MAX_MESSAGES', { messages: Array.from({ length: 6 }, () => user('hi')) }, /^messages: 6 messages .* limit of 5/],
      ['a message over ROUTER_MAX_PROMPT_CHARS', { messages: [user('x'.repeat(2001))] }, /^messages\[0\]\.content: 2001 characters/],
      [
        'text parts count towards the limit',
        { messages: [{ role: Role.USER, content: 'x'.repeat(1000), parts: [{ part: { case: 'text', value: 'y'.repeat(1001) } }] }] },
        /^messages\[0\]\.content: 2001 characters/,
      ],
      ['ROLE_UNSPECIFIED', { messages: [user('hi'), { content: 'no role' }] }, /^messages\[1\]\.role: must be set/],
      ['temperature above 2', ok({ temperature: 2.5 }), /^temperature: 2\.5 is outside 0\.\.2/],
      ['negative temperature', ok({ temperature: -0.1 }), /^temperature:/],
      ['top_p above 1', ok({ topP: 1.5 }), /^top_p:/],
      ['max_tokens 0', ok({ maxTokens: 0 }), /^max_tokens: must be at least 1/],
      ['quality_preference above 1', ok({ qualityPreference: 1.2 }), /^quality_preference:/],
      ['tool parameters that are not JSON', ok({ tools: [{ name: 'f', parametersJson: '{nope' }] }), /^tools\[0\]\.parameters_json: is not valid JSON/],
      ['tool parameters that are not an object', ok({ tools: [{ name: 'f', parametersJson: '[1,2]' }] }), /^tools\[0\]\.parameters_json: must be a JSON object/],
      [
        'a json_schema that does not parse',
        ok({ responseFormat: { type: ResponseFormatType.JSON_SCHEMA, jsonSchema: '{"type":' } }),
        /^response_format\.json_schema: is not valid JSON/,
      ],
      ['a json_schema format without a schema', ok({ responseFormat: { type: ResponseFormatType.JSON_SCHEMA } }), /^response_format\.json_schema: is required/],
      ['a TOOL message without tool_call_id', { messages: [{ role: Role.TOOL, content: '42' }] }, /^messages\[0\]\.tool_call_id: is required/],
      [
        'an image URL with a bad scheme',
        { messages: [{ role: Role.USER, parts: [{ part: { case: 'image', value: { source: { case: 'url', value: 'file:///etc/passwd' } } } }] }] },
        /^messages\[0\]\.parts\[0\]\.image\.url: scheme "file:"/,
      ],
      ['tool_choice naming no tool', ok({ tools: [{ name: 'f' }], toolChoice: 'g' }), /^tool_choice:/],
      ['more than 4 stop sequences', ok({ stop: ['a', 'b', 'c', 'd', 'e'] }), /^stop: at most 4/],
    ];

    it.each(cases)('Chat: %s', async (_name, request, message) => {
      const error = await failure(() => grpc.chat(request));
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toMatch(message);
    });

    it('ChatStream checks the nested request and names it', async () => {
      const missing = await drain(connect.chatStream({}));
      expect(missing.messages).toEqual([]);
      expect(missing.error?.code).toBe(Code.InvalidArgument);
      expect(missing.error?.rawMessage).toMatch(/^request: is required/);

      const bad = await drain(grpc.chatStream({ request: create(ChatRequestSchema, ok({ temperature: 3 })) }));
      expect(bad.messages).toEqual([]);
      expect(bad.error?.code).toBe(Code.InvalidArgument);
      expect(bad.error?.rawMessage).toMatch(/^request\.temperature:/);
    });

    it('Explain checks its input', async () => {
      const none = await failure(() => grpc.explain({}));
      expect(none?.code).toBe(Code.InvalidArgument);
      expect(none?.rawMessage).toMatch(/^input: set either prompt or request/);
      const pref = await failure(() => grpc.explain({ input: { case: 'prompt', value: 'hi' }, qualityPreference: 2 }));
      expect(pref?.rawMessage).toMatch(/^quality_preference:/);
      const nested = await failure(() => connect.explain({ input: { case: 'request', value: { messages: [{ content: 'x' }] } } }));
      expect(nested?.code).toBe(Code.InvalidArgument);
      expect(nested?.rawMessage).toMatch(/^request\.messages\[0\]\.role:/);
    });

    it('SubmitFeedback checks score and response_id', async () => {
      for (const score of [1.5, -1.01]) {
        const error = await failure(() => grpc.submitFeedback({ responseId: 'chatcmpl-x', score }));
        expect(error?.code).toBe(Code.InvalidArgument);
        expect(error?.rawMessage).toMatch(/^score:/);
      }
      const noId = await failure(() => grpc.submitFeedback({ score: 1 }));
      expect(noId?.code).toBe(Code.InvalidArgument);
      expect(noId?.rawMessage).toMatch(/^response_id:/);
    });

    it('accepted extras pass: developer role, tools, json_schema, data URL image, tool history', async () => {
      const req = create(ChatRequestSchema, {
        messages: [
          { role: Role.DEVELOPER, content: 'Be brief.' },
          user('What is the weather in Paris?'),
          { role: Role.ASSISTANT, toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
          { role: Role.TOOL, toolCallId: 'call_1', content: '{"temp":21}' },
        ],
        tools: [{ name: 'get_weather', description: 'Weather by city', parametersJson: '{"type":"object","properties":{"city":{"type":"string"}}}' }],
        toolChoice: 'auto',
        maxTokens: 16,
        seed: 7n,
      });
      const res = await grpc.chat(req);
      expect(res.route?.selectedModel).not.toBe('');
      // Tools were offered, so only tool-capable models were candidates.
      expect(res.model).not.toContain('llava');
      const sent = lastChatBody();
      expect(sent.messages[0]).toMatchObject({ role: 'system', content: 'Be brief.' });
      expect(sent.messages[3]).toMatchObject({ role: 'tool', content: '{"temp":21}' });
    });

    it('images reach the backend as base64, from bytes or a data URL', async () => {
      const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
      const base64 = Buffer.from(png).toString('base64');
      const image = (source: { case: 'data'; value: Uint8Array } | { case: 'url'; value: string }) => ({ part: { case: 'image' as const, value: { source } } });
      const res = await connect.chat({
        messages: [
          {
            role: Role.USER,
            content: 'Describe these two pictures.',
            parts: [image({ case: 'data', value: png }), image({ case: 'url', value: `data:image/png;base64,${base64}` })],
          },
        ],
        maxTokens: 8,
      });
      expect(res.model).toContain('llava');
      const sent = lastChatBody();
      expect(sent.messages[0]).toMatchObject({ role: 'user', content: 'Describe these two pictures.', images: [base64, base64] });
    });
  });
});

/**
 * A pass-through HTTP proxy in front of a simulator that counts chat responses the router closed
 * before they finished: the proof that a cancelled RPC stops the generation upstream.
 */
async function startCountingProxy(target: string): Promise<{ url: string; cutChats: () => number; close: () => Promise<void> }> {
  let cut = 0;
  const server = http.createServer((req, res) => {
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
    res.on('close', () => {
      if (req.url?.startsWith('/api/chat') && !res.writableFinished) cut++;
      upstream.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    cutChats: () => cut,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('ChatStream cancellation', () => {
  // Slow enough that the answer (~90 tokens) is still streaming when the client cancels.
  const slow: SimModel = { id: 'slowpoke:7b', tokensPerSecond: 10, quality: { creativity: 0.9 } };
  // Thinks for 5 s before its first token: cancellation and deadlines must reach it while it waits.
  const sleepy: SimModel = { id: 'sleepy:7b', firstTokenMs: 5000 };
  let sim: RunningSimulator;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let router: TestRouter;

  beforeAll(async () => {
    sim = await startOllamaSimulator({ models: [slow, sleepy] });
    proxy = await startCountingProxy(sim.url);
    router = await startTestRouter({ ROUTER_BACKENDS: `slow=ollama:${proxy.url}` });
  });
  afterAll(async () => {
    await router?.stop();
    await proxy?.close();
    await sim?.close();
  });

  it.each([0, 1])('a client abort mid-stream ends the upstream generation (%s)', async (which) => {
    const [, transport] = transports(router.url)[which]!;
    const client = createClient(RouterService, transport);
    const model = await modelId('slowpoke');
    const cutBefore = proxy.cutChats();
    const controller = new AbortController();
    const seen: ChatStreamResponse[] = [];
    const started = Date.now();

    const error = await failure(async () => {
      const stream = client.chatStream({ request: { model, messages: [user('Write a long story about a dragon who learns to bake bread.')] } }, { signal: controller.signal });
      for await (const m of stream) {
        seen.push(m);
        if (seen.filter(isDelta).length === 3) controller.abort();
      }
    });

    expect(error?.code).toBe(Code.Canceled);
    expect(seen[0]?.part.case).toBe('route');
    expect(seen.some((m) => m.part.case === 'finish')).toBe(false);
    // The router dropped its backend request long before the ~9 s answer would have finished.
    await vi.waitFor(() => expect(proxy.cutChats()).toBe(cutBefore + 1), { timeout: 3000, interval: 25 });
    expect(Date.now() - started).toBeLessThan(5000);

    // The router is fine afterwards.
    const next = await client.chat({ model: await modelId('slowpoke'), messages: [user('hello')], maxTokens: 3 });
    expect(next.message?.content.length).toBeGreaterThan(0);
  });

  async function modelId(name: string): Promise<string> {
    const listed = await createClient(RouterService, createGrpcTransport({ baseUrl: router.url })).listModels({});
    return listed.models.find((m) => m.id.includes(name))!.id;
  }

  it.each([0, 1])('a client abort before the first token cancels the backend call (%s)', async (which) => {
    const [, transport] = transports(router.url)[which]!;
    const client = createClient(RouterService, transport);
    const cutBefore = proxy.cutChats();
    const model = await modelId('sleepy');
    const error = await failure(() => client.chat({ model, messages: [user('hello')] }, { signal: AbortSignal.timeout(300) }));
    expect(error?.code).toBe(Code.Canceled);
    await vi.waitFor(() => expect(proxy.cutChats()).toBe(cutBefore + 1), { timeout: 3000, interval: 25 });
  });

  it('a deadline before the first token is DEADLINE_EXCEEDED and cancels the backend call', async () => {
    const cutBefore = proxy.cutChats();
    const model = await modelId('sleepy');
    const { error } = await drain(grpc().chatStream({ request: { model, messages: [user('hello')] } }, { timeoutMs: 300 }));
    expect(error?.code).toBe(Code.DeadlineExceeded);
    await vi.waitFor(() => expect(proxy.cutChats()).toBe(cutBefore + 1), { timeout: 3000, interval: 25 });
  });

  const grpc = () => createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
});

describe('failing backends', () => {
  const fleet = demoFleet({ fast: true }).ollama.filter((m) => m.id === 'qwen2.5-coder:7b' || m.id === 'llama3.2:3b');

  async function withFailingFleet(mode: 'http500' | 'cut-stream', test: (client: RouterClient, sim: RunningSimulator) => Promise<void>): Promise<void> {
    const sim = await startOllamaSimulator({ models: fleet });
    const router = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}` });
    try {
      const client = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
      // Discovery saw the models; only now do chats to them fail (per model, so listing keeps working).
      const listed = await client.listModels({});
      expect(listed.models.filter((m) => !m.routerAlias)).toHaveLength(fleet.length);
      for (const m of fleet) sim.setFailure(mode, m.id);
      await test(client, sim);
    } finally {
      await router.stop();
      await sim.close();
    }
  }

  it('every model answering 500 gives UNAVAILABLE naming the attempts', async () => {
    await withFailingFleet('http500', async (client) => {
      const unary = await failure(() => client.chat({ messages: [user(CODING_PROMPT)] }));
      expect(unary?.code).toBe(Code.Unavailable);
      expect(unary?.rawMessage).toMatch(/qwen2\.5-coder:7b/);

      const streamed = await drain(client.chatStream({ request: { messages: [user(CODING_PROMPT)] } }));
      expect(streamed.messages).toEqual([]);
      expect(streamed.error?.code).toBe(Code.Unavailable);
    });
  });

  it('a stream cut after some tokens ends ChatStream with an error status, never a finish', async () => {
    await withFailingFleet('cut-stream', async (client) => {
      const { messages, error } = await drain(client.chatStream({ request: { messages: [user('Tell me a story about the sea.')] } }));
      expect(messages[0]?.part.case).toBe('route');
      expect(messages.slice(1).length).toBeGreaterThan(0);
      expect(messages.slice(1).every(isDelta)).toBe(true);
      expect(error?.code).toBe(Code.Unavailable);

      // The unary call collects the same stream, so it fails the same way instead of returning half an answer.
      const unary = await failure(() => client.chat({ messages: [user('Tell me a story about the sea.')] }));
      expect(unary?.code).toBe(Code.Unavailable);
    });
  });
});

describe('toConnectError', () => {
  function capture(): { values: ReturnType<typeof createContextValues>; lines: Array<Record<string, unknown>> } {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ logLevel: 'debug', logFormat: 'json' }, sink);
    return { values: createContextValues().set(kRequestLogger, logger), lines };
  }

  it.each<[RouterErrorCode, Code]>([
    ['invalid_request', Code.InvalidArgument],
    ['model_not_found', Code.NotFound],
    ['not_found', Code.NotFound],
    ['no_candidates', Code.Unavailable],
    ['all_candidates_failed', Code.Unavailable],
    ['disabled', Code.FailedPrecondition],
    ['aborted', Code.Canceled],
  ])('RouterError %s -> %s', (code, expected) => {
    const error = toConnectError(new RouterError(code, 'why'));
    expect(error.code).toBe(expected);
    expect(error.rawMessage).toBe('why');
  });

  it.each([
    ['timeout', Code.DeadlineExceeded],
    ['aborted', Code.Canceled],
    ['bad_response', Code.Unavailable],
    ['overloaded', Code.Unavailable],
    ['internal', Code.Unavailable],
  ] as const)('PluginError %s -> %s', (code, expected) => {
    const error = toConnectError(new PluginError({ code, message: 'boom', backend: 'gpu', model: 'm:7b' }));
    expect(error.code).toBe(expected);
    expect(error.rawMessage).toBe(`model m:7b on backend gpu failed (${code}): boom`);
  });

  it('anything else is INTERNAL with a generic message; the cause stays for the log line only', () => {
    const { values, lines } = capture();
    const bug = new TypeError('cannot read properties of undefined (secret detail)');
    const error = toConnectError(bug, { values });
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe('internal error');
    expect(error.cause).toBe(bug);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, code: 'Internal', msg: 'rpc failed' });
    expect(JSON.stringify(lines[0])).toContain('secret detail');
  });

  it('logs client mistakes at info and failures at warn, through the request logger', () => {
    const { values, lines } = capture();
    toConnectError(new RouterError('invalid_request', 'temperature: 3 is outside 0..2'), { values });
    toConnectError(new RouterError('all_candidates_failed', 'every model tried failed'), { values });
    expect(lines.map((l) => [l.level, l.code])).toEqual([
      [30, 'InvalidArgument'],
      [40, 'Unavailable'],
    ]);
  });

  it('prefers the abort reason connect-es put on the signal (a passed deadline)', () => {
    const controller = new AbortController();
    controller.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded));
    const error = toConnectError(new RouterError('aborted', 'the client went away'), { signal: controller.signal });
    expect(error.code).toBe(Code.DeadlineExceeded);
  });

  it('keeps a ConnectError as it is', () => {
    const original = new ConnectError('no', Code.PermissionDenied);
    expect(toConnectError(original)).toBe(original);
  });
});
