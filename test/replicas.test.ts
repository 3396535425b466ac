/**
 * Scale-out: router replicas sharing one PostgreSQL database and one Redis, all real servers on
 * loopback (test/support/services.ts), in front of one simulated Ollama. Two replicas run in this
 * process (so the test can look inside them); a third runs as its own `npm start` process so it
 * can be killed with SIGKILL in the middle of a load.
 *
 * Checked: a cached answer is a hit on the other replica, a rate limit counts across replicas, each
 * model is profiled once for the whole fleet, feedback given through one replica reaches the
 * other's scores, a circuit opened on one opens on the other, and a replica killed mid-load leaves
 * the other serving (what it dropped succeeds when retried there, as a load balancer would).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';
import { freePort, startPostgres, startRedis, type PostgresService, type Service } from './support/services.js';

const ROOT = resolve(import.meta.dirname, '..');
const RATE_LIMIT = 4;
const LOAD = 16;
const KEYS = ['cache-key', 'rl-key', 'fb-key', 'circuit-key', 'after-key', ...Array.from({ length: LOAD * 3 }, (_, i) => `load-${i}`)];
const FLEET: SimModel[] = [
  { id: 'coder:7b', quality: { coding: 0.95, reasoning: 0.6, creativity: 0.4, general: 0.6 } },
  { id: 'chat:3b', quality: { coding: 0.3, reasoning: 0.4, creativity: 0.8, general: 0.8 } },
  // Slow to answer, so requests are still in flight when a replica is killed.
  { id: 'slow:1b', firstTokenMs: 150, tokensPerSecond: 80 },
  // Only the circuit test talks to it.
  { id: 'flaky:1b' },
];
const CHAT_MODELS = FLEET.length;

const pgStarted = await startPostgres();
const redisStarted = await startRedis();
const skip = 'skip' in pgStarted ? pgStarted.skip : 'skip' in redisStarted ? redisStarted.skip : undefined;

let pg: PostgresService | undefined;
let redis: Service | undefined;
let sim: RunningSimulator;
let a: TestRouter;
let b: TestRouter;
let env: Record<string, string>;
let inspect: Redis;
const prefix = `sr-test-${process.pid}:`;

beforeAll(async () => {
  if (skip) return;
  pg = pgStarted as PostgresService;
  redis = redisStarted as Service;
  sim = await startOllamaSimulator({ models: FLEET });
  env = {
    ROUTER_DATABASE_URL: await pg.createDatabase('replicas'),
    ROUTER_REDIS_URL: redis.url,
    ROUTER_REDIS_PREFIX: prefix,
    ROUTER_OLLAMA_URL: sim.url,
    ROUTER_API_KEYS: KEYS.join(','),
    ROUTER_RATE_LIMIT_ENABLED: 'true',
    ROUTER_RATE_LIMIT_REQUESTS_PER_MINUTE: String(RATE_LIMIT),
    ROUTER_PROFILE_ON_STARTUP: 'true',
    ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1',
    ROUTER_PROFILE_TIMEOUT: '20',
    ROUTER_FEEDBACK_SYNC_INTERVAL: '0.2',
    ROUTER_CIRCUIT_FAILURE_THRESHOLD: '2',
    ROUTER_CIRCUIT_COOLDOWN: '600',
  };
  // Both at once: they race for the migrations and for every model's profiling lock.
  [a, b] = await Promise.all([startTestRouter(env), startTestRouter(env)]);
  inspect = new Redis(redis.url, { lazyConnect: true });
  await inspect.connect();
}, 60_000);

afterAll(async () => {
  inspect?.disconnect();
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await sim?.close();
  await pg?.stop();
  await redis?.stop();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function chat(router: { url: string }, key: string, content: string, model = 'smarterrouter/main'): Promise<Response> {
  return fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: auth(key),
    body: JSON.stringify({ model, temperature: 0, messages: [{ role: 'user', content }] }),
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skip !== undefined)(`two replicas on PostgreSQL + Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('profiles each model once for the whole fleet, and both replicas route with the result', async () => {
    const settled = () => {
      const sa = a.core.knowledge.coordinator.status();
      const sb = b.core.knowledge.coordinator.status();
      const idle = !sa.running && !sb.running && sa.queuedModels.length === 0 && sb.queuedModels.length === 0;
      return idle && sa.completedCount + sb.completedCount >= CHAT_MODELS ? [sa.completedCount, sb.completedCount] : undefined;
    };
    const [doneA, doneB] = await until('profiling to settle on both replicas', settled, 40_000);
    // Each model profiled to the end exactly once, on one replica or the other.
    expect(doneA + doneB).toBe(CHAT_MODELS);
    for (const replica of [a, b]) {
      await until('the other replica’s profiles', () => (replica.core.knowledge.knowledge.profiles().size === CHAT_MODELS ? true : undefined));
    }
  });

  it('an answer cached by one replica is a cache hit on the other', async () => {
    const prompt = 'What is the capital of Peru? (cache test)';
    const first = await chat(a, 'cache-key', prompt);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-router-cache')).toBe('miss');
    const body = (await first.json()) as { choices: Array<{ message: { content: string } }> };
    // Written to Redis in the background once the answer is complete.
    await until('the shared cache entry', async () => ((await inspect.keys(`${prefix}response:idx:*`)).length > 0 ? true : undefined));
    const chatsBefore = sim.requests.filter((r) => r.path === '/api/chat').length;
    const second = await chat(b, 'cache-key', prompt);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-router-cache')).toBe('hit');
    expect(((await second.json()) as typeof body).choices[0]!.message.content).toBe(body.choices[0]!.message.content);
    expect(sim.requests.filter((r) => r.path === '/api/chat').length).toBe(chatsBefore);
  });

  it('a rate limit counts the requests a client sent to every replica', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT + 2; i++) {
      const res = await fetch(`${(i % 2 ? b : a).url}/v1/models`, { headers: auth('rl-key') });
      statuses.push(res.status);
      if (i === RATE_LIMIT - 1) expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    }
    expect(statuses).toEqual([...Array(RATE_LIMIT).fill(200), 429, 429]);
  });

  it('feedback given through one replica changes routing on the other within seconds', async () => {
    const prompt = 'Write a Python function that merges two sorted lists.';
    const res = await chat(a, 'fb-key', prompt);
    expect(res.status).toBe(200);
    const model = res.headers.get('x-router-model')!;
    const category = res.headers.get('x-router-category')! as 'coding';
    const { id } = (await res.json()) as { id: string };
    expect(b.core.router.feedbackBook.mean(model, category)).toBeUndefined();
    const feedback = await fetch(`${a.url}/v1/feedback`, { method: 'POST', headers: auth('fb-key'), body: JSON.stringify({ response_id: id, score: -1 }) });
    expect(feedback.status).toBe(200);
    expect(await until('the feedback on the other replica', () => b.core.router.feedbackBook.mean(model, category))).toBe(-1);
    // Counted once on the replica that took it, too.
    expect(a.core.router.feedbackBook.mean(model, category)).toBe(-1);
    const explain = (await (await fetch(`${b.url}/admin/explain?prompt=${encodeURIComponent(prompt)}`)).json()) as {
      candidates: Array<{ model: string; factors: { feedback: number } | null }>;
    };
    expect(explain.candidates.find((c) => c.model === model)?.factors?.feedback).toBeLessThan(0);
  });

  it('a circuit opened on one replica is open on the other', async () => {
    sim.setFailure('http500', 'flaky:1b');
    try {
      for (let i = 0; i < 2; i++) expect((await chat(a, 'circuit-key', `circuit ${i}`, 'flaky:1b')).status).toBeGreaterThanOrEqual(500);
      expect(a.core.circuits.state('model', 'flaky:1b')).toBe('open');
      await until('the circuit on the other replica', () => (b.core.circuits.state('model', 'flaky:1b') === 'open' ? true : undefined));
    } finally {
      sim.setFailure('none');
    }
  });

  it('a replica killed mid-load: the other serves on, and what the dead one dropped succeeds there', async () => {
    const { child, url } = await spawnReplica(env);
    try {
      let next = 0;
      const key = () => `load-${next++}`;
      const send = (target: { url: string }, i: number) => chat(target, key(), `load ${i}: summarise the water cycle`, 'slow:1b');
      const onDoomed = Array.from({ length: LOAD }, (_, i) => send({ url }, i).then(async (r) => (r.ok ? (await r.json(), 'ok') : `status ${r.status}`)).catch(() => 'dropped'));
      const onSurvivor = Array.from({ length: LOAD }, (_, i) => send(b, LOAD + i).then((r) => r.status));
      // Kill once the doomed replica is busy answering (its prompts are numbered below LOAD).
      const doomedAtBackend = () => sim.requests.filter((r) => r.path === '/api/chat' && Number(/"load (\d+):/.exec(JSON.stringify(r.body))?.[1] ?? LOAD) < LOAD).length;
      await until('load on the doomed replica', () => (doomedAtBackend() >= 4 ? true : undefined));
      child.kill('SIGKILL');
      const exit = await new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_code, signal) => done(signal)));
      expect(exit).toBe('SIGKILL');
      expect(await Promise.all(onSurvivor)).toEqual(Array(LOAD).fill(200));
      const doomed = await Promise.all(onDoomed);
      // Retried on the survivor, as a load balancer would.
      const retried = await Promise.all(doomed.map((outcome, i) => (outcome === 'ok' ? 200 : send(b, 100 + i).then((r) => r.status))));
      expect(retried).toEqual(Array(LOAD).fill(200));
      expect((await chat(b, 'after-key', 'still there?')).status).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

/** `npm start` as its own process (tsx loader, no npm wrapper, so SIGKILL hits the router itself). */
async function spawnReplica(extra: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sr-replica-'));
  const port = await freePort();
  const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', loader, join(ROOT, 'src/main.ts')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      ...extra,
      ROUTER_HOST: '127.0.0.1',
      ROUTER_PORT: String(port),
      ROUTER_LOG_LEVEL: process.env.ROUTER_TEST_LOGS ? 'debug' : 'silent',
      ROUTER_POLLING_INTERVAL: '0',
      ROUTER_VRAM_MONITOR_ENABLED: 'false',
      ROUTER_BACKPRESSURE_ENABLED: 'false',
      ROUTER_PROFILE_ON_STARTUP: 'false',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(
      'the third replica to start',
      async () => {
        if (child.exitCode !== null) throw new Error(`the replica exited: ${stderr}`);
        return (await fetch(`${url}/health`).then((r) => r.ok).catch(() => false)) || undefined;
      },
      30_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, url };
}
