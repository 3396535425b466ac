/**
 * A third-party plugin imports the contract the way docs/plugins.md says, `smarterrouter/plugin-api`,
 * and the router started the way users start it (plain node on the compiled dist/, no tsx) loads it:
 * the package's `exports` must name JavaScript, not the TypeScript sources. The plugin lives in a
 * temp folder with the router linked in as its `smarterrouter` dependency (what `npm install
 * ../smarterrouter` or `npm link` gives), and its errors, built from that import, reach the client.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/services.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sr-plugin-package-'));
let child: ChildProcess | undefined;
let url = '';

const PLUGIN = `
import { PluginError, SPECIFICATION_VERSION } from 'smarterrouter/plugin-api';

export default {
  manifest: { name: 'smarterrouter-backend-acme', version: '1.0.0', kind: 'backend', specificationVersion: SPECIFICATION_VERSION },
  create(options) {
    return {
      specificationVersion: SPECIFICATION_VERSION,
      provider: 'acme',
      name: options.name,
      capabilities: { loadedModels: false, load: false, unload: false, embeddings: false },
      async listModels() {
        return [{ id: 'acme-chat', capabilities: { chat: true, vision: false, tools: false, embeddings: false, thinking: false } }];
      },
      async *chat(request) {
        if (request.messages.some((m) => typeof m.content === 'string' && m.content.includes('refuse'))) {
          throw new PluginError({ code: 'bad_request', message: 'acme refuses this prompt', backend: options.name, model: request.model });
        }
        yield { type: 'text-delta', delta: 'hello from acme' };
        yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 3 } };
      },
      async health() {
        return { ok: true, latencyMs: 0 };
      },
      async embed() {
        throw new PluginError({ code: 'unsupported', message: 'acme has no embeddings', backend: options.name });
      },
      async loadedModels() {
        return [];
      },
      async load() {
        return false;
      },
      async unload() {
        return false;
      },
    };
  },
};
`;

beforeAll(async () => {
  // What `npm start` runs first; in place, so a router already running from dist/ is not disturbed.
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--quiet'], { cwd: ROOT });
  const pkg = join(dir, 'smarterrouter-backend-acme');
  mkdirSync(join(pkg, 'node_modules'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'smarterrouter-backend-acme', version: '1.0.0', type: 'module', exports: './index.js', peerDependencies: { smarterrouter: '*' } }));
  writeFileSync(join(pkg, 'index.js'), PLUGIN);
  symlinkSync(ROOT, join(pkg, 'node_modules', 'smarterrouter'), 'dir');

  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      ROUTER_HOST: '127.0.0.1',
      ROUTER_PORT: String(port),
      ROUTER_DATABASE_URL: join(dir, 'router.db'),
      ROUTER_PLUGINS: pkg,
      ROUTER_BACKENDS: 'acme=smarterrouter-backend-acme:memory',
      ROUTER_PROFILE_ON_STARTUP: 'false',
      ROUTER_VRAM_MONITOR_ENABLED: 'false',
      ROUTER_EXPOSE_MODELS: 'true',
      ROUTER_LOG_LEVEL: 'warn',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`router exited with ${code}: ${stderr}`))));
  const ready = (async () => {
    for (;;) {
      try {
        const health = (await (await fetch(`${url}/health`)).json()) as { chat_models?: number };
        if (health.chat_models) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await Promise.race([ready, exited]);
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a plugin package importing smarterrouter/plugin-api', () => {
  it('loads under plain node: its model is listed and answers', async () => {
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain('acme-chat');
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('hello from acme');
  });

  it('its PluginError (from that import) is recognised: a bad_request for a named model is a 400 with its message', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'acme-chat', messages: [{ role: 'user', content: 'please refuse' }] }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('acme refuses this prompt');
  });
});
