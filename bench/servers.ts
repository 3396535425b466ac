/**
 * Starts the processes the overhead bench compares: the simulated backend, the router in front of
 * it (as `npm start` runs it), and the bare pass-through proxy.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnChild, waitReady, type Child } from './processes.js';

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

/**
 * The router the way `npm start` runs it (tsx, src/main.ts), with caches, start-up profiling and rate
 * limiting off and no API keys: the figures are the cost of routing and proxying, not of a cache hit
 * or of background profiling competing for the cores. It runs in an empty temp folder so no `.env`
 * file is read.
 */
export async function startRouterProcess(
  env: Record<string, string>,
  backendUrl: string,
  nodeArgs: string[] = [],
): Promise<{ child: Child; url: string; startupMs: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sr-bench-'));
  const port = await freePort();
  const child = spawnChild([new URL('../src/main.ts', import.meta.url).pathname], {
    cwd: dir,
    nodeArgs,
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
