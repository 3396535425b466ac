/**
 * A bounded loopback load test: 16 concurrent clients send 1,500 chat requests (after 200 of warm-up) to a router with two
 * simulated Ollama backends, and one backend is killed halfway through. Nothing may crash, every
 * request must succeed (the other backend can answer each one), every decision and every feedback
 * must be in the SQLite file afterwards, and memory must stay flat (generous bounds: this measures a
 * leak, not an allocation profile). The longer soak is `npx tsx bench/soak.ts` (docs/soak.md).
 */
import http from 'node:http';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const WARMUP = 200;
const REQUESTS = 1500;
const CLIENTS = 16;
const FEEDBACK_EVERY = 20;
const PROMPTS = [
  'Write a Python function that parses an ISO 8601 date string and returns a datetime.',
  'What is the capital of Peru?',
  'Explain step by step why the sum of two odd numbers is even.',
  'Write a short poem about autumn rain.',
];

let simA: RunningSimulator;
let simB: RunningSimulator;
let router: TestRouter;
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

beforeAll(async () => {
  simA = await startOllamaSimulator({ models: [{ id: 'qwen2.5-coder:32b', parameterSizeB: 32.8, quality: { coding: 0.95, reasoning: 0.8 } }] });
  simB = await startOllamaSimulator({ models: [{ id: 'llama3.1:8b', parameterSizeB: 8, quality: { coding: 0.6, general: 0.7 } }] });
  router = await startTestRouter({
    ROUTER_BACKENDS: `a=ollama:${simA.url},b=ollama:${simB.url}`,
    // Every request must reach a model: no cached answers, no background profiling load.
    ROUTER_CACHE_ENABLED: 'false',
    ROUTER_PROFILE_ON_STARTUP: 'false',
    ROUTER_SHUTDOWN_TIMEOUT: '10',
    // The product defaults: the dead backend's circuit must open during the run.
    ROUTER_CIRCUIT_FAILURE_THRESHOLD: '3',
    ROUTER_CIRCUIT_COOLDOWN: '5',
  });
});
afterAll(async () => {
  agent.destroy();
  await router?.stop();
  await simA?.close();
  await simB?.close();
});

/** A lean keep-alive client: the load is on the router, not on a heavyweight HTTP client. */
function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const url = new URL(path, router.url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (error) {
          reject(error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface RunResult {
  ok: number;
  failed: Array<{ status: number; body: unknown }>;
  feedback: number;
}

async function run(count: number, offset: number, midway?: () => Promise<void>): Promise<RunResult> {
  const result: RunResult = { ok: 0, failed: [], feedback: 0 };
  let next = 0;
  let killed: Promise<void> | undefined;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < count) {
        const i = next++;
        if (midway && i === count / 2) killed = midway();
        const { status, json } = await post('/v1/chat/completions', {
          model: 'smarterrouter/main',
          messages: [{ role: 'user', content: `${PROMPTS[i % PROMPTS.length]} (#${offset + i})` }],
          max_tokens: 8,
        });
        if (status !== 200) {
          result.failed.push({ status, body: json });
          continue;
        }
        result.ok++;
        if (i % FEEDBACK_EVERY === 0) {
          const fb = await post('/v1/feedback', { response_id: json.id, score: i % 40 === 0 ? 1 : -0.5 });
          if (fb.status === 200) result.feedback++;
          else result.failed.push({ status: fb.status, body: fb.json });
        }
      }
    }),
  );
  await killed;
  return result;
}

/** A full GC before each memory reading, so the comparison is of live objects. */
function liveMemory(): { heapMb: number; rssMb: number } {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 };
}

async function count(table: string): Promise<number> {
  const db = await openDatabase(join(router.dir, 'router.db'));
  try {
    const [row] = (await db.em.getKnex()(table).count({ n: '*' })) as Array<{ n: number }>;
    return Number(row!.n);
  } finally {
    await db.close();
  }
}

describe('load with a backend dying mid-run', () => {
  it('serves every request, loses no decision or feedback row, and keeps memory flat', { timeout: 120_000 }, async () => {
    const warm = await run(WARMUP, 0);
    expect(warm.failed).toEqual([]);
    const before = liveMemory();

    const main = await run(REQUESTS, WARMUP, () => simA.close());
    // Every request had a capable alternative on backend b: none may fail.
    expect(main.failed).toEqual([]);
    expect(main.ok).toBe(REQUESTS);
    const after = liveMemory();
    if (process.env.LOAD_TEST_VERBOSE) console.info({ before, after, feedback: warm.feedback + main.feedback });

    // Still up and answering after the backend died.
    const health = await fetch(`${router.url}/health`);
    expect([200, 503]).toContain(health.status);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    // The dead backend's circuit opened, so the rest of the run skipped it.
    expect(metrics).toMatch(/smarterrouter_circuit_transitions_total\{scope="backend",name="a",to="open"\} [1-9]/);

    // Generous bounds: a leak of even 1 KB per request would be 1.5 MB of heap; allow 32.
    expect(after.heapMb - before.heapMb).toBeLessThan(32);
    expect(after.rssMb - before.rssMb).toBeLessThan(128);

    const feedbackSent = warm.feedback + main.feedback;
    await router.close();
    expect(await count('routing_decisions')).toBe(WARMUP + REQUESTS);
    expect(await count('feedback')).toBe(feedbackSent);
  });
});
