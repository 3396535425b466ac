/**
 * Which judge a running router profiles with: the LLM judge at ROUTER_JUDGE_BASE_URL or on a
 * backend model when ROUTER_JUDGE_ENABLED, the heuristic otherwise; LLM judge failures fall back to
 * the heuristic and are recorded (status, run summary, the stored judge name). The simulators do
 * not write gradings, so every LLM verdict here is unreadable: exactly the failure path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOllamaSimulator, startOpenAISimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const isJudgeRequest = (body: unknown): boolean => JSON.stringify(body ?? '').includes('strict, fair grader');

async function fleet(): Promise<RunningSimulator> {
  const sim = await startOllamaSimulator({ models: [{ id: 'small:3b', parameterSizeB: 3 }, { id: 'big:14b', parameterSizeB: 14 }] });
  cleanups.push(() => sim.close());
  return sim;
}

async function profileOnce(env: Record<string, string>): Promise<{ router: TestRouter; message: string }> {
  const router = await startTestRouter({ ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1', ...env });
  cleanups.push(() => router.stop());
  const entries = router.core.registry.entriesList().filter((e) => e.key === 'small:3b');
  const run = router.core.knowledge.coordinator.start({ entries, force: true });
  let message = '';
  for await (const event of run.events()) if (event.state === 'finished') message = event.message;
  return { router, message };
}

describe('profiling judges in a running router', () => {
  it('uses the heuristic judge by default', async () => {
    const sim = await fleet();
    const { router, message } = await profileOnce({ ROUTER_OLLAMA_URL: sim.url });
    expect(message).toBe('1 profiled, 0 failed, 0 skipped');
    expect(router.core.knowledge.knowledge.profile('small:3b')?.categories.general?.judge).toBe('heuristic');
    expect(sim.requests.some((r) => isJudgeRequest(r.body))).toBe(false);
  });

  it('asks the LLM judge at ROUTER_JUDGE_BASE_URL, falls back to the heuristic when it fails, and records it', async () => {
    const sim = await fleet();
    const judge = await startOpenAISimulator({ models: [{ id: 'judge-model' }], apiKey: 'judge-key' });
    cleanups.push(() => judge.close());
    const { router, message } = await profileOnce({
      ROUTER_OLLAMA_URL: sim.url,
      ROUTER_JUDGE_ENABLED: 'true',
      ROUTER_JUDGE_BASE_URL: `${judge.url}/v1`,
      ROUTER_JUDGE_MODEL: 'judge-model',
      ROUTER_JUDGE_API_KEY: 'judge-key',
    });
    const judged = judge.requests.filter((r) => isJudgeRequest(r.body));
    expect(judged.length).toBeGreaterThan(0);
    expect(judged[0].headers.authorization).toBe('Bearer judge-key');
    expect((judged[0].body as { model: string }).model).toBe('judge-model');
    expect(message).toMatch(/^1 profiled, 0 failed, 0 skipped, LLM judge failed \d+ times \(heuristic used\)$/);
    expect(router.core.knowledge.coordinator.status().judgeFallbacks).toBeGreaterThan(0);
    const profile = router.core.knowledge.knowledge.profile('small:3b');
    expect(profile?.categories.coding?.judge).toBe('llm+heuristic');
    expect(profile?.scores.general).toBeGreaterThan(0);
  });

  it('without a base URL judges with the largest backend chat model', async () => {
    const sim = await fleet();
    await profileOnce({ ROUTER_OLLAMA_URL: sim.url, ROUTER_JUDGE_ENABLED: 'true' });
    const judged = sim.requests.filter((r) => isJudgeRequest(r.body)).map((r) => (r.body as { model: string }).model);
    expect(judged.length).toBeGreaterThan(0);
    expect(new Set(judged)).toEqual(new Set(['big:14b']));
  });

  it('degrades to the heuristic, with the failure recorded, when the judge model does not exist', async () => {
    const sim = await fleet();
    const { router, message } = await profileOnce({ ROUTER_OLLAMA_URL: sim.url, ROUTER_JUDGE_ENABLED: 'true', ROUTER_JUDGE_MODEL: 'ghost:70b' });
    expect(message).toMatch(/^1 profiled, 0 failed, 0 skipped, LLM judge failed 1 times/);
    expect(router.core.knowledge.knowledge.profile('small:3b')?.categories.coding?.judge).toBe('heuristic');
    expect(sim.requests.some((r) => isJudgeRequest(r.body))).toBe(false);
  });
});
