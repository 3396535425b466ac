/**
 * Proxy overhead measured side by side in one run: the simulated backend called directly, through a
 * bare fastify pass-through proxy (the lower bound), through a minimal proxy that also parses and
 * rewrites the stream (the floor for any router that reads the answer), through the peer gateway
 * (Portkey) and through
 * the router (model smarterrouter/main, so classification, scoring and dispatch all run), at several
 * client concurrencies, non-streaming and streaming. Every server runs in its own process; this
 * process is only the load generator.
 *
 * The machine is shared and noisy, so each cell is measured in rounds that rotate the order of the
 * targets: a burst of load from elsewhere then hits every target alike, and the ratios stay comparable.
 */
import { rmSync } from 'node:fs';
import { figures, TargetClient, BENCH_PROMPT, type LoadFigures, type RunSamples, type Target } from './load.js';
import { startPortkey } from './peer/portkey.js';
import { cpuMs, rssMb, rssSampler, type Child } from './processes.js';
import { cleanEnv, startMinimalProxy, startPassthrough, startRouterProcess, startSim } from './servers.js';

export type TargetKey = 'direct' | 'bare' | 'minimal' | 'peer' | 'router';
const KEYS: TargetKey[] = ['direct', 'bare', 'minimal', 'peer', 'router'];

export interface TargetFigures extends LoadFigures {
  /** CPU time of the serving process (the proxy; the backend for `direct`) per request, in µs. */
  cpu_us_per_request: number;
}

export interface OverheadRow {
  mode: 'non-streaming' | 'streaming';
  concurrency: number;
  direct: TargetFigures;
  bare: TargetFigures;
  minimal: TargetFigures;
  peer: TargetFigures;
  router: TargetFigures;
  /** router req/s ÷ direct req/s. */
  rps_ratio: number;
  router_vs_bare_rps: number;
  router_vs_peer_rps: number;
  /** Router latency minus direct latency (total; for streams also time to first token). */
  added_p50_ms: number;
  added_p99_ms: number;
  /** The minimal proxy's latency minus direct: what parsing and rewriting the stream cost here, without routing. */
  minimal_added_p50_ms: number;
  added_ttft_p50_ms?: number;
  added_ttft_p99_ms?: number;
  /**
   * Router event-loop delay p99 during its runs: prom-client's nodejs_eventloop_lag_p99_seconds less
   * its sampling interval (see PROM_LOOP_SAMPLING_MS).
   */
  router_loop_delay_p99_ms: number;
}

export interface OverheadResult {
  rows: OverheadRow[];
  /** The backend model the router picks for the bench prompt; direct, bare and peer name it too. */
  model: string;
  startup: { router_ms: number; peer_ms: number };
  memory: {
    router_idle_mb: number;
    /** Of the idle RSS: the V8 heap in use and memory outside it (buffers, native addons), from /metrics. */
    router_idle_heap_used_mb: number;
    router_idle_external_mb: number;
    router_load_peak_mb: number;
    router_idle_after_load_mb: number;
    peer_idle_mb: number;
    peer_load_peak_mb: number;
  };
}

export interface OverheadOptions {
  seconds: number;
  concurrencies: number[];
  /** Rounds per cell (default 3); each target gets seconds / rounds per round. */
  rounds?: number;
  /** Warm-up per target and cell, in seconds (connections, JIT). */
  warmupSeconds?: number;
  /**
   * Before the first cell, every target serves this many seconds of load in each mode at the largest
   * concurrency (default 2 × warmupSeconds): a router runs for days, so the figures are its steady
   * state, not its first thousand requests while V8 is still compiling the request path.
   */
  steadyStateSeconds?: number;
  /** Pause before idle memory readings, in ms. */
  settleMs?: number;
  /** Extra node flags for the router child (e.g. --cpu-prof). */
  routerNodeArgs?: string[];
  log?: (line: string) => void;
}

export async function overheadBench(options: OverheadOptions): Promise<OverheadResult> {
  const rounds = options.rounds ?? 3;
  const warmup = options.warmupSeconds ?? Math.min(1, options.seconds / 3);
  const settle = options.settleMs ?? 1000;
  const log = options.log ?? (() => undefined);
  const env = cleanEnv();
  const children: Child[] = [];
  let routerDir: string | undefined;
  try {
    const sim = await startSim(env);
    children.push(sim.child);
    const router = await startRouterProcess(env, sim.url, options.routerNodeArgs);
    children.push(router.child);
    routerDir = router.dir;
    log(`router ready in ${Math.round(router.startupMs)} ms`);
    const bare = await startPassthrough(env, sim.url);
    children.push(bare.child);
    const minimal = await startMinimalProxy(env, sim.url);
    children.push(minimal.child);
    const peer = await startPortkey(env);
    children.push(peer.child);
    log(`peer gateway ready in ${Math.round(peer.startupMs)} ms`);
    await sleep(settle);
    const routerIdle = rssMb(router.child.proc.pid!);
    const peerIdle = rssMb(peer.child.proc.pid!);
    const idleMetrics = await routerMetrics(router.url);

    // Which model does the router pick for the bench prompt? The others call the backend with that one.
    const explainRes = await fetch(`${router.url}/admin/explain?prompt=${encodeURIComponent(BENCH_PROMPT)}`);
    if (!explainRes.ok) throw new Error(`GET /admin/explain answered ${explainRes.status}: ${await explainRes.text()}`);
    const model = ((await explainRes.json()) as { selected_model?: string }).selected_model;
    if (!model) throw new Error('the router selected no model for the bench prompt');

    const targets: Record<TargetKey, Target> = {
      direct: { name: 'direct', url: sim.url, model },
      bare: { name: 'bare proxy', url: bare.url, model },
      minimal: { name: 'minimal proxy', url: minimal.url, model },
      peer: peer.target(sim.url, model),
      router: { name: 'router', url: router.url, model: 'smarterrouter/main' },
    };
    const servingPid: Record<TargetKey, number> = {
      direct: sim.child.proc.pid!,
      bare: bare.child.proc.pid!,
      minimal: minimal.child.proc.pid!,
      peer: peer.child.proc.pid!,
      router: router.child.proc.pid!,
    };
    const routerPeak = rssSampler(servingPid.router);
    const peerPeak = rssSampler(servingPid.peer);

    const steady = options.steadyStateSeconds ?? 2 * warmup;
    if (steady > 0) {
      const widest = Math.max(...options.concurrencies);
      log(`steady state: ${steady} s of load per target and mode at ${widest} clients`);
      for (const stream of [false, true]) {
        for (const key of KEYS) {
          const client = new TargetClient(targets[key], stream, widest);
          try {
            await client.run(widest, steady);
          } finally {
            client.close();
          }
        }
      }
    }

    const rows: OverheadRow[] = [];
    for (const stream of [false, true]) {
      for (const concurrency of options.concurrencies) {
        log(`${stream ? 'streaming' : 'non-streaming'}, ${concurrency} client(s)`);
        const clients = Object.fromEntries(KEYS.map((k) => [k, new TargetClient(targets[k], stream, concurrency)])) as Record<TargetKey, TargetClient>;
        const runs = Object.fromEntries(KEYS.map((k) => [k, [] as RunSamples[]])) as Record<TargetKey, RunSamples[]>;
        const cpu = Object.fromEntries(KEYS.map((k) => [k, 0])) as Record<TargetKey, number>;
        let loopDelayP99 = 0;
        try {
          for (const key of KEYS) {
            await clients[key].validate();
            await clients[key].run(concurrency, warmup);
          }
          for (let round = 0; round < rounds; round++) {
            // Rotate the order so no target always runs first (or right after a noisy neighbour).
            for (let i = 0; i < KEYS.length; i++) {
              const key = KEYS[(i + round) % KEYS.length]!;
              if (key === 'router') await routerMetrics(router.url); // resets the loop-delay histogram
              const cpuBefore = cpuMs(servingPid[key]);
              runs[key].push(await clients[key].run(concurrency, options.seconds / rounds));
              cpu[key] += cpuMs(servingPid[key]) - cpuBefore;
              if (key === 'router') loopDelayP99 = Math.max(loopDelayP99, loopDelayMs(await routerMetrics(router.url)));
            }
          }
        } finally {
          for (const key of KEYS) clients[key].close();
        }
        const f = Object.fromEntries(
          KEYS.map((k) => {
            const fig = figures(runs[k]);
            return [k, { ...fig, cpu_us_per_request: (cpu[k] * 1000) / (fig.requests || 1) }];
          }),
        ) as Record<TargetKey, TargetFigures>;
        rows.push({
          mode: stream ? 'streaming' : 'non-streaming',
          concurrency,
          ...f,
          rps_ratio: f.router.rps / f.direct.rps,
          router_vs_bare_rps: f.router.rps / f.bare.rps,
          router_vs_peer_rps: f.router.rps / f.peer.rps,
          added_p50_ms: f.router.p50_ms - f.direct.p50_ms,
          added_p99_ms: f.router.p99_ms - f.direct.p99_ms,
          minimal_added_p50_ms: f.minimal.p50_ms - f.direct.p50_ms,
          ...(stream ? { added_ttft_p50_ms: f.router.ttft_p50_ms - f.direct.ttft_p50_ms, added_ttft_p99_ms: f.router.ttft_p99_ms - f.direct.ttft_p99_ms } : {}),
          router_loop_delay_p99_ms: loopDelayP99,
        });
      }
    }
    const routerLoadPeak = routerPeak.stop();
    const peerLoadPeak = peerPeak.stop();
    await sleep(settle);
    return {
      rows,
      model,
      startup: { router_ms: router.startupMs, peer_ms: peer.startupMs },
      memory: {
        router_idle_mb: routerIdle,
        router_idle_heap_used_mb: metric(idleMetrics, 'nodejs_heap_size_used_bytes') / MB,
        router_idle_external_mb: metric(idleMetrics, 'nodejs_external_memory_bytes') / MB,
        router_load_peak_mb: routerLoadPeak,
        router_idle_after_load_mb: rssMb(servingPid.router),
        peer_idle_mb: peerIdle,
        peer_load_peak_mb: peerLoadPeak,
      },
    };
  } finally {
    // A profiled router writes its profile on exit: give it time.
    await Promise.all(children.map((c) => c.stop(options.routerNodeArgs?.length ? 30_000 : 5000)));
    if (routerDir) rmSync(routerDir, { recursive: true, force: true });
  }
}

const MB = 1024 * 1024;

/**
 * The router's Prometheus text. Reading it also resets prom-client's event-loop delay histogram, so
 * a read right before a run and one right after give that run's delay percentiles.
 */
async function routerMetrics(routerUrl: string): Promise<string> {
  const res = await fetch(`${routerUrl}/metrics`);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/** An unlabelled sample's value; NaN when absent. */
function metric(text: string, name: string): number {
  const value = new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text)?.[1];
  return value === undefined ? NaN : Number(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * prom-client samples the event loop with perf_hooks.monitorEventLoopDelay at a 10 ms resolution
 * (its default `eventLoopMonitoringPrecision`, which the router keeps), and that histogram records
 * the whole interval between two samples: an idle loop reads 10 ms. The delay is what exceeds it.
 */
const PROM_LOOP_SAMPLING_MS = 10;

function loopDelayMs(metricsText: string): number {
  return Math.max(0, metric(metricsText, 'nodejs_eventloop_lag_p99_seconds') * 1000 - PROM_LOOP_SAMPLING_MS);
}
