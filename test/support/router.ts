/**
 * Starts a real router for a test: real port on 127.0.0.1 (port 0), real SQLite file in a temp
 * folder, silent logs unless ROUTER_TEST_LOGS is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFrom } from '../../src/config/index.js';
import { createLogger } from '../../src/server/logger.js';
import { startRouter, type RunningRouter } from '../../src/server/start.js';

export interface TestRouter extends RunningRouter {
  dir: string;
  stop(): Promise<void>;
}

export async function startTestRouter(
  env: Record<string, string> = {},
  options: { logDestination?: NodeJS.WritableStream } = {},
): Promise<TestRouter> {
  const dir = mkdtempSync(join(tmpdir(), 'smarterrouter-test-'));
  const config = configFrom({
    ROUTER_HOST: '127.0.0.1',
    ROUTER_PORT: '0',
    ROUTER_DATABASE_URL: join(dir, 'router.db'),
    // A backend nobody listens on unless the test says otherwise: health shows it down.
    ROUTER_OLLAMA_URL: 'http://127.0.0.1:9',
    ROUTER_SHUTDOWN_TIMEOUT: '2',
    ROUTER_POLLING_INTERVAL: '0',
    ROUTER_VRAM_MONITOR_ENABLED: 'false',
    // Profiling on start-up would add background load to every test; tests that want it set it.
    ROUTER_PROFILE_ON_STARTUP: 'false',
    // Load shedding reacts to event-loop lag, which a test machine shared by parallel suites can show
    // for a second at a time: tests opt in (test/backpressure.test.ts) instead of seeing stray 503s.
    ROUTER_BACKPRESSURE_ENABLED: 'false',
    // Circuit breakers would carry failures injected by one test into the next; circuit tests opt in.
    ROUTER_CIRCUIT_FAILURE_THRESHOLD: '1000',
    ...env,
  });
  const logger = options.logDestination
    ? createLogger({ logLevel: config.logLevel, logFormat: config.logFormat }, options.logDestination)
    : createLogger({ logLevel: process.env.ROUTER_TEST_LOGS ? 'debug' : 'silent', logFormat: 'json' });
  const router = await startRouter(config, { logger, cwd: dir });
  return Object.assign(router, {
    dir,
    async stop() {
      await router.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Waits (up to 5 s) until GET /v1/models lists every id (discovery runs in the background). */
export async function waitForModels(r: TestRouter, ids: string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const listed = ((await (await fetch(`${r.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    if (ids.every((id) => listed.includes(id))) return;
    if (Date.now() > deadline) throw new Error(`models ${ids.join(', ')} never listed`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
