/**
 * Two builds of the router side by side: which one costs less per request? On a shared machine
 * two runs of the same build differ by 5-10%, so a change is judged by running both builds in front
 * of one simulator at the same time and measuring them in alternating rounds, each after the same
 * warm-up; medians of the rounds are compared (docs/performance.md, "measured A/B").
 *
 *   node scripts/build.mjs && cp -r dist bench/.scratch/A      # the baseline
 *   ...change the code...
 *   node scripts/build.mjs && cp -r dist bench/.scratch/B
 *   npx tsx bench/ab.ts bench/.scratch/A bench/.scratch/B [clients=16] [rounds=12] [stream|whole] [model]
 *
 * `model` defaults to smarterrouter/main (routed); a simulator model id (bench-coder-7b) measures
 * a request that names its model.
 *
 * A run of a build against itself shows the noise floor of the moment.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TargetClient } from './load.js';
import { cpuMs } from './processes.js';
import { cleanEnv, startRouterProcess, startSim } from './servers.js';
import { summarize } from './stats.js';

const [a, b, clientsArg, roundsArg, mode, modelArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: bench/ab.ts <build A> <build B> [clients=16] [rounds=12] [stream|whole] [model]');
const builds = [resolve(a), resolve(b)];
for (const build of builds) if (!existsSync(join(build, 'src', 'main.js'))) throw new Error(`${build} holds no compiled router (src/main.js); copy a dist/ there`);
const clients = Number(clientsArg ?? 16);
const rounds = Number(roundsArg ?? 12);
const stream = mode === 'stream';
const model = modelArg ?? 'smarterrouter/main';
const SECONDS_PER_ROUND = 1;
const WARMUP_SECONDS = 3;

const env = cleanEnv();
const sim = await startSim(env);
const routers = await Promise.all(builds.map((build) => startRouterProcess(env, sim.url, [], build)));
try {
  const figures = routers.map(() => ({ p50: [] as number[], cpu: [] as number[], rps: [] as number[] }));
  for (const router of routers) {
    const warm = new TargetClient({ name: 'warm-up', url: router.url, model }, stream, clients);
    await warm.validate();
    await warm.run(clients, WARMUP_SECONDS);
    warm.close();
  }
  for (let round = 0; round < rounds; round++) {
    // Alternate which build goes first, so neither always follows the other.
    for (const i of round % 2 ? [1, 0] : [0, 1]) {
      const router = routers[i]!;
      const client = new TargetClient({ name: `build ${i}`, url: router.url, model }, stream, clients);
      const before = cpuMs(router.child.proc.pid!);
      const run = await client.run(clients, SECONDS_PER_ROUND);
      const cpu = cpuMs(router.child.proc.pid!) - before;
      client.close();
      const n = run.samples.length || 1;
      figures[i]!.p50.push(summarize(run.samples.map((s) => s.totalMs)).p50);
      figures[i]!.cpu.push((cpu * 1000) / n);
      figures[i]!.rps.push(n / run.elapsedS);
    }
  }
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  const [A, B] = figures.map((f) => ({ p50: median(f.p50), cpu: median(f.cpu), rps: median(f.rps) }));
  console.log(`${model}, ${clients} client(s), ${stream ? 'streaming' : 'non-streaming'}, ${rounds} rounds of ${SECONDS_PER_ROUND} s, medians:`);
  console.log(`A ${builds[0]}: p50 ${A!.p50.toFixed(3)} ms, CPU ${A!.cpu.toFixed(0)} µs/request, ${A!.rps.toFixed(0)} req/s`);
  console.log(`B ${builds[1]}: p50 ${B!.p50.toFixed(3)} ms, CPU ${B!.cpu.toFixed(0)} µs/request, ${B!.rps.toFixed(0)} req/s`);
  console.log(`B/A: p50 ${(B!.p50 / A!.p50).toFixed(3)}, CPU per request ${(B!.cpu / A!.cpu).toFixed(3)}, req/s ${(B!.rps / A!.rps).toFixed(3)}`);
} finally {
  await Promise.all([sim.child.stop(5000), ...routers.map((r) => r.child.stop(5000))]);
}
