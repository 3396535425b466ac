/**
 * Plugin options from the environment reach the plugins' create(): ROUTER_BACKEND_<NAME>_OPTIONS for
 * a backend instance (and none of the router's settings meant for built-in kinds), and
 * ROUTER_PLUGIN_OPTIONS for classifier and judge plugins, by plugin name. Plugins loaded from files
 * through ROUTER_PLUGINS into a running router.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRouter, type TestRouter } from './support/router.js';

const dir = mkdtempSync(join(tmpdir(), 'sr-plugin-options-'));
const seen = ((globalThis as Record<string, unknown>).__pluginOptions = {}) as Record<string, Record<string, unknown>>;

const BACKEND = `
export default {
  manifest: { name: 'opt-backend', version: '1.0.0', kind: 'backend', specificationVersion: 'v1' },
  create(options) {
    globalThis.__pluginOptions.backend = options;
    return {
      specificationVersion: 'v1', provider: 'opt', name: options.name,
      capabilities: { loadedModels: false, load: false, unload: false, embeddings: false },
      async listModels() { return [{ id: 'opt-chat', capabilities: { chat: true, vision: false, tools: false, embeddings: false, thinking: false } }]; },
      async *chat() {
        yield { type: 'text-delta', delta: 'region ' + options.region };
        yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 2 } };
      },
      async embed() { throw new Error('no embeddings'); },
      async loadedModels() { return []; },
      async load() { return false; },
      async unload() { return false; },
      async health() { return { ok: true, latencyMs: 0 }; },
    };
  },
};
`;

const CLASSIFIER = `
export default {
  manifest: { name: 'opt-classifier', version: '1.0.0', kind: 'classifier', specificationVersion: 'v1' },
  create(options) {
    globalThis.__pluginOptions.classifier = options;
    return { specificationVersion: 'v1', name: options.name, classify: () => null };
  },
};
`;

let router: TestRouter;
let warnings: string[] = [];

beforeAll(async () => {
  writeFileSync(join(dir, 'backend.mjs'), BACKEND);
  writeFileSync(join(dir, 'classifier.mjs'), CLASSIFIER);
  const lines: string[] = [];
  const sink = { write: (chunk: string) => (lines.push(chunk), true) } as unknown as NodeJS.WritableStream;
  router = await startTestRouter(
    {
      ROUTER_PLUGINS: `${join(dir, 'backend.mjs')},${join(dir, 'classifier.mjs')}`,
      ROUTER_BACKENDS: 'acme=opt-backend:memory',
      ROUTER_BACKEND_ACME_OPTIONS: '{"region":"eu","retries":2}',
      ROUTER_PLUGIN_OPTIONS: '{"opt-classifier":{"threshold":0.3,"name":"not-this"},"opt-judje":{"x":1}}',
      ROUTER_LOG_LEVEL: 'warn',
    },
    { logDestination: sink },
  );
  warnings = lines;
});

afterAll(async () => {
  await router?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('plugin options', () => {
  it('a backend instance gets its ROUTER_BACKEND_<NAME>_OPTIONS, and not the settings of built-in kinds', async () => {
    expect(seen.backend).toEqual({ region: 'eu', retries: 2, name: 'acme', location: 'memory' });
    const res = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'opt-chat', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('region eu');
  });

  it('a classifier gets its ROUTER_PLUGIN_OPTIONS entry (its name stays its own); an entry naming no loaded plugin is warned about', () => {
    expect(seen.classifier).toEqual({ threshold: 0.3, name: 'opt-classifier' });
    const log = warnings.join("");
    expect(log).toContain("ROUTER_PLUGIN_OPTIONS names no loaded classifier or judge plugin");
    expect(log).toContain("opt-judje");
  });
});
