/**
 * Circuit breakers in a real router with two simulated Ollama backends: a backend that dies is
 * skipped after ROUTER_CIRCUIT_FAILURE_THRESHOLD failures (no more attempts on it, explain says
 * "circuit open", stats and /metrics show it), is probed back after ROUTER_CIRCUIT_COOLDOWN and
 * serves again; a model that keeps failing gets its own circuit; with every capable circuit open the
 * request fails fast naming the circuit.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const BEST = 'qwen2.5-coder:32b';
const NEXT = 'llama3.1:8b';
const PROMPT = 'Write a Python function that parses an ISO 8601 date string and returns a datetime, with tests.';
const modelA = { id: BEST, parameterSizeB: 32.8, quality: { coding: 0.95 } };

let simA: RunningSimulator;
let simB: RunningSimulator;
let portA: number;
let router: TestRouter;
let client: OpenAI;

beforeAll(async () => {
  simA = await startOllamaSimulator({ models: [modelA] });
  simB = await startOllamaSimulator({ models: [{ id: NEXT, parameterSizeB: 8, quality: { coding: 0.6 } }] });
  portA = Number(new URL(simA.url).port);
  router = await startTestRouter({
    ROUTER_BACKENDS: `a=ollama:${simA.url},b=ollama:${simB.url}`,
    ROUTER_CIRCUIT_FAILURE_THRESHOLD: '2',
    // Long enough for the checks below to see the circuit open; the probe test waits it out.
    ROUTER_CIRCUIT_COOLDOWN: '3',
    ROUTER_CACHE_ENABLED: 'false',
  });
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await router?.stop();
  await simA?.close();
  await simB?.close();
});

async function answeredBy(model = 'smarterrouter/main'): Promise<string | null> {
  const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: PROMPT }] }).withResponse();
  return response.headers.get('x-router-model');
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${router.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const attemptsOn = (model: string) => metric('smarterrouter_upstream_attempts_total', { model });

describe('a backend that dies', () => {
  it('is skipped after the threshold: no more attempts on it, answers come from the other backend', async () => {
    expect(await answeredBy()).toBe(BEST);
    await simA.close();
    // Two failures (connection refused) open the circuit; each of these requests still succeeds.
    expect(await answeredBy()).toBe(NEXT);
    expect(await answeredBy()).toBe(NEXT);
    const tried = await attemptsOn(BEST);
    const probes = await metric('smarterrouter_circuit_transitions_total', { scope: 'backend', name: 'a', to: 'half_open' });
    for (let i = 0; i < 5; i++) expect(await answeredBy()).toBe(NEXT);
    // Skipped: the only attempts on it are half-open probes (none unless the cool-down passed).
    const probed = (await metric('smarterrouter_circuit_transitions_total', { scope: 'backend', name: 'a', to: 'half_open' })) - probes;
    expect((await attemptsOn(BEST)) - tried).toBe(probed);
    expect(probed).toBeLessThan(5);
    expect(await metric('smarterrouter_circuit_state', { scope: 'backend', name: 'a' })).toBe(2);
    expect(await metric('smarterrouter_circuit_transitions_total', { scope: 'backend', name: 'a', to: 'open' })).toBe(1 + probed);
  });

  it('shows "circuit open" as the exclusion reason in explain', async () => {
    const body = (await (await fetch(`${router.url}/admin/explain?prompt=${encodeURIComponent(PROMPT)}`)).json()) as {
      selected_model: string;
      candidates: Array<{ model: string; excluded: boolean; reason: string | null }>;
    };
    expect(body.selected_model).toBe(NEXT);
    expect(body.candidates.find((c) => c.model === BEST)).toMatchObject({ excluded: true, reason: expect.stringMatching(/^circuit open: backend "a" failed 2 times in a row \(last: unreachable\)/) });
  });

  it('is reported unhealthy by /admin/stats with the circuit as the reason', async () => {
    const stats = (await (await fetch(`${router.url}/admin/stats`)).json()) as { backends: Array<{ name: string; healthy: boolean; message: string }> };
    expect(stats.backends.find((b) => b.name === 'a')).toMatchObject({ healthy: false, message: expect.stringMatching(/^circuit (open|half-open) after 2 failures/) });
    expect(stats.backends.find((b) => b.name === 'b')).toMatchObject({ name: 'b' });
  });

  it('fails fast naming the circuit when the client asks for that backend\'s model', async () => {
    await expect(answeredBy(BEST)).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/circuit (open|half-open)/) });
  });

  it('is probed again after the cool-down and serves again once it answers', async () => {
    simA = await startOllamaSimulator({ models: [modelA], port: portA });
    // The first request after the cool-down is the probe; it reaches the revived backend.
    await expect.poll(() => answeredBy(), { timeout: 10_000, interval: 100 }).toBe(BEST);
    expect(await metric('smarterrouter_circuit_state', { scope: 'backend', name: 'a' })).toBe(0);
    expect(await metric('smarterrouter_circuit_transitions_total', { scope: 'backend', name: 'a', to: 'half_open' })).toBeGreaterThanOrEqual(1);
    expect(await metric('smarterrouter_circuit_transitions_total', { scope: 'backend', name: 'a', to: 'closed' })).toBe(1);
  });
});

describe('a model that keeps failing', () => {
  it('gets its own circuit; its backend stays closed', async () => {
    simA.setFailure('overloaded', BEST);
    try {
      expect(await answeredBy()).toBe(NEXT);
      expect(await answeredBy()).toBe(NEXT);
      const tried = await attemptsOn(BEST);
      expect(await answeredBy()).toBe(NEXT);
      expect(await attemptsOn(BEST)).toBe(tried);
      expect(await metric('smarterrouter_circuit_state', { scope: 'model', name: BEST })).toBe(2);
      expect(await metric('smarterrouter_circuit_state', { scope: 'backend', name: 'a' })).toBe(0);
    } finally {
      simA.setFailure('none');
    }
    await expect.poll(() => answeredBy(), { timeout: 10_000, interval: 100 }).toBe(BEST);
  });
});
