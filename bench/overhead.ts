/**
 * Proxy overhead measured side by side in one run: the simulated backend called directly vs through
 * the router (model smarterrouter/main, so classification, scoring and dispatch all run), at several
 * client concurrencies, non-streaming and streaming. Backend and router run in their own processes;
 * this process is only the load generator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { summarize } from './stats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');

export interface OverheadRow {
  mode: 'non-streaming' | 'streaming';
  concurrency: number;
  direct_rps: number;
  router_rps: number;
  rps_ratio: number;
  direct_p50_ms: number;
  router_p50_ms: number;
  added_p50_ms: number;
  direct_p99_ms: number;
  router_p99_ms: number;
  added_p99_ms: number;
  direct_ttft_p50_ms?: number;
  router_ttft_p50_ms?: number;
  /** A bare fastify pass-through proxy on the same backend: the cost of one extra hop, nothing else. */
  passthrough_rps: number;
  passthrough_p50_ms: number;
  router_vs_passthrough_rps: number;
}

function child(args: string[], env: Record<string, string>): { proc: ChildProcess; firstLine: Promise<string> } {
  const proc = spawn(process.execPath, ['--import', TSX, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl).trim());
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { proc, firstLine };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function waitHealthy(url: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as { ready?: boolean };
      if (res.ok && body.ready) return performance.now() - started;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Sample {
  totalMs: number;
  ttftMs: number;
}

function once(agent: http.Agent, url: URL, body: string, stream: boolean): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ttft = 0;
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.on('data', () => {
          if (!ttft) ttft = performance.now() - started;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} from ${url}`));
          else resolve({ totalMs: performance.now() - started, ttftMs: ttft || performance.now() - started });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
    void stream;
  });
}

async function load(target: string, model: string, concurrency: number, seconds: number, stream: boolean) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(`${target}/v1/chat/completions`);
  const body = JSON.stringify({
    model,
    stream,
    max_tokens: 16,
    temperature: 0,
    messages: [{ role: 'user', content: 'Write a Python function that returns the n-th Fibonacci number.' }],
  });
  const samples: Sample[] = [];
  // Warm-up: connections, JIT.
  await Promise.all(Array.from({ length: concurrency }, () => once(agent, url, body, stream)));
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) samples.push(await once(agent, url, body, stream));
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  return { rps: samples.length / elapsedS, total: summarize(samples.map((s) => s.totalMs)), ttft: summarize(samples.map((s) => s.ttftMs)) };
}

export async function overheadBench(options: { seconds: number; concurrencies: number[] }): Promise<{ rows: OverheadRow[]; startupMs: number; routerRssIdleMb: number }> {
  const sim = child(['bench/sim-server.ts'], {});
  const simUrl = await sim.firstLine;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sr-bench-'));
  const startedAt = performance.now();
  const router = child(['src/main.ts'], {
    ROUTER_HOST: '127.0.0.1',
    ROUTER_PORT: String(port),
    ROUTER_PROVIDER: 'openai',
    ROUTER_OPENAI_BASE_URL: `${simUrl}/v1`,
    ROUTER_DATABASE_URL: join(dir, 'bench.db'),
    ROUTER_LOG_LEVEL: 'warn',
    ROUTER_CACHE_ENABLED: 'false',
  });
  const routerUrl = `http://127.0.0.1:${port}`;
  await waitHealthy(routerUrl);
  const passthrough = child(['bench/passthrough.ts', simUrl], {});
  const passthroughUrl = await passthrough.firstLine;
  const startupMs = performance.now() - startedAt;
  const routerRssIdleMb = await rssMb(router.proc.pid!);
  // Which model does the router pick for the bench prompt? Call the backend directly with the same one.
  const explain = (await (await fetch(`${routerUrl}/admin/explain?prompt=${encodeURIComponent('Write a Python function that returns the n-th Fibonacci number.')}`)).json()) as {
    selected_model: string;
  };
  const rows: OverheadRow[] = [];
  try {
    for (const stream of [false, true]) {
      for (const concurrency of options.concurrencies) {
        const direct = await load(simUrl, explain.selected_model, concurrency, options.seconds, stream);
        const routed = await load(routerUrl, 'smarterrouter/main', concurrency, options.seconds, stream);
        const bare = await load(passthroughUrl, explain.selected_model, concurrency, options.seconds, stream);
        rows.push({
          mode: stream ? 'streaming' : 'non-streaming',
          concurrency,
          direct_rps: round(direct.rps),
          router_rps: round(routed.rps),
          rps_ratio: round(routed.rps / direct.rps, 3),
          direct_p50_ms: round(direct.total.p50, 3),
          router_p50_ms: round(routed.total.p50, 3),
          added_p50_ms: round(routed.total.p50 - direct.total.p50, 3),
          direct_p99_ms: round(direct.total.p99, 3),
          router_p99_ms: round(routed.total.p99, 3),
          added_p99_ms: round(routed.total.p99 - direct.total.p99, 3),
          ...(stream ? { direct_ttft_p50_ms: round(direct.ttft.p50, 3), router_ttft_p50_ms: round(routed.ttft.p50, 3) } : {}),
          passthrough_rps: round(bare.rps),
          passthrough_p50_ms: round(bare.total.p50, 3),
          router_vs_passthrough_rps: round(routed.rps / bare.rps, 3),
        });
      }
    }
  } finally {
    for (const proc of [router.proc, sim.proc, passthrough.proc]) {
      proc.removeAllListeners('exit');
      proc.kill('SIGTERM');
    }
  }
  return { rows, startupMs: round(startupMs), routerRssIdleMb };
}

async function rssMb(pid: number): Promise<number> {
  try {
    const { readFileSync } = await import('node:fs');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return round(kb / 1024);
  } catch {
    return NaN;
  }
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
