/**
 * `npm run bench`: every benchmark in one run, printed as one table and written to
 * bench/results/<timestamp>.json with the machine's cores and Node version.
 * BENCH_SECONDS (default 3) sets the length of each load run; BENCH_QUICK=1 is the CI smoke mode.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { decisionBench } from './decision.js';
import { overheadBench } from './overhead.js';

const quick = process.env.BENCH_QUICK === '1';
const seconds = Number(process.env.BENCH_SECONDS ?? (quick ? 0.5 : 3));
const concurrencies = quick ? [1, 4] : [1, 16, 64];

const machine = { cores: os.availableParallelism(), node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown' };
console.log(`SmarterRouter bench — ${machine.cores} cores, Node ${machine.node}, ${machine.cpu}${quick ? ' (quick smoke run)' : ''}\n`);

const decision = decisionBench();
console.log('In-process (microseconds)');
console.table(decision.map((r) => ({ benchmark: r.name, 'p50 µs': r.p50_us.toFixed(2), 'p99 µs': r.p99_us.toFixed(2) })));

const overhead = await overheadBench({ seconds, concurrencies });
console.log('Proxy overhead: simulated backend direct vs through the router (same run, side by side)');
console.table(
  overhead.rows.map((r) => ({
    mode: r.mode,
    clients: r.concurrency,
    'direct req/s': r.direct_rps,
    'router req/s': r.router_rps,
    ratio: r.rps_ratio,
    'added p50 ms': r.added_p50_ms,
    'added p99 ms': r.added_p99_ms,
    'bare proxy req/s': r.passthrough_rps,
    'router/bare': r.router_vs_passthrough_rps,
    ...(r.router_ttft_p50_ms !== undefined ? { 'TTFT direct/router ms': `${r.direct_ttft_p50_ms}/${r.router_ttft_p50_ms}` } : {}),
  })),
);
console.log(`Router start-up to healthy: ${overhead.startupMs} ms; RSS at idle: ${overhead.routerRssIdleMb} MB\n`);

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({ machine, quick, seconds, decision, overhead }, null, 2));
console.log(`Results written to ${file.pathname}`);
