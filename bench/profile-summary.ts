/**
 * Summarises V8 CPU profiles (.cpuprofile, from `BENCH_CPU_PROF=<dir> npm run bench` or any
 * `node --cpu-prof`): self time by area (our source files, each npm package, Node internals, GC) and
 * the top functions, as shares of the busy (non-idle) time.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile | dir> [top=25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { table } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  areas: Array<{ area: string; ms: number; share: number }>;
  functions: Array<{ fn: string; where: string; ms: number; share: number }>;
}

const ROOT = new URL('..', import.meta.url).pathname;

/** Where a frame's code lives: "src/core/router.ts", "npm:fastify", "node:internal", "(garbage collector)". */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  if (pkg) return `npm:${pkg}`;
  if (path.startsWith('node:')) return path.startsWith('node:internal/deps/undici') ? 'node:undici' : 'node:internal';
  if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  return path;
}

export function summarize(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attributing it to sample i is V8's own convention.
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  let idleMs = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, { fn: string; where: string; ms: number }>();
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    // tsx-compiled files report line 0 for every function: the file alone says as much.
    const where = url && lineNumber > 0 ? `${area}:${lineNumber + 1}` : area;
    const key = `${functionName}@${where}`;
    const entry = functions.get(key) ?? { fn: functionName || '(anonymous)', where, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
  }
  const busyMs = [...areas.values()].reduce((a, b) => a + b, 0);
  const share = (ms: number) => ms / (busyMs || 1);
  return {
    busyMs,
    idleMs,
    areas: [...areas].map(([area, ms]) => ({ area, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms).slice(0, top),
    functions: [...functions.values()].map((f) => ({ ...f, share: share(f.ms) })).sort((a, b) => b.ms - a.ms).slice(0, top),
  };
}

function profilesIn(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, topArg] = process.argv.slice(2);
  if (!path) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile | dir> [top]');
    process.exit(2);
  }
  const top = Number(topArg ?? 25);
  const pct = (s: number) => `${(s * 100).toFixed(1)}%`;
  for (const file of profilesIn(path)) {
    const s = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top);
    console.log(`${file}: busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms\n`);
    console.log(table(['area (self time)', 'ms', 'share'], s.areas.map((a) => [a.area, a.ms, pct(a.share)])));
    console.log();
    console.log(table(['function', 'where', 'ms', 'share'], s.functions.map((f) => [f.fn, f.where, f.ms, pct(f.share)])));
    console.log();
  }
}
