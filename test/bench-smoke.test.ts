/**
 * Keeps `npm run bench` from rotting: runs its quick smoke mode (BENCH_QUICK=1) in a child process,
 * exactly as `npm run bench` does (tsx), and checks that the JSON has every section and the printed
 * tables every row. Figures are checked for presence and sanity, never against timings: CI machines
 * are too noisy for that.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
const out = join(dir, 'bench.json');

interface Figures {
  rps: number;
  errors: number;
  error_statuses: Record<string, number>;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  ttft_p50_ms: number;
  cpu_us_per_request: number;
}

let stdout = '';
let result: {
  machine: { cores: number; node: string; loadavg_start: number[]; loadavg_end: number[] };
  quick: boolean;
  concurrencies: number[];
  decision: Array<{ name: string; p50_us: number; p99_us: number }>;
  overhead: {
    model: string;
    rows: Array<Record<'direct' | 'bare' | 'minimal' | 'peer' | 'router', Figures> & { mode: string; concurrency: number; rps_ratio: number; router_vs_peer_rps: number; router_vs_bare_rps: number; added_p50_ms: number; added_p99_ms: number; minimal_added_p50_ms: number; added_ttft_p50_ms?: number; router_loop_delay_p99_ms: number }>;
    startup: { router_ms: number; peer_ms: number };
    memory: Record<string, number>;
  };
  semantic: { lookups: unknown[]; load: unknown[]; crossover: unknown[]; scoring: { models: number } };
  targets: Array<{ figure: string; target: string; measured: string; met: boolean }>;
};

beforeAll(async () => {
  const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
    cwd: ROOT,
    env: { ...process.env, BENCH_QUICK: '1', BENCH_OUT: out },
    timeout: 170_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  stdout = run.stdout;
  result = JSON.parse(readFileSync(out, 'utf8'));
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench (BENCH_QUICK=1)', () => {
  it('records the machine and the run settings', () => {
    expect(result.quick).toBe(true);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(result.machine.loadavg_start).toHaveLength(3);
    expect(result.machine.loadavg_end).toHaveLength(3);
    expect(result.concurrencies).toEqual([1, 16]);
  });

  it('measures routing decisions at 10, 50 and 200 models and classification of short and 8k-token prompts', () => {
    expect(result.decision.map((d) => d.name)).toEqual([
      'routing decision, 10 models',
      'routing decision, 50 models',
      'routing decision, 200 models',
      'classification, short prompt',
      'classification, ~8k-token prompt',
    ]);
    for (const d of result.decision) expect(d.p99_us).toBeGreaterThanOrEqual(d.p50_us);
  });

  it('measures direct, bare proxy, minimal proxy, peer gateway and router side by side in both modes', () => {
    const cells = result.overhead.rows.map((r) => `${r.mode}/${r.concurrency}`);
    expect(cells).toEqual(['non-streaming/1', 'non-streaming/16', 'streaming/1', 'streaming/16']);
    expect(result.overhead.model).toMatch(/^bench-/);
    for (const row of result.overhead.rows) {
      for (const key of ['direct', 'bare', 'minimal', 'peer', 'router'] as const) {
        const f = row[key];
        // Every target was validated before the load and did work. The router answers every request;
        // the yardsticks (the simulator, the two bench proxies, Portkey) may lose a rare request while
        // the rest of the suite loads both cores (seen once in CI: 3 of a bare-proxy cell's requests),
        // which says nothing about the router and is still printed in the table's errors column.
        const where = `${key} ${row.mode}/${row.concurrency}: ${JSON.stringify(f.error_statuses)}`;
        if (key === 'router') expect(f.errors, where).toBe(0);
        else expect(f.errors / (f.requests + f.errors), where).toBeLessThanOrEqual(0.01);
        expect(f.requests).toBeGreaterThan(0);
        expect(f.rps).toBeGreaterThan(0);
        expect(f.p99_ms).toBeGreaterThanOrEqual(f.p50_ms);
        expect(f.ttft_p50_ms).toBeLessThanOrEqual(f.p50_ms + 1e-9);
        expect(Number.isFinite(f.cpu_us_per_request)).toBe(true);
      }
      expect(row.rps_ratio).toBeCloseTo(row.router.rps / row.direct.rps, 6);
      expect(row.router_vs_peer_rps).toBeCloseTo(row.router.rps / row.peer.rps, 6);
      expect(row.router_vs_bare_rps).toBeCloseTo(row.router.rps / row.bare.rps, 6);
      expect(row.added_p50_ms).toBeCloseTo(row.router.p50_ms - row.direct.p50_ms, 6);
      expect(row.minimal_added_p50_ms).toBeCloseTo(row.minimal.p50_ms - row.direct.p50_ms, 6);
      expect(row.added_ttft_p50_ms !== undefined).toBe(row.mode === 'streaming');
      expect(row.router_loop_delay_p99_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('measures start-up and memory of the router and the peer', () => {
    expect(result.overhead.startup.router_ms).toBeGreaterThan(0);
    expect(result.overhead.startup.peer_ms).toBeGreaterThan(0);
    for (const key of ['router_idle_mb', 'router_load_peak_mb', 'router_idle_after_load_mb', 'peer_idle_mb', 'peer_load_peak_mb', 'router_idle_heap_used_mb']) {
      expect(result.overhead.memory[key], key).toBeGreaterThan(1);
    }
    expect(result.overhead.memory.router_idle_external_mb).toBeGreaterThan(0);
    expect(result.overhead.memory.router_load_peak_mb).toBeGreaterThanOrEqual(result.overhead.memory.router_idle_mb);
  });

  it('includes the semantic cache bench', () => {
    expect(result.semantic.lookups.length).toBeGreaterThan(0);
    expect(result.semantic.load.length).toBeGreaterThan(0);
    expect(result.semantic.crossover.length).toBeGreaterThan(0);
    expect(result.semantic.scoring.models).toBe(50);
  });

  it('judges every target', () => {
    expect(result.targets.map((t) => t.figure)).toEqual([
      'throughput router/direct (non-streaming, 16 clients)',
      'throughput router/peer (non-streaming, 16 clients)',
      'added latency p50 (non-streaming, 16 clients)',
      'added latency p99 (non-streaming, 16 clients)',
      'throughput router/direct (streaming, 16 clients)',
      'throughput router/peer (streaming, 16 clients)',
      'added latency p50 (streaming, 16 clients)',
      'added latency p99 (streaming, 16 clients)',
      'routing decision p50 (50 models)',
      'router RSS at idle',
    ]);
    for (const t of result.targets) expect(t.measured).not.toBe('not measured');
  });

  it('prints every table and every row', () => {
    for (const heading of [
      '## Routing decision and classification (in-process)',
      '## Proxy throughput',
      '## Proxy latency',
      '## CPU time per request',
      '## Start-up and memory',
      '## Semantic cache lookups and event-loop delay',
      '## Targets',
    ]) {
      expect(stdout).toContain(heading);
    }
    const rows = stdout.split('\n').filter((l) => l.startsWith('| '));
    const has = (pattern: RegExp) => rows.some((l) => pattern.test(l));
    for (const d of result.decision) expect(has(new RegExp(`^\\| ${escape(d.name)} +\\|`)), d.name).toBe(true);
    for (const mode of ['non-streaming', 'streaming']) {
      for (const clients of [1, 16]) {
        // The same cell appears in the throughput, latency and CPU tables.
        expect(rows.filter((l) => new RegExp(`^\\| ${mode} +\\| ${clients} +\\|`).test(l))).toHaveLength(3);
      }
    }
    for (const figure of ['start-up to healthy ms', 'RSS at idle MB', 'V8 heap used at idle MB', 'external memory at idle MB', 'RSS peak under load MB', 'RSS idle after load MB']) {
      expect(has(new RegExp(`^\\| ${escape(figure)} +\\|`)), figure).toBe(true);
    }
    for (const t of result.targets) {
      expect(has(new RegExp(`^\\| ${escape(t.figure)} +\\| ${escape(t.target)} +\\| ${escape(t.measured)} +\\| (yes|no) +\\|$`)), t.figure).toBe(true);
    }
    expect(stdout).toMatch(/^Floor at 1 client\(s\), non-streaming \/ streaming: the minimal proxy .* adds -?\d+\.\d\d \/ -?\d+\.\d\d ms p50 over direct; the bare proxy -?\d+\.\d\d \/ -?\d+\.\d\d ms; the router -?\d+\.\d\d \/ -?\d+\.\d\d ms\.$/m);
    expect(stdout).toContain(`Results written to ${out}`);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
