import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PluginError,
  PluginLoadError,
  type BackendPlugin,
  type ChatStreamPart,
  type PluginContext,
  type PluginLogger,
} from '../src/plugin-api/index.js';
import { createBackends, guardBackend, isPathSpec, loadPlugins } from '../src/plugins/loader.js';
import { fakeBackend } from './support/fake-backend.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ECHO_DIR = join(REPO, 'examples/backend-plugin-echo');
const ECHO_NAME = 'smarterrouter-backend-echo';

interface LogLine {
  level: string;
  obj: object | string;
  msg?: string;
}

function memoryLogger(lines: LogLine[] = []): PluginLogger & { lines: LogLine[] } {
  const at = (level: string) => (obj: object | string, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function context(logger: PluginLogger = memoryLogger()): PluginContext {
  return { logger, fetch, signal: new AbortController().signal };
}

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Awaits a promise expected to reject and returns what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function expectLoadError(promise: Promise<unknown>, plugin: string, message: RegExp): Promise<PluginLoadError> {
  const error = await rejection(promise);
  expect(PluginLoadError.isInstance(error), `expected a PluginLoadError, got ${String(error)}`).toBe(true);
  const loadError = error as PluginLoadError;
  expect(loadError.plugin).toBe(plugin);
  expect(loadError.message).toContain(`plugin "${plugin}"`);
  expect(loadError.message).toMatch(message);
  return loadError;
}

const call = () => ({ signal: new AbortController().signal });

let dir: string;

/** Writes a small ESM plugin file into the temp dir and returns its absolute path. */
async function pluginFile(file: string, source: string): Promise<string> {
  const path = join(dir, file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, source);
  return path;
}

/** A backend definition as module source; `manifest` and `create` bodies can be overridden. */
function backendSource(name: string, { version = 'v1', create }: { version?: string; create?: string } = {}): string {
  return `
    export default {
      manifest: { name: ${JSON.stringify(name)}, version: '0.1.0', kind: 'backend', specificationVersion: ${JSON.stringify(version)} },
      ${create ?? `create(options) {
        return {
          specificationVersion: 'v1', name: options.name, provider: ${JSON.stringify(name)},
          capabilities: { loadedModels: false, load: false, unload: false, embeddings: false },
          async listModels() { return []; },
          async *chat() { yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 } }; },
          async embed() { throw new Error('no'); },
          async loadedModels() { return []; },
          async load() { return false; },
          async unload() { return false; },
          async health() { return { ok: true, latencyMs: 0 }; },
        };
      }`},
    };
  `;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugin-loader-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadPlugins', () => {
  it('starts from the built-ins and reports them as such', async () => {
    const registry = await loadPlugins({ specs: [], logger: memoryLogger() });
    expect(registry.backendKinds()).toEqual(['ollama', 'llama.cpp', 'openai', 'gguf']);
    for (const kind of ['ollama', 'llama.cpp', 'openai', 'gguf']) {
      expect(registry.backendDefinition(kind)?.manifest.kind).toBe('backend');
    }
    expect(registry.classifiers()).toHaveLength(1);
    const list = registry.list();
    expect(list.every((p) => p.source === 'builtin' && p.location === 'builtin' && p.specificationVersion === 'v1')).toBe(true);
    expect(list.map((p) => `${p.kind}:${p.name}`)).toEqual([
      'backend:ollama',
      'backend:llama.cpp',
      'backend:openai',
      'backend:gguf',
      'classifier:builtin',
      'judge:heuristic',
      'judge:llm',
    ]);
  });

  it('loads the example plugin from its package folder, relative to cwd, and reports the source', async () => {
    const logger = memoryLogger();
    const registry = await loadPlugins({ specs: ['./examples/backend-plugin-echo'], logger, cwd: REPO });
    const definition = registry.backendDefinition(ECHO_NAME);
    expect(definition?.manifest).toMatchObject({ name: ECHO_NAME, kind: 'backend', specificationVersion: 'v1' });
    const info = registry.list().find((p) => p.name === ECHO_NAME);
    expect(info).toEqual({
      name: ECHO_NAME,
      version: '1.0.0',
      kind: 'backend',
      specificationVersion: 'v1',
      source: 'path',
      location: join(ECHO_DIR, 'src/index.js'),
      description: expect.any(String),
    });
    expect(registry.list().filter((p) => p.source === 'builtin')).toHaveLength(7);
    expect(logger.lines.some((l) => l.msg === 'plugin loaded' && (l.obj as { plugin?: string }).plugin === ECHO_NAME)).toBe(true);
  });

  it('loads a plugin from an absolute file path and from a file: URL', async () => {
    const file = join(ECHO_DIR, 'src/index.js');
    for (const spec of [file, `file://${file}`]) {
      const registry = await loadPlugins({ specs: [spec], logger: memoryLogger() });
      expect(registry.list().find((p) => p.name === ECHO_NAME)).toMatchObject({ source: 'path', location: file });
    }
  });

  it('loads a package by name from node_modules under cwd', async () => {
    const pkgDir = join(dir, 'app/node_modules/sr-test-backend-pkg');
    await pluginFile('app/node_modules/sr-test-backend-pkg/package.json', JSON.stringify({ name: 'sr-test-backend-pkg', main: 'main.mjs' }));
    await pluginFile('app/node_modules/sr-test-backend-pkg/main.mjs', backendSource('sr-test-backend-pkg'));
    const registry = await loadPlugins({ specs: ['sr-test-backend-pkg'], logger: memoryLogger(), cwd: join(dir, 'app') });
    expect(registry.list().find((p) => p.name === 'sr-test-backend-pkg')).toMatchObject({
      source: 'package',
      location: join(pkgDir, 'main.mjs'),
    });
  });

  it('rejects a package that is not installed', async () => {
    await expectLoadError(loadPlugins({ specs: ['sr-no-such-plugin-xyz'], logger: memoryLogger(), cwd: dir }), 'sr-no-such-plugin-xyz', /cannot find package/);
  });

  it('rejects a plugin targeting another contract version', async () => {
    const path = await pluginFile('v2.mjs', backendSource('acme-v2', { version: 'v2' }));
    const error = await expectLoadError(loadPlugins({ specs: [path], logger: memoryLogger() }), 'acme-v2', /targets contract v2; this router supports v1/);
    expect(error.message).toContain(path);
  });

  it('rejects a module without a plugin export', async () => {
    const path = await pluginFile('none.mjs', 'export const notAPlugin = 1;\n');
    await expectLoadError(loadPlugins({ specs: [path], logger: memoryLogger() }), path, /exports no plugin definition/);
  });

  it('accepts the named export `plugin` and arrays of definitions of several kinds', async () => {
    const path = await pluginFile(
      'bundle.mjs',
      `
      const classifier = {
        manifest: { name: 'acme-classifier', version: '1.0.0', kind: 'classifier', specificationVersion: 'v1' },
        create: (options) => ({ specificationVersion: 'v1', name: options.name, classify: () => null }),
      };
      const judge = {
        manifest: { name: 'acme-judge', version: '1.0.0', kind: 'judge', specificationVersion: 'v1' },
        create: (options) => ({ specificationVersion: 'v1', name: options.name, judge: async () => ({ score: 1 }) }),
      };
      export const plugin = [classifier, judge];
      `,
    );
    const registry = await loadPlugins({ specs: [path], logger: memoryLogger() });
    // Third-party classifiers come first: the built-in always decides, so it must be asked last.
    expect(registry.classifiers().map((d) => d.manifest.name)).toEqual(['acme-classifier', 'smarterrouter-classifier-builtin']);
    expect(registry.judges().map((d) => d.manifest.name)).toEqual(['heuristic', 'llm', 'acme-judge']);
  });

  it('rejects a definition without create', async () => {
    const path = await pluginFile(
      'no-create.mjs',
      `export default { manifest: { name: 'acme-nocreate', version: '1.0.0', kind: 'backend', specificationVersion: 'v1' } };`,
    );
    await expectLoadError(loadPlugins({ specs: [path], logger: memoryLogger() }), 'acme-nocreate', /create must be a function/);
  });

  it('rejects an incomplete manifest or an unknown kind', async () => {
    const noName = await pluginFile('no-name.mjs', `export default { manifest: { version: '1.0.0' }, create() {} };`);
    await expectLoadError(loadPlugins({ specs: [noName], logger: memoryLogger() }), noName, /manifest.name/);
    const noVersion = await pluginFile('no-version.mjs', `export default { manifest: { name: 'acme-nover', kind: 'backend', specificationVersion: 'v1' }, create() {} };`);
    await expectLoadError(loadPlugins({ specs: [noVersion], logger: memoryLogger() }), 'acme-nover', /manifest.version/);
    const badKind = await pluginFile(
      'bad-kind.mjs',
      `export default { manifest: { name: 'acme-widget', version: '1.0.0', kind: 'widget', specificationVersion: 'v1' }, create() {} };`,
    );
    await expectLoadError(loadPlugins({ specs: [badKind], logger: memoryLogger() }), 'acme-widget', /kind "widget" is not one of backend, classifier, judge/);
    const noSpec = await pluginFile('no-spec.mjs', `export default { manifest: { name: 'acme-nospec', version: '1.0.0', kind: 'backend' }, create() {} };`);
    await expectLoadError(loadPlugins({ specs: [noSpec], logger: memoryLogger() }), 'acme-nospec', /declares no manifest.specificationVersion; this router supports v1/);
  });

  it('rejects duplicate names, against a built-in and between third-party plugins', async () => {
    const ollama = await pluginFile('ollama-again.mjs', backendSource('ollama'));
    await expectLoadError(loadPlugins({ specs: [ollama], logger: memoryLogger() }), 'ollama', /already provided by the router \(built-in\)/);
    const a = await pluginFile('dup-a.mjs', backendSource('acme-dup'));
    const b = await pluginFile('dup-b.mjs', backendSource('acme-dup'));
    const error = await expectLoadError(loadPlugins({ specs: [a, b], logger: memoryLogger() }), 'acme-dup', /already provided by/);
    expect(error.message).toContain(a);
    expect(error.message).toContain(b);
  });

  it('rejects a module that fails to import, and a missing file', async () => {
    const broken = await pluginFile('broken.mjs', `throw new Error('top-level boom');\nexport default {};`);
    await expectLoadError(loadPlugins({ specs: [broken], logger: memoryLogger() }), broken, /cannot import .*top-level boom/);
    await expectLoadError(loadPlugins({ specs: ['./missing.mjs'], logger: memoryLogger(), cwd: dir }), './missing.mjs', /file not found/);
  });

  it('tells paths from package names', () => {
    expect(['./a.js', '../b.mjs', '/abs/c.js', 'file:///x.js', '.'].every(isPathSpec)).toBe(true);
    expect(['pkg', '@scope/pkg', 'pkg/sub'].some(isPathSpec)).toBe(false);
  });
});

describe('createBackends', () => {
  it('creates the example backend by its manifest name, guarded, with name/location/apiKey and extra options', async () => {
    const registry = await loadPlugins({ specs: [ECHO_DIR], logger: memoryLogger() });
    const logger = memoryLogger();
    const [echo] = await createBackends(
      registry,
      [{ name: 'mirror', kind: ECHO_NAME, location: 'memory', apiKey: 'k' }],
      context(logger),
      { optionsFor: () => ({ delayMs: 1, name: 'ignored' }) },
    );
    expect(echo.name).toBe('mirror');
    expect(echo.provider).toBe('echo');
    const parts = await collect(echo.chat({ model: 'echo-small', messages: [{ role: 'user', content: 'one two three four five' }] }, call()));
    expect(parts.map((p) => (p.type === 'text-delta' ? p.delta : p.type)).join('|')).toBe('one two| three four| five|finish');
    // The plugin builds its errors from its own class; the mark makes them ours.
    const missing = await rejection(collect(echo.chat({ model: 'nope', messages: [] }, call())));
    expect(PluginError.isInstance(missing)).toBe(true);
    // The example's own copy of the error class: recognised by its mark, rebuilt as the router's
    // (so a missing `retryable` or an unknown code cannot slip through).
    expect(missing).toBeInstanceOf(PluginError);
    expect(missing).toMatchObject({ code: 'not_found', backend: 'mirror', model: 'nope' });
    expect(logger.lines.some((l) => l.msg === 'backend created')).toBe(true);
  });

  it('hands the built-in kinds\' chat streams through unguarded and guards every other kind', async () => {
    // A stream that breaks the contract (text after its finish part) shows which side it is on:
    // the guard drops what follows a finish, a trusted stream arrives as the plugin made it.
    const sloppy = fakeBackend({
      name: 'a',
      async *chat() {
        yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } } as ChatStreamPart;
        yield { type: 'text-delta', delta: 'after the end' } as ChatStreamPart;
      },
    });
    const definition = {
      manifest: { specificationVersion: 'v1' as const, kind: 'backend' as const, name: 'smarterrouter-backend-sloppy', version: '1.0.0' },
      create: async () => sloppy,
    };
    const asBuiltin = await loadPlugins({ specs: [], logger: memoryLogger(), builtins: { backend: { sloppy: definition }, classifier: {}, judge: {} } });
    expect(asBuiltin.isBuiltinBackend('sloppy')).toBe(true);
    const [trusted] = await createBackends(asBuiltin, [{ name: 'a', kind: 'sloppy', location: 'memory' }], context());
    expect((await collect(trusted.chat({ model: 'm', messages: [] }, call()))).map((p) => p.type)).toEqual(['finish', 'text-delta']);

    const registry = await loadPlugins({ specs: [ECHO_DIR], logger: memoryLogger() });
    expect(registry.isBuiltinBackend('openai')).toBe(true);
    expect(registry.isBuiltinBackend('OLLAMA')).toBe(true);
    expect(registry.isBuiltinBackend(ECHO_NAME)).toBe(false);
    expect(registry.isBuiltinBackend('nope')).toBe(false);
    // The same sloppy stream from a third-party plugin file, created by the loader, is guarded:
    // nothing after the finish.
    const file = await pluginFile(
      'sloppy/index.mjs',
      backendSource('smarterrouter-backend-sloppy-3p').replace(
        "async *chat() { yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 } }; },",
        "async *chat() { yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 } }; yield { type: 'text-delta', delta: 'after the end' }; },",
      ),
    );
    expect(await readFile(file, 'utf8')).toContain('after the end');
    const thirdParty = await loadPlugins({ specs: [file], logger: memoryLogger() });
    expect(thirdParty.isBuiltinBackend('smarterrouter-backend-sloppy-3p')).toBe(false);
    const [guarded] = await createBackends(thirdParty, [{ name: 'b', kind: 'smarterrouter-backend-sloppy-3p', location: 'memory' }], context());
    expect((await collect(guarded.chat({ model: 'm', messages: [] }, call()))).map((p) => p.type)).toEqual(['finish']);
  });

  it('rejects an unknown kind, listing the known kinds', async () => {
    const registry = await loadPlugins({ specs: [], logger: memoryLogger() });
    await expectLoadError(
      createBackends(registry, [{ name: 'x', kind: 'nope', location: 'http://localhost:1' }], context()),
      'nope',
      /unknown backend kind "nope" for backend "x" \(known kinds: ollama, llama\.cpp, openai, gguf\)/,
    );
  });

  it('rejects a throwing factory, naming the plugin and the instance, and disposes what it had created', async () => {
    const throwing = await pluginFile('throwing.mjs', backendSource('acme-throws', { create: `create() { throw new Error('no licence key'); }` }));
    const disposable = await pluginFile(
      'disposable.mjs',
      backendSource('acme-disposable').replace("async health()", 'async dispose() { globalThis.__acmeDisposed = (globalThis.__acmeDisposed ?? 0) + 1; },\n async health()'),
    );
    const registry = await loadPlugins({ specs: [disposable, throwing], logger: memoryLogger() });
    const error = await expectLoadError(
      createBackends(
        registry,
        [
          { name: 'first', kind: 'acme-disposable', location: 'x' },
          { name: 'second', kind: 'acme-throws', location: 'x' },
        ],
        context(),
      ),
      'acme-throws',
      /create\(\) failed for backend "second": no licence key/,
    );
    expect((error.cause as Error).message).toBe('no licence key');
    expect((globalThis as { __acmeDisposed?: number }).__acmeDisposed).toBe(1);
  });

  it('rejects an instance that does not honour the contract', async () => {
    const path = await pluginFile(
      'half.mjs',
      backendSource('acme-half', { create: `create(options) { return { specificationVersion: 'v2', name: 'other', provider: 'x', capabilities: {} }; }` }),
    );
    const registry = await loadPlugins({ specs: [path], logger: memoryLogger() });
    const error = await expectLoadError(
      createBackends(registry, [{ name: 'half', kind: 'acme-half', location: 'x' }], context()),
      'acme-half',
      /backend "half" does not honour the contract/,
    );
    expect(error.message).toMatch(/targets contract v2/);
    expect(error.message).toMatch(/expected "half"/);
    expect(error.message).toMatch(/capabilities.load must be a boolean/);
    expect(error.message).toMatch(/chat must be a function/);
  });
});

describe('guardBackend', () => {
  /** A backend whose every method misbehaves in the way the test sets up. */
  function rogue(overrides: Partial<BackendPlugin>): BackendPlugin {
    return fakeBackend({
      name: 'rogue',
      provider: 'acme',
      capabilities: { loadedModels: true, load: true, unload: true, embeddings: true },
      load: async () => true,
      unload: async () => true,
      ...overrides,
    });
  }
  const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

  it('turns a synchronous throw in chat() into a typed rejection of the stream', async () => {
    const backend = guardBackend(
      rogue({
        chat() {
          throw new TypeError('cannot read properties of undefined');
        },
      }),
    );
    const error = await rejection(collect(backend.chat(request, call())));
    expect(PluginError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'internal', backend: 'rogue', model: 'm', message: 'cannot read properties of undefined' });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('turns a plain Error mid-stream into a final error part, keeping what came before', async () => {
    const backend = guardBackend(
      rogue({
        chat: async function* () {
          yield { type: 'text-delta', delta: 'Hel' };
          throw new Error('socket closed');
        },
      }),
    );
    const parts = await collect(backend.chat(request, call()));
    expect(parts[0]).toEqual({ type: 'text-delta', delta: 'Hel' });
    expect(parts).toHaveLength(2);
    const last = parts[1] as Extract<ChatStreamPart, { type: 'error' }>;
    expect(last.type).toBe('error');
    expect(PluginError.isInstance(last.error)).toBe(true);
    expect(last.error).toMatchObject({ code: 'internal', backend: 'rogue', message: 'socket closed' });
  });

  it('reports a stream that ends without a finish part: as a throw before any part, as an error part after', async () => {
    const empty = guardBackend(rogue({ chat: async function* () {} }));
    expect(await rejection(collect(empty.chat(request, call())))).toMatchObject({ code: 'bad_response', backend: 'rogue' });

    const cut = guardBackend(
      rogue({
        chat: async function* () {
          yield { type: 'text-delta', delta: 'partial' };
        },
      }),
    );
    const parts = await collect(cut.chat(request, call()));
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'bad_response', backend: 'rogue' } });
    expect((parts.at(-1) as { error: Error }).error.message).toMatch(/ended without a finish part/);
  });

  it('drops parts after finish, repairs a sloppy finish, and rejects unknown parts', async () => {
    let stopped = false;
    const chatty = guardBackend(
      rogue({
        chat: async function* () {
          try {
            yield { type: 'text-delta', delta: 'ok' };
            yield { type: 'finish', finishReason: 'weird', usage: { promptTokens: -1 } } as unknown as ChatStreamPart;
            yield { type: 'text-delta', delta: 'after the end' };
          } finally {
            stopped = true;
          }
        },
      }),
    );
    const parts = await collect(chatty.chat(request, call()));
    expect(parts).toEqual([
      { type: 'text-delta', delta: 'ok' },
      { type: 'finish', finishReason: 'other', usage: { promptTokens: 0, completionTokens: 0 } },
    ]);
    await new Promise((r) => setImmediate(r));
    expect(stopped, 'the plugin generator is stopped after its finish part').toBe(true);

    const odd = guardBackend(
      rogue({
        chat: async function* () {
          yield { type: 'image', data: 'x' } as unknown as ChatStreamPart;
        },
      }),
    );
    expect(await rejection(collect(odd.chat(request, call())))).toMatchObject({ code: 'bad_response', message: expect.stringMatching(/unknown type "image"/) });
  });

  it('wraps a plain Error inside an error part, and keeps PluginErrors from another copy of the contract', async () => {
    const plain = guardBackend(
      rogue({
        chat: async function* () {
          yield { type: 'error', error: new Error('raw') as PluginError };
        },
      }),
    );
    const [part] = await collect(plain.chat(request, call()));
    expect(part).toMatchObject({ type: 'error', error: { code: 'internal', backend: 'rogue' } });
    expect(PluginError.isInstance((part as { error: unknown }).error)).toBe(true);

    // A structurally foreign error carrying the shared Symbol.for mark: recognised, code kept.
    const foreign = Object.assign(new Error('slow down'), {
      [Symbol.for('smarterrouter.plugin-api.error')]: true,
      code: 'overloaded',
      retryable: true,
      backend: 'rogue',
    });
    const busy = guardBackend(rogue({ listModels: async () => Promise.reject(foreign) }));
    const error = await rejection(busy.listModels(call()));
    expect(PluginError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'overloaded', retryable: true });

    // One that names backend and model but not `retryable` (the docs never ask for it) takes its
    // code's default; a code outside the closed set reads as internal.
    const bare = Object.assign(new Error('busy'), { [Symbol.for('smarterrouter.plugin-api.error')]: true, code: 'overloaded', backend: 'rogue', model: 'm' });
    expect(PluginError.from(bare)).toMatchObject({ code: 'overloaded', retryable: true, backend: 'rogue', model: 'm' });
    const refused = Object.assign(new Error('no'), { [Symbol.for('smarterrouter.plugin-api.error')]: true, code: 'bad_request', backend: 'rogue', model: 'm' });
    expect(PluginError.from(refused).retryable).toBe(false);
    const odd = Object.assign(new Error('weird'), { [Symbol.for('smarterrouter.plugin-api.error')]: true, code: 'bogus_code', retryable: false, backend: 'rogue', model: 'm' });
    expect(PluginError.from(odd)).toMatchObject({ code: 'internal', retryable: false, message: 'weird (unknown error code "bogus_code")' });
  });

  it('stops waiting for a plugin that ignores the AbortSignal', async () => {
    let returned = false;
    const stuck = guardBackend(
      rogue({
        chat: async function* () {
          try {
            yield { type: 'text-delta', delta: 'first' };
            await new Promise(() => {}); // Never settles and never looks at the signal.
          } finally {
            returned = true;
          }
        },
        health: () => new Promise(() => {}),
      }),
    );
    const controller = new AbortController();
    const parts: ChatStreamPart[] = [];
    const done = (async () => {
      for await (const part of stuck.chat(request, { signal: controller.signal })) {
        parts.push(part);
        if (part.type === 'text-delta') setTimeout(() => controller.abort(), 5);
      }
    })();
    await done;
    expect(parts[0]).toEqual({ type: 'text-delta', delta: 'first' });
    expect(parts[1]).toMatchObject({ type: 'error', error: { code: 'aborted', backend: 'rogue' } });
    expect(returned, 'a generator stuck in an await cannot be stopped from outside').toBe(false);

    const deadline = new AbortController();
    const pending = stuck.health({ signal: deadline.signal });
    deadline.abort(new DOMException('deadline', 'TimeoutError'));
    expect(await rejection(pending)).toMatchObject({ code: 'timeout', backend: 'rogue' });
  });

  it('does not call the plugin at all for an already-aborted signal', async () => {
    let called = false;
    const backend = guardBackend(
      rogue({
        chat: async function* () {
          called = true;
          yield { type: 'text-delta', delta: 'x' };
        },
      }),
    );
    const controller = new AbortController();
    controller.abort();
    expect(await rejection(collect(backend.chat(request, { signal: controller.signal })))).toMatchObject({ code: 'aborted' });
    expect(called).toBe(false);
  });

  it('types failures and malformed results of the other methods', async () => {
    const backend = guardBackend(
      rogue({
        listModels: () => {
          throw 'a string, not an Error';
        },
        embed: async () => ({ embeddings: [[1]], usage: { promptTokens: 1 } }),
        loadedModels: async () => ({}) as never,
        load: async () => 'yes' as never,
        unload: () => Promise.reject(new RangeError('bad index')),
        health: async () => ({ healthy: true }) as never,
        dispose: async () => {
          throw new Error('leak');
        },
      }),
    );
    expect(await rejection(backend.listModels(call()))).toMatchObject({ code: 'internal', backend: 'rogue', message: 'a string, not an Error' });
    expect(await rejection(backend.embed({ model: 'e', input: ['a', 'b'] }, call()))).toMatchObject({
      code: 'bad_response',
      model: 'e',
      message: expect.stringMatching(/1 vectors for 2 inputs/),
    });
    expect(await rejection(backend.loadedModels(call()))).toMatchObject({ code: 'bad_response' });
    expect(await rejection(backend.load('m', call()))).toMatchObject({ code: 'bad_response', model: 'm' });
    expect(await rejection(backend.unload('m', call()))).toMatchObject({ code: 'internal', model: 'm', message: 'bad index' });
    expect(await rejection(backend.health(call()))).toMatchObject({ code: 'bad_response' });
    expect(await rejection(backend.dispose!())).toMatchObject({ code: 'internal', backend: 'rogue' });
  });

  it('is idempotent and reads capabilities through', () => {
    const inner = rogue({});
    const once = guardBackend(inner);
    expect(guardBackend(once)).toBe(once);
    (inner as { capabilities: BackendPlugin['capabilities'] }).capabilities = { loadedModels: false, load: false, unload: false, embeddings: false };
    expect(once.capabilities.load).toBe(false);
  });
});
