/**
 * `npm start` as a user runs it: a real process, real port, real signals. Start-up problems end the
 * process with one clear line and a non-zero exit; SIGTERM drains in-flight requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { freePort } from './support/services.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/main.ts');
// An absolute loader URL: the child runs in a temp folder where a bare 'tsx' would not resolve.
const TSX = import.meta.resolve('tsx');
const children: ChildProcess[] = [];
const sims: RunningSimulator[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const sim of sims.splice(0)) await sim.close();
});

function launch(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, ['--import', TSX, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ROUTER_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  // When the FATAL log line (JSON level 60) arrived, to time how long the process lingers after it.
  let fatalAt: number | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (fatalAt === undefined && stdout.includes('"level":60')) fatalAt = Date.now();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Milliseconds from the FATAL line to the exit (call after `exited`). */
  const lingeredMs = async () => {
    await exited;
    expect(fatalAt, 'no FATAL line in the log stream').toBeDefined();
    return Date.now() - fatalAt!;
  };
  return { child, exited, lingeredMs, out: () => stdout, err: () => stderr };
}

async function waitForHealth(url: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`router at ${url} not healthy within ${ms} ms`);
}

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'sr-start-'));
}

describe('npm start', () => {
  it('serves /health and creates data/router.db with the defaults', async () => {
    const cwd = workdir();
    const port = await freePort();
    // A misspelt variable: warned about in the log stream (JSON here), not as a bare stderr line.
    const run = launch({ ROUTER_PORT: String(port), ROUTER_HOST: '127.0.0.1', ROUTER_OLLAMA_URL: 'http://127.0.0.1:9', ROUTER_POLING_INTERVAL: '5' }, cwd);
    await waitForHealth(`http://127.0.0.1:${port}`);
    expect(existsSync(join(cwd, 'data/router.db'))).toBe(true);
    const warning = run
      .out()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((entry) => entry.msg.includes('ROUTER_POLING_INTERVAL'));
    expect(warning).toMatchObject({ level: 40, msg: expect.stringContaining('did you mean ROUTER_POLLING_INTERVAL?') });
    expect(run.err()).not.toContain('ROUTER_POLING_INTERVAL');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it.each([
    [{ ROUTER_PORT: 'abc' }, /ROUTER_PORT: "abc" is not an integer/],
    [{ ROUTER_QUALITY_PREFERENCE: '1.7' }, /ROUTER_QUALITY_PREFERENCE: 1.7 is out of range \(allowed: 0 to 1\)/],
    [{ ROUTER_PROVIDER: 'bogus' }, /ROUTER_PROVIDER: "bogus" is not allowed \(allowed: ollama, llama.cpp, openai, gguf\)/],
    // Checked with the other variables: one line, not a FATAL log line plus a "cannot start" line.
    [{ ROUTER_DATABASE_URL: 'mysql://root:hunter2@db/router' }, /ROUTER_DATABASE_URL: unsupported scheme in "mysql:\/\/\*\*\*@db\/router" \(use sqlite:\/\/\/path.db/],
  ])('refuses bad configuration %o with one clear line', async (env, message) => {
    const run = launch(env, workdir());
    expect(await run.exited).toBe(1);
    const lines = run.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^smarterrouter: configuration error: /);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).not.toContain('hunter2');
    expect(run.out()).not.toMatch(/"level":60/);
  });

  it('reads .env from the working directory', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, '.env'), 'ROUTER_MAX_MESSAGES=zero\n');
    const run = launch({}, cwd);
    expect(await run.exited).toBe(1);
    expect(run.err()).toMatch(/ROUTER_MAX_MESSAGES: "zero" is not an integer/);
  });

  it('stops with a CRITICAL message when the database path is a directory', async () => {
    const cwd = workdir();
    mkdirSync(join(cwd, 'data/router.db'), { recursive: true });
    const run = launch({ ROUTER_PORT: String(await freePort()) }, cwd);
    expect(await run.exited).toBe(1);
    expect(run.err()).toMatch(/CRITICAL: database path .* is a directory/);
  });

  it('stops with a clear message when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = launch({ ROUTER_PORT: String(port), ROUTER_HOST: '127.0.0.1', ROUTER_OLLAMA_URL: 'http://127.0.0.1:9' }, workdir());
      expect(await run.exited).toBe(1);
      expect(run.err()).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
      // Exits right after the FATAL line (it used to linger for ROUTER_SHUTDOWN_TIMEOUT, ~10 s more).
      expect(await run.lingeredMs()).toBeLessThan(2_000);
    } finally {
      blocker.close();
    }
  });

  it('stops promptly with a clear message when ROUTER_HOST does not resolve', async () => {
    const run = launch({ ROUTER_PORT: String(await freePort()), ROUTER_HOST: 'nohost.invalid', ROUTER_OLLAMA_URL: 'http://127.0.0.1:9' }, workdir());
    expect(await run.exited).toBe(1);
    expect(run.err()).toMatch(/ROUTER_HOST nohost.invalid does not resolve to an address/);
    expect(run.err().trim().split('\n')).toHaveLength(1);
    expect(await run.lingeredMs()).toBeLessThan(2_000);
  });

  it('stops with a message naming a plugin that cannot load', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'bad-plugin.mjs'), 'export default { manifest: { name: "bad", version: "1.0.0", kind: "backend", specificationVersion: "v9" }, create() {} };\n');
    const run = launch({ ROUTER_PLUGINS: './bad-plugin.mjs', ROUTER_PORT: String(await freePort()) }, cwd);
    expect(await run.exited).toBe(1);
    expect(run.err()).toMatch(/plugin .*bad/);
  });

  it('drains an in-flight request on SIGTERM, then exits 0', async () => {
    const sim = await startOllamaSimulator({ models: [{ id: 'slow:1b', parameterSizeB: 1, tokensPerSecond: 40 }] });
    sims.push(sim);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const run = launch({ ROUTER_PORT: String(port), ROUTER_HOST: '127.0.0.1', ROUTER_OLLAMA_URL: sim.url }, workdir());
    await waitForHealth(url);
    // ~30 tokens at 40/s: still streaming when the signal arrives.
    const chat = (async () => {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'tell me a long story about a fox' }], max_tokens: 30 }),
      });
      return { status: res.status, body: await res.text() };
    })();
    await new Promise((r) => setTimeout(r, 150));
    run.child.kill('SIGTERM');
    const result = await chat;
    expect(await run.exited).toBe(0);
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).choices[0].message.content.length).toBeGreaterThan(0);
  });

  it('stops the router when npm start itself gets SIGTERM (npm runs the script through a shell)', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dir = workdir();
    // The real npm start in the repository (it builds dist/ first, as the other dist/ tests do).
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dir,
        ROUTER_PORT: String(port),
        ROUTER_HOST: '127.0.0.1',
        ROUTER_OLLAMA_URL: 'http://127.0.0.1:9',
        ROUTER_POLLING_INTERVAL: '0',
        ROUTER_DATABASE_URL: join(dir, 'router.db'),
        ROUTER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(npm);
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    await waitForHealth(url, 60_000);
    npm.kill('SIGTERM');
    await exited;
    // The router behind npm drained and let go of the port (it used to keep serving on its own).
    const deadline = Date.now() + 15_000;
    let up = true;
    while (up && Date.now() < deadline) {
      up = await fetch(`${url}/health`).then(
        () => true,
        () => false,
      );
      if (up) await new Promise((r) => setTimeout(r, 100));
    }
    expect(up, 'the router still answers after npm start was stopped').toBe(false);
  }, 90_000);
});
