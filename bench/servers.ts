/**
 * Starts the processes the overhead bench compares: the simulated backend, the router in front of
 * it (as `npm start` runs it), and the bare pass-through proxy.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, ROOT, spawnChild, waitReady, type Child } from './processes.js';

/** The parent's environment without ROUTER_* variables, so a developer's settings cannot skew a run. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ROUTER_')) env[k] = v;
  return env;
}

export async function startSim(env: Record<string, string>): Promise<{ child: Child; url: string }> {
  const child = spawnChild(['bench/sim-server.ts'], { env });
  return { child, url: await child.firstLine };
}

export async function startPassthrough(env: Record<string, string>, backendUrl: string): Promise<{ child: Child; url: string }> {
  const child = spawnChild(['bench/passthrough.ts', backendUrl], { env });
  return { child, url: await child.firstLine };
}

/** bench/minimal-proxy.ts: the hop plus parsing and rewriting the stream, nothing else. */
export async function startMinimalProxy(env: Record<string, string>, backendUrl: string): Promise<{ child: Child; url: string }> {
  const child = spawnChild(['bench/minimal-proxy.ts', backendUrl], { env });
  return { child, url: await child.firstLine };
}

let built: Promise<unknown> | undefined;

/**
 * The command line of `npm start` ("node [flags] dist/src/main.js"), after its prestart build, which
 * runs once per bench process: the bench measures exactly what users run, and never stale output.
 */
export async function routerCommand(): Promise<{ nodeFlags: string[]; entry: string }> {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  // "exec" makes npm's shell hand its process to node, so signals sent to npm start reach the router.
  const [command, ...args] = scripts.start!.trim().replace(/^exec\s+/, '').split(/\s+/);
  const entry = args.pop();
  if (command !== 'node' || !entry) throw new Error(`package.json "start" is not "node [flags] <file>": ${scripts.start}`);
  if (scripts.prestart) {
    const [pre, ...preArgs] = scripts.prestart.trim().split(/\s+/);
    if (pre !== 'node') throw new Error(`package.json "prestart" is not "node <script>": ${scripts.prestart}`);
    built ??= promisify(execFile)(process.execPath, [...preArgs, '--quiet'], { cwd: ROOT });
    await built;
  }
  return { nodeFlags: args, entry: join(ROOT, entry) };
}

/**
 * The router the way `npm start` runs it (the compiled dist/src/main.js, see routerCommand), with
 * caches, start-up profiling and rate limiting off and no API keys: the figures are the cost of
 * routing and proxying, not of a cache hit or of background profiling competing for the cores. It
 * runs in an empty temp folder so no `.env` file is read. `build` runs another compiled tree instead
 * of dist/ (a copy of dist/ from another commit, for bench/ab.ts), with the same flags.
 */
export async function startRouterProcess(
  env: Record<string, string>,
  backendUrl: string,
  nodeArgs: string[] = [],
  build?: string,
): Promise<{ child: Child; url: string; startupMs: number; dir: string }> {
  const command = await routerCommand();
  const nodeFlags = command.nodeFlags;
  const entry = build ? join(build, 'src', 'main.js') : command.entry;
  const dir = mkdtempSync(join(tmpdir(), 'sr-bench-'));
  const port = await freePort();
  const child = spawnChild([entry], {
    cwd: dir,
    nodeArgs: [...nodeArgs, ...nodeFlags],
    tsx: false,
    env: {
      ...env,
      ROUTER_HOST: '127.0.0.1',
      ROUTER_PORT: String(port),
      ROUTER_PROVIDER: 'openai',
      ROUTER_OPENAI_BASE_URL: `${backendUrl}/v1`,
      ROUTER_DATABASE_URL: join(dir, 'bench.db'),
      ROUTER_LOG_LEVEL: 'warn',
      ROUTER_CACHE_ENABLED: 'false',
      ROUTER_PROFILE_ON_STARTUP: 'false',
      ROUTER_RATE_LIMIT_ENABLED: 'false',
      // No GPU here; the monitor would only spawn nvidia-smi to find none.
      ROUTER_VRAM_MONITOR_ENABLED: 'false',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const startupMs = await waitReady(`${url}/health`, child, async (res) => res.ok && Boolean(((await res.json()) as { ready?: boolean }).ready));
  return { child, url, startupMs, dir };
}
