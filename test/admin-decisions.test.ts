/**
 * The routing decision log: GET /admin/decisions and AdminService.ListDecisions / WatchDecisions,
 * against a real router whose decisions come from real chat requests (REST and RPC).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { Category } from '../gen/smarterrouter/v1/common_pb.js';
import { ChatRequestSchema, Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

describe('routing decision log', () => {
  let ollama: RunningSimulator;
  let router: TestRouter;

  const chat = (content: string) =>
    fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content }] }),
    }).then((r) => r.json() as Promise<{ id: string }>);

  beforeAll(async () => {
    ollama = await startOllamaSimulator({
      models: [
        { id: 'qwen2.5-coder:7b', parameterSizeB: 7.6, quality: { coding: 0.9, reasoning: 0.5, creativity: 0.3, general: 0.5 } },
        { id: 'llama3.2:3b', parameterSizeB: 3.2, quality: { coding: 0.4, reasoning: 0.4, creativity: 0.8, general: 0.7 } },
      ],
    });
    router = await startTestRouter({ ROUTER_OLLAMA_URL: ollama.url, ROUTER_CACHE_ENABLED: 'false' });
  });
  afterAll(async () => {
    await router?.stop();
    await ollama?.close();
  });

  it('lists recent decisions newest first over REST, with candidates and attempts, filtered by model and category', async () => {
    const first = await chat('write a rust function that parses an ipv4 address');
    const second = await chat('write a short poem about autumn leaves');
    const all = (await (await fetch(`${router.url}/admin/decisions?limit=10`)).json()) as { decisions: Array<Record<string, any>> };
    const ids = all.decisions.map((d) => d.response_id);
    expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
    const coding = all.decisions.find((d) => d.response_id === first.id)!;
    expect(coding).toMatchObject({ category: 'coding', selected_model: 'qwen2.5-coder:7b', status: 'ok', routed: true, protocol: 'rest', cache: 'miss' });
    expect(coding.candidates.length).toBe(2);
    expect(coding.candidates[0].total_score).toBeGreaterThan(coding.candidates[1].total_score);
    expect(coding.attempts).toEqual([expect.objectContaining({ model: 'qwen2.5-coder:7b', ok: true })]);

    const byCategory = (await (await fetch(`${router.url}/admin/decisions?category=creativity`)).json()) as { decisions: Array<{ category: string }> };
    expect(byCategory.decisions.length).toBeGreaterThan(0);
    expect(byCategory.decisions.every((d) => d.category === 'creativity')).toBe(true);
    const byModel = (await (await fetch(`${router.url}/admin/decisions?model=${encodeURIComponent('qwen2.5-coder:7b')}&limit=1`)).json()) as { decisions: unknown[] };
    expect(byModel.decisions).toHaveLength(1);
  });

  it('rejects parameters outside the whitelist with a 400 in OpenAI error JSON', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=abc', 'category=poetry', 'sort=id;DROP TABLE routing_decisions', "model=' OR 1=1 --&limit=x"]) {
      const response = await fetch(`${router.url}/admin/decisions?${query}`);
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: { message: string; type: string } };
      expect(body.error.type).toBe('invalid_request_error');
    }
    // Still serving, nothing dropped.
    expect((await fetch(`${router.url}/admin/decisions`)).status).toBe(200);
  });

  it('ListDecisions and WatchDecisions over gRPC', async () => {
    const transport = createGrpcTransport({ baseUrl: router.url });
    const admin = createClient(AdminService, transport);
    const rpcRouter = createClient(RouterService, transport);

    const controller = new AbortController();
    const stream = admin.watchDecisions({ category: Category.CODING }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    // The subscription is in place once the server has started the stream: give it a moment by
    // sending a request that is filtered out first.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await chat('tell me a joke about cats');
    const answer = await rpcRouter.chat(create(ChatRequestSchema, { model: 'smarterrouter/main', messages: [{ role: Role.USER, content: 'fix this python: def f(: pass' }] }));
    const next = await iterator.next();
    expect(next.done).toBe(false);
    expect(next.value!.decision).toMatchObject({ responseId: answer.id, category: Category.CODING, protocol: 'grpc', selectedModel: 'qwen2.5-coder:7b' });
    expect(next.value!.decision!.candidates[0]!.totalScore).toBeGreaterThan(0);
    controller.abort();

    const listed = await admin.listDecisions({ limit: 2 });
    expect(listed.decisions[0]!.responseId).toBe(answer.id);
    expect(listed.decisions).toHaveLength(2);

    const tooMany = await admin.listDecisions({ limit: 501 }).catch((e: unknown) => ConnectError.from(e));
    expect((tooMany as ConnectError).code).toBe(Code.InvalidArgument);
    const badCategory = await admin.listDecisions({ category: 99 as Category }).catch((e: unknown) => ConnectError.from(e));
    expect((badCategory as ConnectError).code).toBe(Code.InvalidArgument);
    const badWatch = await (async () => {
      for await (const _ of admin.watchDecisions({ category: 99 as Category })) void _;
    })().catch((e: unknown) => ConnectError.from(e));
    expect((badWatch as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
