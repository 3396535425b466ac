/**
 * The performance targets of issue #10 and their verdicts for one run. Throughput and latency
 * targets are judged at 16 concurrent clients (the largest concurrency measured when a quick run
 * has no 16), in both modes; the decision target on the p50 of scoring 50 models.
 */
import type { OverheadResult, OverheadRow } from './overhead.js';

export interface TargetVerdict {
  figure: string;
  target: string;
  measured: string;
  met: boolean;
  value: number;
}

export const REFERENCE_CLIENTS = 16;

export function judgeTargets(input: {
  overhead: OverheadResult;
  concurrencies: number[];
  decision: Array<{ name: string; p50_us: number }>;
}): TargetVerdict[] {
  const clients = input.concurrencies.includes(REFERENCE_CLIENTS) ? REFERENCE_CLIENTS : Math.max(...input.concurrencies);
  const out: TargetVerdict[] = [];
  const row = (mode: OverheadRow['mode']) => input.overhead.rows.find((r) => r.mode === mode && r.concurrency === clients);
  for (const mode of ['non-streaming', 'streaming'] as const) {
    const r = row(mode);
    const at = `${mode}, ${clients} clients`;
    out.push(verdict(`throughput router/direct (${at})`, '>= 0.5', r?.rps_ratio, (v) => v >= 0.5, (v) => v.toFixed(3)));
    out.push(verdict(`throughput router/peer (${at})`, '>= 10', r?.router_vs_peer_rps, (v) => v >= 10, (v) => v.toFixed(2)));
    out.push(verdict(`added latency p50 (${at})`, '< 0.5 ms', r?.added_p50_ms, (v) => v < 0.5, ms));
    out.push(verdict(`added latency p99 (${at})`, '< 2 ms', r?.added_p99_ms, (v) => v < 2, ms));
  }
  const decision50 = input.decision.find((d) => d.name === 'routing decision, 50 models')?.p50_us;
  out.push(verdict('routing decision p50 (50 models)', '< 50 µs', decision50, (v) => v < 50, (v) => `${v.toFixed(1)} µs`));
  out.push(verdict('router RSS at idle', '< 150 MB', input.overhead.memory.router_idle_mb, (v) => v < 150, (v) => `${v.toFixed(0)} MB`));
  return out;
}

function verdict(figure: string, target: string, value: number | undefined, ok: (v: number) => boolean, format: (v: number) => string): TargetVerdict {
  // A figure the run could not measure is reported, and never counts as met.
  if (value === undefined || !Number.isFinite(value)) return { figure, target, measured: 'not measured', met: false, value: NaN };
  return { figure, target, measured: format(value), met: ok(value), value };
}

function ms(v: number): string {
  return `${v.toFixed(2)} ms`;
}
