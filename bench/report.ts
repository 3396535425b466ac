/**
 * Prints the bench's tables as aligned Markdown (readable in a terminal, pasteable into
 * docs/performance.md). Formatting only: every figure comes from the result objects.
 */
import type { OverheadResult } from './overhead.js';
import type { SemanticBenchResult } from './semantic.js';
import type { TargetVerdict } from './targets.js';

type Cell = string | number | undefined;

export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

function cell(v: Cell): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return 'n/a';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const ratio = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

export function section(title: string, body: string): string {
  return `## ${title}\n\n${body}\n`;
}

export function decisionTable(rows: Array<{ name: string; p50_us: number; p99_us: number }>): string {
  return table(
    ['benchmark', 'p50 µs', 'p99 µs'],
    rows.map((r) => [r.name, r.p50_us, r.p99_us]),
  );
}

export function throughputTable(o: OverheadResult): string {
  return table(
    ['mode', 'clients', 'direct req/s', 'bare proxy req/s', 'minimal proxy req/s', 'peer req/s', 'router req/s', 'router/direct', 'router/bare', 'router/peer', 'errors'],
    o.rows.map((r) => [
      r.mode,
      r.concurrency,
      r.direct.rps,
      r.bare.rps,
      r.minimal.rps,
      r.peer.rps,
      r.router.rps,
      ratio(r.rps_ratio),
      ratio(r.router_vs_bare_rps),
      ratio(r.router_vs_peer_rps),
      errorsCell(r),
    ]),
  );
}

/** "0", or which target failed how: "router 503×4". */
function errorsCell(r: OverheadResult['rows'][number]): string {
  const parts: string[] = [];
  for (const key of ['direct', 'bare', 'minimal', 'peer', 'router'] as const) {
    for (const [status, n] of Object.entries(r[key].error_statuses)) parts.push(`${key} ${status}×${n}`);
  }
  return parts.length ? parts.join(', ') : '0';
}

export function latencyTable(o: OverheadResult): string {
  const pair = (a: number, b: number) => `${cell(a)} / ${cell(b)}`;
  return table(
    ['mode', 'clients', 'direct p50 / p99', 'router p50 / p99', 'added p50', 'added p99', 'TTFT direct / router p50', 'added TTFT p50 / p99', 'bare p50 / p99', 'minimal p50 / p99', 'minimal added p50', 'peer p50 / p99'],
    o.rows.map((r) => [
      r.mode,
      r.concurrency,
      pair(r.direct.p50_ms, r.direct.p99_ms),
      pair(r.router.p50_ms, r.router.p99_ms),
      r.added_p50_ms,
      r.added_p99_ms,
      r.mode === 'streaming' ? pair(r.direct.ttft_p50_ms, r.router.ttft_p50_ms) : '',
      r.added_ttft_p50_ms !== undefined ? pair(r.added_ttft_p50_ms, r.added_ttft_p99_ms!) : '',
      pair(r.bare.p50_ms, r.bare.p99_ms),
      pair(r.minimal.p50_ms, r.minimal.p99_ms),
      r.minimal_added_p50_ms,
      pair(r.peer.p50_ms, r.peer.p99_ms),
    ]),
  );
}

export function cpuTable(o: OverheadResult): string {
  return table(
    ['mode', 'clients', 'backend (direct) µs/req', 'bare proxy µs/req', 'minimal proxy µs/req', 'peer µs/req', 'router µs/req', 'router loop delay p99 ms'],
    o.rows.map((r) => [r.mode, r.concurrency, r.direct.cpu_us_per_request, r.bare.cpu_us_per_request, r.minimal.cpu_us_per_request, r.peer.cpu_us_per_request, r.router.cpu_us_per_request, r.router_loop_delay_p99_ms]),
  );
}

export function processTable(o: OverheadResult): string {
  return table(
    ['figure', 'router', 'peer gateway'],
    [
      ['start-up to healthy ms', o.startup.router_ms, o.startup.peer_ms],
      ['RSS at idle MB', o.memory.router_idle_mb, o.memory.peer_idle_mb],
      ['V8 heap used at idle MB', o.memory.router_idle_heap_used_mb, undefined],
      ['external memory at idle MB', o.memory.router_idle_external_mb, undefined],
      ['RSS peak under load MB', o.memory.router_load_peak_mb, o.memory.peer_load_peak_mb],
      ['RSS idle after load MB', o.memory.router_idle_after_load_mb, undefined],
    ],
  );
}

export function semanticTables(s: SemanticBenchResult): string {
  const sc = s.scoring;
  return [
    `Lookups: 768-dim vectors, threshold 0.85, limit 4 (ms; worker pool: ${s.threads} thread(s))\n`,
    table(
      ['vectors', 'mode', 'p50 ms', 'p99 ms', 'hit rate'],
      s.lookups.map((r) => [r.vectors, r.mode, r.p50_ms, r.p99_ms, r.hit_rate]),
    ),
    `\nUnder load: 4 concurrent lookup loops; event-loop delay p99 from perf_hooks.monitorEventLoopDelay\n`,
    table(
      ['vectors', 'mode', 'lookups/s', 'p50 ms', 'p99 ms', 'loop delay p99 ms', 'loop busy'],
      s.load.map((r) => [r.vectors, r.mode, r.lookups_per_s, r.p50_ms, r.p99_ms, r.loop_delay_p99_ms, r.loop_utilization]),
    ),
    `\nSmall indexes: inline scan vs worker round trip (p50 ms)\n`,
    table(
      ['vectors', 'inline p50 ms', 'worker p50 ms'],
      s.crossover.map((r) => [r.vectors, r.inline_p50_ms, r.worker_p50_ms]),
    ),
    `\nScoring ${sc.models} models: inline p50/p99 ${sc.inline_p50_us}/${sc.inline_p99_us} µs; as a worker task ${sc.worker_p50_us}/${sc.worker_p99_us} µs`,
  ].join('\n');
}

export function targetsTable(verdicts: TargetVerdict[]): string {
  return table(
    ['figure', 'target', 'measured', 'met'],
    verdicts.map((v) => [v.figure, v.target, v.measured, v.met ? 'yes' : 'no']),
  );
}

/**
 * One sentence under the latency table: at the lowest concurrency (where nothing queues), what the
 * hop plus parsing and rewriting the stream adds on this machine, next to what the router adds.
 */
export function floorLine(o: OverheadResult): string {
  const lowest = Math.min(...o.rows.map((r) => r.concurrency));
  const at = (mode: OverheadResult['rows'][number]['mode']) => o.rows.find((r) => r.mode === mode && r.concurrency === lowest);
  const [whole, stream] = [at('non-streaming'), at('streaming')];
  const pair = (f: (r: OverheadResult['rows'][number]) => number) => `${whole ? ms(f(whole)) : 'n/a'} / ${stream ? ms(f(stream)) : 'n/a'}`;
  return (
    `Floor at ${lowest} client(s), non-streaming / streaming: the minimal proxy (the hop, the request parsed, ` +
    `the stream parsed and rewritten; no routing) adds ${pair((r) => r.minimal_added_p50_ms)} ms p50 over direct; ` +
    `the bare proxy ${pair((r) => r.bare.p50_ms - r.direct.p50_ms)} ms; the router ${pair((r) => r.added_p50_ms)} ms.`
  );
}

function ms(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : 'n/a';
}
