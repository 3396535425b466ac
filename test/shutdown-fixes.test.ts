/**
 * Shutdown and start-up edge cases found by a black-box review:
 * - requests still waiting for a first token at the drain deadline are aborted, and their routing
 *   decisions reach SQLite as `aborted` before the database closes; the cut upstream calls count
 *   against no backend's circuit and are not logged as backend failures;
 * - a ROUTER_HOST that does not resolve ends start-up with one line naming the variable, no stack.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFrom } from '../src/config/index.js';
import { openDatabase } from '../src/db/index.js';
import { createLogger } from '../src/server/logger.js';
import { StartupError, startRouter } from '../src/server/start.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter } from './support/router.js';

let sim: RunningSimulator;

beforeAll(async () => {
  // The first token takes 20 s: every request is still waiting for it when the router closes.
  sim = await startOllamaSimulator({ models: [{ id: 'sleepy:1b', parameterSizeB: 1, tokensPerSecond: 50, firstTokenMs: 20_000 }] });
});
afterAll(async () => {
  await sim?.close();
});

describe('shutdown at the drain deadline', () => {
  it('records the cut requests as aborted decisions and blames no backend', async () => {
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (d: Buffer) => (logText += d.toString()));
    const router = await startTestRouter(
      {
        ROUTER_OLLAMA_URL: sim.url,
        ROUTER_CACHE_ENABLED: 'false',
        ROUTER_SHUTDOWN_TIMEOUT: '0.5',
        // One backend failure would open the circuit: none may be counted.
        ROUTER_CIRCUIT_FAILURE_THRESHOLD: '1',
        ROUTER_LOG_LEVEL: 'info',
        ROUTER_LOG_FORMAT: 'json',
      },
      { logDestination: logs },
    );
    try {
      const requests = [1, 2, 3].map((i) =>
        fetch(`${router.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'sleepy:1b', stream: i !== 3, messages: [{ role: 'user', content: `story ${i}` }] }),
        }).then(
          (r) => r.text(),
          () => 'cut',
        ),
      );
      // All three are upstream, waiting for their first token.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const began = Date.now();
      await router.close();
      expect(Date.now() - began).toBeLessThan(5_000);
      await Promise.all(requests);

      const db = await openDatabase(join(router.dir, 'router.db'));
      try {
        const rows = (await db.em.getKnex()('routing_decisions').select('status', 'attempts')) as Array<{ status: string; attempts: string }>;
        expect(rows.map((r) => r.status)).toEqual(['aborted', 'aborted', 'aborted']);
        for (const row of rows) {
          const attempts = JSON.parse(row.attempts) as Array<{ backend: string; error?: { code: string } }>;
          expect(attempts.map((a) => a.error?.code)).toEqual(['aborted']);
        }
      } finally {
        await db.close();
      }

      // No circuit saw a failure, and nothing was logged as a backend error.
      expect(router.core.circuits.snapshot().filter((c) => c.consecutiveFailures > 0 || c.state !== 'closed')).toEqual([]);
      expect(logText).not.toContain('unreachable');
      expect(logText).not.toMatch(/model failed before its (first token|answer was complete)/);
      expect(logText).not.toContain('request failed');
      expect(logText).not.toContain('are lost');
    } finally {
      rmSync(router.dir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('shutdown with a stream past its first token', () => {
  it('cuts it at the drain deadline and stores its decision as aborted before the database closes', async () => {
    const slow = await startOllamaSimulator({ models: [{ id: 'chatty:1b', parameterSizeB: 1, tokensPerSecond: 10 }] });
    const router = await startTestRouter({
      ROUTER_OLLAMA_URL: slow.url,
      ROUTER_CACHE_ENABLED: 'false',
      ROUTER_SHUTDOWN_TIMEOUT: '0.5',
      ROUTER_CIRCUIT_FAILURE_THRESHOLD: '1',
    });
    try {
      const res = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // 200 tokens at 10 a second: 20 s, far past the drain.
        body: JSON.stringify({ model: 'chatty:1b', stream: true, max_tokens: 200, messages: [{ role: 'user', content: 'a very long story' }] }),
      });
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toContain('chat.completion.chunk');
      const rest = (async () => {
        try {
          while (!(await reader.read()).done);
        } catch {
          // cut
        }
      })();
      const began = Date.now();
      await router.close();
      expect(Date.now() - began).toBeLessThan(5_000);
      await rest;

      const db = await openDatabase(join(router.dir, 'router.db'));
      try {
        const rows = (await db.em.getKnex()('routing_decisions').select('status')) as Array<{ status: string }>;
        expect(rows.map((r) => r.status)).toEqual(['aborted']);
      } finally {
        await db.close();
      }
      expect(router.core.circuits.snapshot().filter((c) => c.consecutiveFailures > 0 || c.state !== 'closed')).toEqual([]);
    } finally {
      await slow.close();
      rmSync(router.dir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('a ROUTER_HOST that does not resolve', () => {
  it('startRouter refuses it with a StartupError naming the variable and its value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-host-'));
    try {
      const config = configFrom({
        ROUTER_HOST: 'not_a_host',
        ROUTER_PORT: '0',
        ROUTER_DATABASE_URL: join(dir, 'router.db'),
        ROUTER_OLLAMA_URL: 'http://127.0.0.1:9',
        ROUTER_VRAM_MONITOR_ENABLED: 'false',
        ROUTER_PROFILE_ON_STARTUP: 'false',
      });
      const error = await startRouter(config, { logger: createLogger({ logLevel: 'silent', logFormat: 'json' }), cwd: dir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toMatch(/ROUTER_HOST not_a_host/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm start prints one line naming ROUTER_HOST, no stack, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-host-'));
    try {
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(new URL('..', import.meta.url).pathname, 'src/main.ts')], {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          ROUTER_HOST: 'not_a_host',
          ROUTER_PORT: '0',
          ROUTER_OLLAMA_URL: 'http://127.0.0.1:9',
          ROUTER_VRAM_MONITOR_ENABLED: 'false',
          ROUTER_PROFILE_ON_STARTUP: 'false',
          ROUTER_LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^smarterrouter: cannot start: ROUTER_HOST not_a_host does not resolve/)]);
      expect(stdout + stderr).not.toMatch(/\n\s+at /);
      expect(stdout + stderr).not.toContain('getaddrinfo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
