/**
 * A fleet of simulated models of different sizes and skills gets sensible decisions, seen through
 * the real explain endpoint of a real router: hard coding goes to the large coder, an image to the
 * vision model, tools to a tools-capable model, and the embedding model never chats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

let sim: RunningSimulator;
let router: TestRouter;

beforeAll(async () => {
  sim = await startOllamaSimulator({
    models: [
      { id: 'qwen2.5-coder:32b', family: 'qwen2', parameterSizeB: 32.8, contextLength: 32768, capabilities: { tools: true } },
      { id: 'llama3.2:3b', family: 'llama', parameterSizeB: 3.2, contextLength: 131072, capabilities: { tools: true } },
      { id: 'llama3.1:8b', family: 'llama', parameterSizeB: 8, contextLength: 131072, capabilities: { tools: true } },
      { id: 'llava:13b', family: 'llama', parameterSizeB: 13, contextLength: 4096, capabilities: { vision: true } },
      { id: 'gemma2:2b', family: 'gemma2', parameterSizeB: 2.6, contextLength: 8192 },
      { id: 'nomic-embed-text:latest', family: 'nomic-bert', parameterSizeB: 0.137, capabilities: { embeddings: true } },
    ],
  });
  router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

interface ExplainJson {
  category: string;
  complexity: string;
  needs: { vision: boolean; tools: boolean };
  selected_model: string;
  candidates: Array<{ model: string; excluded: boolean; reason: string | null; total_score: number | null }>;
}

async function explainPrompt(prompt: string, extra = ''): Promise<ExplainJson> {
  const res = await fetch(`${router.url}/admin/explain?prompt=${encodeURIComponent(prompt)}${extra}`);
  expect(res.status).toBe(200);
  return (await res.json()) as ExplainJson;
}

async function explainRequest(body: object): Promise<ExplainJson> {
  const explanation = await router.core.router.explain({ model: 'smarterrouter/main', protocol: 'rest', ...body } as never);
  return {
    category: explanation.category,
    complexity: explanation.complexity,
    needs: explanation.needs,
    selected_model: explanation.selectedModel!,
    candidates: explanation.candidates.map((c) => ({ model: c.model, excluded: c.excluded, reason: c.reason ?? null, total_score: c.total ?? null })),
  };
}

describe('routing decisions on a simulated fleet', () => {
  it('sends hard coding to the large coder', async () => {
    const e = await explainPrompt(
      'Design and implement a lock-free multi-producer multi-consumer queue in C++20 with hazard pointers, explain the memory ordering of each atomic operation, and write a stress test harness.',
    );
    expect(e.category).toBe('coding');
    expect(e.complexity).toBe('hard');
    expect(e.selected_model).toBe('qwen2.5-coder:32b');
  });

  it('sends an image to the vision model', async () => {
    const e = await explainRequest({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
          ],
        },
      ],
    });
    expect(e.needs.vision).toBe(true);
    expect(e.selected_model).toBe('llava:13b');
    for (const c of e.candidates.filter((c) => c.model !== 'llava:13b')) {
      expect(c.excluded).toBe(true);
      expect(c.reason).toMatch(/vision|embedding/);
    }
  });

  it('sends tool use to a tools-capable model only', async () => {
    const e = await explainRequest({
      messages: [{ role: 'user', content: 'What is the weather in Paris right now?' }],
      tools: [{ name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(e.needs.tools).toBe(true);
    expect(['qwen2.5-coder:32b', 'llama3.2:3b', 'llama3.1:8b']).toContain(e.selected_model);
    expect(e.candidates.find((c) => c.model === 'gemma2:2b')).toMatchObject({ excluded: true, reason: expect.stringMatching(/tool/) });
    expect(e.candidates.find((c) => c.model === 'llava:13b')).toMatchObject({ excluded: true });
  });

  it('never offers the embedding model for chat, whatever the prompt', async () => {
    for (const prompt of ['hi', 'Embed this sentence please', 'Write a haiku about vectors', 'Compute 17 * 23']) {
      const e = await explainPrompt(prompt);
      expect(e.selected_model).not.toBe('nomic-embed-text:latest');
      expect(e.candidates.find((c) => c.model === 'nomic-embed-text:latest')).toMatchObject({ excluded: true, reason: expect.stringMatching(/embedding/) });
    }
  });

  it('leans to a small fast model for simple chit-chat when speed is preferred', async () => {
    const e = await explainPrompt('hey, how are you doing today?', '&quality_preference=0.1');
    expect(e.category).toBe('general');
    expect(e.complexity).toBe('simple');
    expect(['llama3.2:3b', 'gemma2:2b']).toContain(e.selected_model);
  });

  it('scores the benchmark factor from public scores for well-known models', async () => {
    const res = await fetch(`${router.url}/admin/explain?prompt=${encodeURIComponent('Write a SQL query that finds duplicate emails.')}`);
    const e = (await res.json()) as { candidates: Array<{ model: string; estimated: string[]; factors: { benchmark: number } | null }> };
    const coder = e.candidates.find((c) => c.model === 'qwen2.5-coder:32b')!;
    const small = e.candidates.find((c) => c.model === 'llama3.2:3b')!;
    // Both are in the bundled dataset: measured (published) scores, not priors.
    expect(coder.estimated).not.toContain('benchmark');
    expect(small.estimated).not.toContain('benchmark');
    expect(coder.factors!.benchmark).toBeGreaterThan(small.factors!.benchmark);
  });

  it('is deterministic for the same state', async () => {
    const a = await explainPrompt('Explain the difference between TCP and UDP.');
    const b = await explainPrompt('Explain the difference between TCP and UDP.');
    expect(b.candidates).toEqual(a.candidates);
  });

  it('rejects a bad quality preference and a missing prompt with OpenAI error JSON', async () => {
    const bad = await fetch(`${router.url}/admin/explain?prompt=hi&quality_preference=1.5`);
    expect(bad.status).toBe(400);
    const badError = ((await bad.json()) as { error: { message: string } }).error;
    expect(badError).toMatchObject({ type: 'invalid_request_error', param: 'quality_preference' });
    // The value quoted back is the query's, not the (absent) body's.
    expect(badError.message).toContain('but got 1.5');
    const word = ((await (await fetch(`${router.url}/admin/explain?prompt=hi&quality_preference=abc`)).json()) as { error: { message: string } }).error;
    expect(word.message).toMatch(/expected a number, but got a string/);
    const missing = await fetch(`${router.url}/admin/explain`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('POST /admin/explain', () => {
  it('explains a whole OpenAI chat request without generating anything', async () => {
    const before = sim.requests.filter((r) => r.path === '/api/chat').length;
    const res = await fetch(`${router.url}/admin/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'smarterrouter/main',
        messages: [
          { role: 'system', content: 'You are a senior Rust engineer.' },
          { role: 'user', content: 'Why does this borrow checker error happen?\n```rust\nlet r = &mut v; v.push(1); r.len();\n```' },
        ],
        tools: [{ type: 'function', function: { name: 'run_cargo', parameters: { type: 'object', properties: {} } } }],
      }),
    });
    expect(res.status).toBe(200);
    const e = (await res.json()) as ExplainJson & { complexity_score: number };
    expect(e.category).toBe('coding');
    expect(e.needs.tools).toBe(true);
    expect(typeof e.complexity_score).toBe('number');
    expect(e.candidates.find((c) => c.model === e.selected_model)?.total_score).toEqual(expect.any(Number));
    expect(sim.requests.filter((r) => r.path === '/api/chat').length).toBe(before);
  });

  it('rejects a bad request with OpenAI error JSON naming the field', async () => {
    const res = await fetch(`${router.url}/admin/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], temperature: 9 }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('temperature');
  });
});
