/**
 * The CLI as the Docker image can run it: the image ships dist/, node_modules and package.json only
 * (no src/, no bin/, and bin/smarterrouter.js needs tsx), so the README documents
 * `docker compose exec smarterrouter node dist/src/cli/run.js <command>`. This builds dist/ as the
 * image's build stage does, copies that layout into an empty folder, starts the router from it with
 * plain node and runs the compiled CLI against it over real HTTP.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { freePort } from './support/services.js';

const ROOT = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

describe('the compiled CLI in the image layout (dist/, node_modules, package.json)', () => {
  let app: string;
  let router: ChildProcess | undefined;
  let sim: RunningSimulator;
  let url: string;

  beforeAll(async () => {
    // What the Dockerfile's build stage runs (`npm run build`); in place, like npm start.
    await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--quiet'], { cwd: ROOT });
    app = mkdtempSync(join(tmpdir(), 'sr-image-'));
    cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    // The image has its own production node_modules; a link stands in for it here.
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');

    sim = await startOllamaSimulator({ models: [{ id: 'llama3.2:3b', parameterSizeB: 3.2 }] });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // The image's CMD, from the copied layout.
    router = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        ROUTER_HOST: '127.0.0.1',
        ROUTER_PORT: String(port),
        ROUTER_OLLAMA_URL: sim.url,
        ROUTER_DATABASE_URL: join(app, 'router.db'),
        ROUTER_PROFILE_ON_STARTUP: 'false',
        ROUTER_VRAM_MONITOR_ENABLED: 'false',
        ROUTER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const up = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline || router.exitCode !== null) throw new Error('the router from dist/ did not come up');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);

  afterAll(async () => {
    if (router && router.exitCode === null) {
      const exited = new Promise((resolve) => router!.once('exit', resolve));
      router.kill('SIGTERM');
      await exited;
    }
    await sim?.close();
  });

  const cli = (...args: string[]) =>
    run(process.execPath, ['dist/src/cli/run.js', ...args], { cwd: app, env: { PATH: process.env.PATH ?? '', SMARTERROUTER_URL: url } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it('holds no sources: the CLI runs from dist/ alone', () => {
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(app, 'bin'))).toBe(false);
    expect(existsSync(join(app, 'dist/src/cli/run.js'))).toBe(true);
  });

  it('runs stats and explain against the router on the same host (loopback: no admin key needed)', async () => {
    const stats = await cli('stats');
    expect(stats.stderr).toBe('');
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^up .* requests \d+ {2}errors \d+/m);
    const explain = await cli('explain', 'write a haiku about the sea');
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/-> llama3\.2:3b$/m);
  });

  it('prints its usage and exits 2 on a bad command', async () => {
    const help = await cli('help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: smarterrouter <command>/);
    expect((await cli('bogus')).code).toBe(2);
  });
});
