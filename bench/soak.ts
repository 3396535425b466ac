/**
 * Soak test, bounded in time: `npx tsx bench/soak.ts [seconds]` (default 60, at most 3600; or
 * SOAK_SECONDS). The router runs as its own process (`src/main.ts`, as `npm start` does) in front of
 * two simulated Ollama backends that live in this process; 16 clients send chat requests (3 of 4
 * non-streaming, 1 of 4 streaming) with feedback on every 20th answer, and backend "a" is killed for
 * 5 s every 15 s. Every 5 s a row shows throughput, latency and the router's own memory and
 * event-loop lag as its /metrics reports them.
 *
 * At the end the router gets SIGTERM (graceful shutdown) and the SQLite file is checked: one decision
 * row per chat request sent, one feedback row per accepted feedback. Exit code 1 when a
 * non-streaming request failed (they always have a live alternative), rows are missing, or the
 * router did not exit cleanly. Figures and how to read them: docs/soak.md.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/index.js';
import { startOllamaSimulator, type RunningSimulator, type SimModel } from '../src/simulators/index.js';
import { freePort } from './processes.js';
import { summarize } from './stats.js';

const SECONDS = Math.min(3600, Math.max(10, Number(process.argv[2] ?? process.env.SOAK_SECONDS ?? 60)));
const CLIENTS = 16;
const SAMPLE_MS = 5000;
const CHAOS_EVERY_MS = 15_000;
const CHAOS_DOWN_MS = 5000;
const FEEDBACK_EVERY = 20;
const ROOT = new URL('..', import.meta.url).pathname;
const PROMPTS = [
  'Write a Python function that parses an ISO 8601 date string and returns a datetime.',
  'What is the capital of Peru?',
  'Explain step by step why the sum of two odd numbers is even.',
  'Write a short poem about autumn rain.',
];
const MODEL_A: SimModel = { id: 'qwen2.5-coder:32b', parameterSizeB: 32.8, quality: { coding: 0.95, reasoning: 0.8 }, tokensPerSecond: 400 };
const MODEL_B: SimModel = { id: 'llama3.1:8b', parameterSizeB: 8, quality: { coding: 0.6, general: 0.7 }, tokensPerSecond: 400 };

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

/** POST with a lean keep-alive client; resolves with the status and the raw body (SSE or JSON). */
function post(base: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function metrics(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smarterrouter-soak-'));
  let simA: RunningSimulator = await startOllamaSimulator({ models: [MODEL_A] });
  const simB = await startOllamaSimulator({ models: [MODEL_B] });
  const portA = Number(new URL(simA.url).port);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const router = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ROUTER_HOST: '127.0.0.1',
      ROUTER_PORT: String(port),
      ROUTER_DATABASE_URL: join(dir, 'router.db'),
      ROUTER_BACKENDS: `a=ollama:${simA.url},b=ollama:${simB.url}`,
      ROUTER_CACHE_ENABLED: 'false',
      ROUTER_PROFILE_ON_STARTUP: 'false',
      ROUTER_VRAM_MONITOR_ENABLED: 'false',
      ROUTER_POLLING_INTERVAL: '10',
      ROUTER_CIRCUIT_COOLDOWN: '2',
      ROUTER_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => router.on('exit', (code) => resolve(code)));
  for (let i = 0; ; i++) {
    if (i > 150) throw new Error('the router did not become healthy in 30 s');
    const ok = await fetch(`${base}/health`).then((r) => r.status < 500, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }

  // Warm-up (not measured): the first requests compile code paths; a cold process lags enough for
  // the load shedder to refuse work, which is its job but not what this soak measures.
  let warm = 0;
  for (let i = 0; warm < 40 && i < 400; i++) {
    const r = await post(base, '/v1/chat/completions', { model: 'smarterrouter/main', messages: [{ role: 'user', content: `warm-up ${i}` }], max_tokens: 4 });
    if (r.status === 200) warm++;
    else await new Promise((resolve) => setTimeout(resolve, 250));
  }

  const deadline = Date.now() + SECONDS * 1000;
  // shed: refused by the load shedder (503 "overloaded", before routing: no decision row is due).
  const totals = { sent: 0, ok: 0, shed: 0, nonStreamFailed: 0, streamCut: 0, feedbackSent: 0, feedbackOk: 0 };
  let window: number[] = [];
  let windowErrors = 0;

  const client = async (id: number) => {
    for (let i = id; Date.now() < deadline; i += CLIENTS) {
      const stream = i % 4 === 3;
      const started = performance.now();
      totals.sent++;
      let res: { status: number; text: string };
      try {
        res = await post(base, '/v1/chat/completions', {
          model: 'smarterrouter/main',
          messages: [{ role: 'user', content: `${PROMPTS[i % PROMPTS.length]} (#${i})` }],
          max_tokens: 16,
          stream,
        });
      } catch {
        res = { status: 0, text: '' };
      }
      window.push(performance.now() - started);
      if (res.status === 503 && res.text.includes('"overloaded"')) {
        totals.shed++;
        continue;
      }
      const good = res.status === 200 && (!stream || (res.text.includes('data: [DONE]') && !res.text.includes('"error"')));
      if (good) totals.ok++;
      else {
        windowErrors++;
        if (stream) totals.streamCut++;
        else totals.nonStreamFailed++;
      }
      if (good && !stream && i % FEEDBACK_EVERY === 0) {
        totals.feedbackSent++;
        const id = (JSON.parse(res.text) as { id: string }).id;
        const fb = await post(base, '/v1/feedback', { response_id: id, score: 0.5 }).catch(() => ({ status: 0, text: '' }));
        if (fb.status === 200) totals.feedbackOk++;
      }
    }
  };

  // Chaos: backend "a" goes away for CHAOS_DOWN_MS every CHAOS_EVERY_MS, then comes back on its port.
  let aDown = false;
  const chaos = setInterval(() => {
    aDown = true;
    void simA.close().then(() =>
      setTimeout(async () => {
        simA = await startOllamaSimulator({ models: [MODEL_A], port: portA });
        aDown = false;
      }, CHAOS_DOWN_MS),
    );
  }, CHAOS_EVERY_MS);

  const rows: Array<Record<string, number | string>> = [];
  const t0 = Date.now();
  const sampler = setInterval(async () => {
    const m = await metrics(base).catch(() => new Map<string, number>());
    const s = summarize(window);
    rows.push({
      t_s: Math.round((Date.now() - t0) / 1000),
      req_per_s: Math.round(window.length / (SAMPLE_MS / 1000)),
      p50_ms: Math.round(s.p50 * 10) / 10,
      p99_ms: Math.round(s.p99 * 10) / 10,
      errors: windowErrors,
      shed: totals.shed,
      backend_a: aDown ? 'down' : 'up',
      rss_mb: Math.round((m.get('process_resident_memory_bytes') ?? 0) / 2 ** 20),
      heap_mb: Math.round((m.get('nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20),
      loop_lag_p99_ms: Math.round((m.get('nodejs_eventloop_lag_p99_seconds') ?? 0) * 10_000) / 10,
    });
    console.log(JSON.stringify(rows[rows.length - 1]));
    window = [];
    windowErrors = 0;
  }, SAMPLE_MS);

  await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));
  clearInterval(chaos);
  clearInterval(sampler);
  agent.destroy();

  router.kill('SIGTERM');
  const code = await exited;
  const db = await openDatabase(join(dir, 'router.db'));
  const count = async (table: string) => Number(((await db.em.getKnex()(table).count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
  const decisions = await count('routing_decisions');
  const feedback = await count('feedback');
  await db.close();
  await simA.close();
  await simB.close();
  rmSync(dir, { recursive: true, force: true });

  console.table(rows);
  const heaps = rows.slice(1).map((r) => Number(r.heap_mb));
  const summary = {
    seconds: SECONDS,
    warm_up: warm,
    ...totals,
    decision_rows: decisions,
    feedback_rows: feedback,
    router_exit_code: code,
    heap_mb_first_last: heaps.length ? [heaps[0], heaps[heaps.length - 1]] : [],
    rss_mb_max: Math.max(...rows.map((r) => Number(r.rss_mb))),
  };
  console.log(JSON.stringify(summary, null, 2));
  const problems = [
    totals.nonStreamFailed > 0 && `${totals.nonStreamFailed} non-streaming requests failed`,
    decisions !== warm + totals.sent - totals.shed && `${warm + totals.sent - totals.shed} chat requests routed (warm-up included) but ${decisions} decision rows stored`,
    feedback !== totals.feedbackOk && `${totals.feedbackOk} feedback accepted but ${feedback} rows stored`,
    code !== 0 && `the router exited with ${code}`,
  ].filter(Boolean);
  for (const p of problems) console.error(`FAIL: ${p}`);
  process.exit(problems.length ? 1 : 0);
}

await main();
