/**
 * The two doors to the routing core's explain show the same numbers: REST GET and POST /admin/explain
 * and RouterService.Explain (gRPC and Connect) list the same candidates in the same order, with the
 * same totals and the same factors, weighted as the proto documents (each factor is the amount it
 * adds to total_score, so they sum to it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { type ExplainResponse, Role, RouterService } from '../gen/smarterrouter/v1/router_pb.js';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { demoFleet, startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

interface RestCandidate {
  model: string;
  backend: string;
  total_score: number | null;
  factors: Record<'capability' | 'benchmark' | 'speed' | 'recency' | 'feedback' | 'size_penalty' | 'vram', number> | null;
  excluded: boolean;
  reason: string | null;
}
interface RestExplanation {
  selected_model: string | null;
  quality_preference: number;
  candidates: RestCandidate[];
}

/** One door's answer in a shape both doors can be compared in. */
interface Seen {
  selected: string;
  qualityPreference: number;
  candidates: Array<{ model: string; backend: string; excluded: boolean; total?: number; factors?: number[] }>;
}

const FACTORS = ['capability', 'benchmark', 'speed', 'recency', 'feedback', 'sizePenalty', 'vram'] as const;

function fromRest(e: RestExplanation): Seen {
  return {
    selected: e.selected_model ?? '',
    qualityPreference: e.quality_preference,
    candidates: e.candidates.map((c) => ({
      model: c.model,
      backend: c.backend,
      excluded: c.excluded,
      ...(c.factors
        ? {
            total: c.total_score!,
            factors: [c.factors.capability, c.factors.benchmark, c.factors.speed, c.factors.recency, c.factors.feedback, c.factors.size_penalty, c.factors.vram],
          }
        : {}),
    })),
  };
}

function fromRpc(e: ExplainResponse): Seen {
  return {
    selected: e.selectedModel,
    qualityPreference: e.qualityPreference,
    candidates: e.candidates.map((c) => ({
      model: c.model,
      backend: c.backend,
      excluded: c.excluded,
      ...(c.factors ? { total: c.totalScore, factors: FACTORS.map((f) => c.factors![f]) } : {}),
    })),
  };
}

/** Same candidates, order, totals and factors (to float precision: JSON and protobuf doubles). */
function expectSame(actual: Seen, expected: Seen, door: string): void {
  expect(actual.selected, door).toBe(expected.selected);
  expect(actual.qualityPreference, door).toBeCloseTo(expected.qualityPreference, 12);
  expect(actual.candidates.map((c) => [c.model, c.backend, c.excluded]), door).toEqual(expected.candidates.map((c) => [c.model, c.backend, c.excluded]));
  actual.candidates.forEach((c, i) => {
    const e = expected.candidates[i]!;
    expect(c.total === undefined, `${door} ${c.model} total`).toBe(e.total === undefined);
    if (c.total !== undefined) expect(c.total, `${door} ${c.model} total`).toBeCloseTo(e.total!, 12);
    expect(c.factors?.length, `${door} ${c.model} factors`).toBe(e.factors?.length);
    c.factors?.forEach((f, j) => expect(f, `${door} ${c.model} ${FACTORS[j]}`).toBeCloseTo(e.factors![j]!, 12));
  });
}

let sim: RunningSimulator;
let router: TestRouter;

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: demoFleet({ fast: true }).ollama });
  router = await startTestRouter({ ROUTER_BACKENDS: `sim=ollama:${sim.url}` });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

async function rest(prompt: string, qualityPreference?: number): Promise<{ get: Seen; post: Seen }> {
  const query = new URLSearchParams({ prompt, ...(qualityPreference !== undefined ? { quality_preference: String(qualityPreference) } : {}) });
  const get = await fetch(`${router.url}/admin/explain?${query}`);
  expect(get.status).toBe(200);
  const post = await fetch(`${router.url}/admin/explain`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(qualityPreference !== undefined ? { 'x-router-quality-preference': String(qualityPreference) } : {}),
    },
    body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: prompt }] }),
  });
  expect(post.status).toBe(200);
  return { get: fromRest((await get.json()) as RestExplanation), post: fromRest((await post.json()) as RestExplanation) };
}

async function rpc(prompt: string, qualityPreference?: number): Promise<{ grpc: Seen; connect: Seen }> {
  const request = { input: { case: 'prompt' as const, value: prompt }, ...(qualityPreference !== undefined ? { qualityPreference } : {}) };
  const grpc = await createClient(RouterService, createGrpcTransport({ baseUrl: router.url })).explain(request);
  const connect = await createClient(RouterService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' })).explain(request);
  return { grpc: fromRpc(grpc), connect: fromRpc(connect) };
}

describe('REST /admin/explain and RouterService.Explain', () => {
  it.each([
    ['a coding prompt, the configured preference', 'Write a Python function that merges two sorted lists, with unit tests.', undefined],
    ['a simple question leaning towards speed', 'What is the capital of Peru?', 0.2],
    ['a hard reasoning prompt leaning towards quality', 'Prove that there are infinitely many primes, then explain why the proof fails for primes of the form n^2 + 1.', 0.9],
  ] as const)('show the same candidates, totals and factors for %s', async (_name, prompt, qualityPreference) => {
    const viaRest = await rest(prompt, qualityPreference);
    const viaRpc = await rpc(prompt, qualityPreference);

    expect(viaRpc.grpc.candidates.filter((c) => c.factors).length).toBeGreaterThanOrEqual(3);
    if (qualityPreference !== undefined) expect(viaRpc.grpc.qualityPreference).toBeCloseTo(qualityPreference, 12);
    expectSame(viaRest.get, viaRpc.grpc, 'GET /admin/explain');
    expectSame(viaRest.post, viaRpc.grpc, 'POST /admin/explain');
    expectSame(viaRpc.connect, viaRpc.grpc, 'Explain over Connect');
  });

  it('weights the factors on both doors: they add up to the total, as the proto documents', async () => {
    const prompt = 'Refactor this TypeScript class to use dependency injection and explain the trade-offs.';
    const { get } = await rest(prompt, 0.8);
    const { grpc } = await rpc(prompt, 0.8);
    for (const seen of [get, grpc]) {
      const ranked = seen.candidates.filter((c) => c.factors);
      expect(ranked.length).toBeGreaterThanOrEqual(3);
      for (const c of ranked) {
        const sum = c.factors!.reduce((a, b) => a + b, 0);
        expect(sum, c.model).toBeCloseTo(c.total!, 9);
      }
      // Weighted, not raw: at q = 0.8 speed weighs 0.2 · 2 · 0.2 = 0.08, so no speed factor reaches 0.1.
      expect(Math.max(...ranked.map((c) => c.factors![2]!))).toBeLessThanOrEqual(0.08 + 1e-9);
    }
  });

  it('the decision log shows the same weighted factors on both doors (GET /admin/decisions, ListDecisions)', async () => {
    const rpcRouter = createClient(RouterService, createGrpcTransport({ baseUrl: router.url }));
    const answer = await rpcRouter.chat({ model: 'smarterrouter/main', qualityPreference: 0.7, messages: [{ role: Role.USER, content: 'Write a SQL query that finds duplicate emails.' }] });
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: router.url }));
    let viaRpc: Seen | undefined;
    for (let i = 0; i < 100 && !viaRpc; i++) {
      const found = (await admin.listDecisions({ limit: 20 })).decisions.find((d) => d.responseId === answer.id);
      if (found) viaRpc = fromRpc({ selectedModel: found.selectedModel, qualityPreference: found.qualityPreference, candidates: found.candidates } as unknown as ExplainResponse);
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(viaRpc, 'the decision to be stored').toBeDefined();
    const rest = (await (await fetch(`${router.url}/admin/decisions?limit=20`)).json()) as { decisions: Array<RestExplanation & { response_id: string }> };
    const viaRest = fromRest(rest.decisions.find((d) => d.response_id === answer.id)!);
    expectSame(viaRest, viaRpc!, 'GET /admin/decisions');
    const ranked = viaRest.candidates.filter((c) => c.factors);
    expect(ranked.length).toBeGreaterThanOrEqual(3);
    for (const c of ranked) expect(c.factors!.reduce((a, b) => a + b, 0), c.model).toBeCloseTo(c.total!, 3);
  });
});
