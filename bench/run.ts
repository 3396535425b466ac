/**
 * `npm run bench`: every benchmark in one run, printed as Markdown tables (ending with the targets
 * and their verdicts) and written to bench/results/<timestamp>.json with the machine's cores, Node
 * version and load average.
 *
 * BENCH_SECONDS (default 3): measured seconds per target and cell of the proxy bench.
 * BENCH_QUICK=1: the CI smoke mode (seconds long; the figures mean little, the shape is checked).
 * BENCH_OUT=<file>: write the JSON there instead (the smoke test uses a temp file).
 * BENCH_CPU_PROF=<dir>: also write a V8 CPU profile of the router process there (see
 *   bench/profile-summary.ts), which slows the router a little.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { decisionBench } from './decision.js';
import { overheadBench } from './overhead.js';
import { cpuTable, decisionTable, floorLine, latencyTable, processTable, section, semanticTables, targetsTable, throughputTable } from './report.js';
import { semanticBench } from './semantic.js';
import { judgeTargets } from './targets.js';

const quick = process.env.BENCH_QUICK === '1';
const seconds = Number(process.env.BENCH_SECONDS ?? (quick ? 0.4 : 3));
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`BENCH_SECONDS must be a positive number of seconds, got "${process.env.BENCH_SECONDS}"`);
const concurrencies = quick ? [1, 16] : [1, 16, 64];
const cpuProfDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;

const loadavg = () => os.loadavg().map((l) => Math.round(l * 100) / 100);
const machine = { cores: os.availableParallelism(), node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', loadavg_start: loadavg() };
console.log(`# SmarterRouter bench\n`);
console.log(`${machine.cores} cores, Node ${machine.node}, ${machine.cpu}; load average ${machine.loadavg_start.join(' ')}${quick ? '; quick smoke run' : ''}\n`);

const decision = decisionBench();
console.log(section('Routing decision and classification (in-process)', decisionTable(decision)));

const overhead = await overheadBench({
  seconds,
  concurrencies,
  rounds: quick ? 1 : 3,
  warmupSeconds: quick ? 0.1 : undefined,
  settleMs: quick ? 200 : 1000,
  routerNodeArgs: cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [],
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
console.log(`Backend model the router picks for the bench prompt (also named by direct, bare, minimal and peer calls): ${overhead.model}\n`);
console.log(section('Proxy throughput (requests/s, same run, side by side)', throughputTable(overhead)));
console.log(section('Proxy latency (ms; added = router − direct)', latencyTable(overhead)));
console.log(`${floorLine(overhead)}\n`);
console.log(section('CPU time per request of the serving process (µs) and router event-loop delay', cpuTable(overhead)));
console.log(section('Start-up and memory', processTable(overhead)));

process.stderr.write('bench: semantic cache\n');
const semantic = await semanticBench({ quick, seconds });
console.log(section('Semantic cache lookups and event-loop delay', semanticTables(semantic)));

const targets = judgeTargets({ overhead, concurrencies, decision });
console.log(section('Targets', targetsTable(targets)));

const finished = { ...machine, loadavg_end: loadavg() };
const file = process.env.BENCH_OUT
  ? resolve(process.env.BENCH_OUT)
  : new URL(`./results/${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`, import.meta.url).pathname;
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ machine: finished, quick, seconds, concurrencies, decision, overhead, semantic, targets }, null, 2));
console.log(`Load average at the end: ${finished.loadavg_end.join(' ')}`);
console.log(`Results written to ${file}`);
if (cpuProfDir) console.log(`Router CPU profile in ${cpuProfDir} (summarise: npx tsx bench/profile-summary.ts ${cpuProfDir})`);
