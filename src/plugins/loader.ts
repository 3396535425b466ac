/**
 * Finds the plugins the router runs with: the built-ins plus every ROUTER_PLUGINS entry (npm package
 * name or file path), checks each definition against contract v1, and builds backend instances.
 *
 * Everything wrong with a plugin at start-up is a PluginLoadError naming the plugin, so the router
 * refuses to start with a clear message instead of failing on the first request. At request time,
 * `guardBackend` keeps a misbehaving plugin from failing more than the request it serves.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BackendSpec } from '../config/index.js';
import {
  PluginError,
  PluginLoadError,
  SPECIFICATION_VERSION,
  type BackendPlugin,
  type CallOptions,
  type ChatRequest,
  type ChatStreamPart,
  type FinishReason,
  type PluginContext,
  type PluginDefinition,
  type PluginKind,
  type PluginLogger,
  type PluginManifest,
} from '../plugin-api/index.js';
import { BUILTIN_PLUGINS, type BuiltinPlugins } from './builtins.js';

export const PLUGIN_KINDS: readonly PluginKind[] = ['backend', 'classifier', 'judge'];

export type PluginSource = 'builtin' | 'package' | 'path';

export interface LoadedPluginInfo {
  name: string;
  version: string;
  kind: PluginKind;
  specificationVersion: string;
  source: PluginSource;
  /** "builtin", the package name, or the absolute file path it was imported from. */
  location: string;
  description?: string;
}

export interface PluginRegistry {
  /** The backend definition for a ROUTER_BACKENDS kind (a built-in kind or a third-party manifest name). */
  backendDefinition(kind: string): PluginDefinition<'backend'> | undefined;
  /** Every backend kind known, built-ins first. */
  backendKinds(): string[];
  /** Whether a backend kind is one the router ships (its streams are trusted, see GuardOptions). */
  isBuiltinBackend(kind: string): boolean;
  /** Third-party classifiers in ROUTER_PLUGINS order, then the built-in one, which always decides last. */
  classifiers(): PluginDefinition<'classifier'>[];
  /** Judge definitions, built-ins first. */
  judges(): PluginDefinition<'judge'>[];
  /** Every loaded plugin, for logs and the admin API. */
  list(): LoadedPluginInfo[];
}

export interface LoadPluginsOptions {
  /** ROUTER_PLUGINS: npm package names or file paths (absolute, or starting with ./ ../ or file:). */
  specs: readonly string[];
  logger: PluginLogger;
  /** Base for relative paths and fallback base for package resolution; default process.cwd(). */
  cwd?: string;
  /** The built-in table; replaceable when the router is embedded. Default BUILTIN_PLUGINS. */
  builtins?: BuiltinPlugins;
}

interface Entry {
  definition: PluginDefinition;
  info: LoadedPluginInfo;
}

/** Loads and validates every plugin. Rejects with a PluginLoadError naming the first bad plugin. */
export async function loadPlugins(options: LoadPluginsOptions): Promise<PluginRegistry> {
  const cwd = options.cwd ?? process.cwd();
  const byKind = new Map<PluginKind, Map<string, Entry>>(PLUGIN_KINDS.map((kind) => [kind, new Map()]));

  const add = (entry: Entry): void => {
    const table = byKind.get(entry.info.kind)!;
    const existing = table.get(entry.info.name);
    if (existing) {
      const where = existing.info.source === 'builtin' ? 'the router (built-in)' : existing.info.location;
      throw new PluginLoadError(
        entry.info.name,
        `a ${entry.info.kind} plugin with this name is already provided by ${where}; loaded again from ${entry.info.location}`,
      );
    }
    table.set(entry.info.name, entry);
  };

  const builtins = options.builtins ?? BUILTIN_PLUGINS;
  for (const kind of PLUGIN_KINDS) {
    for (const [name, value] of Object.entries(builtins[kind] ?? {})) {
      // Built-ins are checked like anyone else's, so a broken one fails at start-up, not on first use.
      const definition = validateDefinition(value, name, 'builtin');
      if (definition.manifest.kind !== kind) {
        throw new PluginLoadError(name, `built-in registered as ${kind} but its manifest says ${definition.manifest.kind}`);
      }
      add({ definition, info: infoOf(definition.manifest, name, 'builtin', 'builtin') });
    }
  }

  for (const rawSpec of options.specs) {
    const spec = rawSpec.trim();
    if (!spec) continue;
    const imported = await importPlugin(spec, cwd);
    for (const value of exportedDefinitions(imported.module, spec)) {
      const definition = validateDefinition(value, spec, imported.location);
      const info = infoOf(definition.manifest, definition.manifest.name, imported.source, imported.location);
      add({ definition, info });
      options.logger.info(
        { plugin: info.name, version: info.version, kind: info.kind, source: info.source, location: info.location },
        'plugin loaded',
      );
    }
  }

  const entries = (kind: PluginKind): Entry[] => [...byKind.get(kind)!.values()];
  const backendTable = byKind.get('backend')!;
  return {
    backendDefinition(kind) {
      const entry = backendTable.get(kind) ?? backendTable.get(kind.toLowerCase());
      return entry?.definition as PluginDefinition<'backend'> | undefined;
    },
    backendKinds: () => entries('backend').map((e) => e.info.name),
    isBuiltinBackend(kind) {
      const entry = backendTable.get(kind) ?? backendTable.get(kind.toLowerCase());
      return entry?.info.source === 'builtin';
    },
    classifiers() {
      const all = entries('classifier');
      // The built-in classifier always answers, so it goes last: third-party ones get the first say.
      const ordered = [...all.filter((e) => e.info.source !== 'builtin'), ...all.filter((e) => e.info.source === 'builtin')];
      return ordered.map((e) => e.definition as PluginDefinition<'classifier'>);
    },
    judges: () => entries('judge').map((e) => e.definition as PluginDefinition<'judge'>),
    list: () => PLUGIN_KINDS.flatMap((kind) => entries(kind).map((e) => ({ ...e.info }))),
  };
}

// ---------------------------------------------------------------------------------------------
// Importing

interface ImportedModule {
  module: Record<string, unknown>;
  source: 'package' | 'path';
  location: string;
}

/** A ROUTER_PLUGINS entry is a path when it is absolute, relative (./ ../) or a file: URL. */
export function isPathSpec(spec: string): boolean {
  return isAbsolute(spec) || /^\.\.?([\\/]|$)/.test(spec) || spec.startsWith('file:');
}

async function importPlugin(spec: string, cwd: string): Promise<ImportedModule> {
  if (isPathSpec(spec)) {
    const path = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(cwd, spec);
    const file = entryFile(path, spec);
    return { module: await importFile(file, spec), source: 'path', location: file };
  }
  // Package names resolve from the router's own installation first (`npm install <plugin>` next to
  // the router), then from cwd, for a plugin installed in the directory the router was started in.
  try {
    return { module: (await import(spec)) as Record<string, unknown>, source: 'package', location: spec };
  } catch (error) {
    if (!isNotFound(error, spec)) throw new PluginLoadError(spec, `cannot import package: ${messageOf(error)}`, error);
  }
  let file: string;
  try {
    file = createRequire(join(cwd, 'package.json')).resolve(spec);
  } catch (error) {
    throw new PluginLoadError(spec, `cannot find package "${spec}"; install it next to the router (npm install ${spec}) or give a file path`, error);
  }
  return { module: await importFile(file, spec), source: 'package', location: file };
}

/** A directory is a package folder: its package.json "exports"/"main" (ESM does not import directories). */
function entryFile(path: string, spec: string): string {
  if (!existsSync(path)) throw new PluginLoadError(spec, `file not found: ${path}`);
  if (!statSync(path).isDirectory()) return path;
  const manifestPath = join(path, 'package.json');
  let entry = 'index.js';
  if (existsSync(manifestPath)) {
    let pkg: { main?: unknown; exports?: unknown };
    try {
      pkg = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof pkg;
    } catch (error) {
      throw new PluginLoadError(spec, `cannot read ${manifestPath}: ${messageOf(error)}`, error);
    }
    entry = packageEntry(pkg) ?? entry;
  }
  const file = resolve(path, entry);
  if (!existsSync(file)) throw new PluginLoadError(spec, `package entry not found: ${file}`);
  return file;
}

function packageEntry(pkg: { main?: unknown; exports?: unknown }): string | undefined {
  const pick = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object') {
      const conditions = value as Record<string, unknown>;
      return pick(conditions['.']) ?? pick(conditions.import) ?? pick(conditions.node) ?? pick(conditions.default);
    }
    return undefined;
  };
  return pick(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : undefined);
}

async function importFile(file: string, spec: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new PluginLoadError(spec, `cannot import ${file}: ${messageOf(error)}`, error);
  }
}

function isNotFound(error: unknown, spec: string): boolean {
  const code = (error as { code?: unknown })?.code;
  const message = messageOf(error);
  // Only "this package is missing" falls through; a missing dependency *inside* the plugin is its bug.
  const aboutSpec = message.includes(`'${spec}'`) || message.includes(`"${spec}"`);
  return aboutSpec && (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /cannot find (package|module)|failed to (load|resolve)/i.test(message));
}

/** The definitions a module offers: `default` or `plugin`, each one definition or an array of them. */
function exportedDefinitions(module: Record<string, unknown>, spec: string): unknown[] {
  let exported = module.default ?? module.plugin;
  // A CommonJS plugin's `default` is its module.exports, which may itself hold { plugin } or { default }.
  if (exported && typeof exported === 'object' && !Array.isArray(exported) && !('manifest' in exported)) {
    const inner = (exported as Record<string, unknown>).default ?? (exported as Record<string, unknown>).plugin;
    if (inner !== undefined) exported = inner;
  }
  if (exported === undefined || exported === null) {
    throw new PluginLoadError(spec, 'exports no plugin definition: expected `export default { manifest, create }` or `export const plugin = { manifest, create }`');
  }
  const list = Array.isArray(exported) ? exported : [exported];
  if (list.length === 0) throw new PluginLoadError(spec, 'exports an empty array of plugin definitions');
  return list;
}

// ---------------------------------------------------------------------------------------------
// Validation

function validateDefinition(value: unknown, spec: string, location: string): PluginDefinition {
  if (!value || typeof value !== 'object') {
    throw new PluginLoadError(spec, `export is not a plugin definition (expected an object with manifest and create, got ${describe(value)})`);
  }
  const { manifest, create } = value as { manifest?: unknown; create?: unknown };
  if (!manifest || typeof manifest !== 'object') throw new PluginLoadError(spec, 'definition has no manifest object');
  const m = manifest as Record<string, unknown>;
  if (typeof m.name !== 'string' || !m.name.trim()) throw new PluginLoadError(spec, 'manifest.name must be a non-empty string');
  // From here on the plugin has a name; errors use it, with where it came from for the operator.
  const name = m.name;
  const from = location === 'builtin' ? '' : ` (loaded from ${location})`;
  if (typeof m.version !== 'string' || !m.version.trim()) throw new PluginLoadError(name, `manifest.version must be a non-empty string${from}`);
  if (typeof m.kind !== 'string' || !PLUGIN_KINDS.includes(m.kind as PluginKind)) {
    throw new PluginLoadError(name, `manifest.kind ${describe(m.kind)} is not one of ${PLUGIN_KINDS.join(', ')}${from}`);
  }
  if (m.specificationVersion !== SPECIFICATION_VERSION) {
    const target = m.specificationVersion === undefined ? 'declares no manifest.specificationVersion' : `targets contract ${String(m.specificationVersion)}`;
    throw new PluginLoadError(name, `${target}; this router supports ${SPECIFICATION_VERSION}${from}`);
  }
  if (typeof create !== 'function') throw new PluginLoadError(name, `create must be a function (got ${describe(create)})${from}`);
  return value as PluginDefinition;
}

function infoOf(manifest: PluginManifest, name: string, source: PluginSource, location: string): LoadedPluginInfo {
  return {
    name,
    version: manifest.version,
    kind: manifest.kind,
    specificationVersion: manifest.specificationVersion,
    source,
    location,
    ...(manifest.description ? { description: manifest.description } : {}),
  };
}

const BACKEND_METHODS = ['listModels', 'chat', 'embed', 'loadedModels', 'load', 'unload', 'health'] as const;
const BACKEND_CAPABILITIES = ['loadedModels', 'load', 'unload', 'embeddings'] as const;

/** What is wrong with an object a backend factory returned (empty when nothing). */
function backendProblems(instance: unknown, instanceName: string): string[] {
  if (!instance || typeof instance !== 'object') return [`create() returned ${describe(instance)}, not a backend object`];
  const b = instance as Record<string, unknown>;
  const problems: string[] = [];
  if (b.specificationVersion !== SPECIFICATION_VERSION) {
    problems.push(`instance targets contract ${String(b.specificationVersion)}; this router supports ${SPECIFICATION_VERSION}`);
  }
  if (b.name !== instanceName) problems.push(`instance name is ${describe(b.name)}, expected "${instanceName}" (create() receives it as options.name)`);
  if (typeof b.provider !== 'string' || !b.provider) problems.push('provider must be a non-empty string');
  const capabilities = b.capabilities as Record<string, unknown> | undefined;
  if (!capabilities || typeof capabilities !== 'object') problems.push('capabilities must be an object');
  else for (const key of BACKEND_CAPABILITIES) if (typeof capabilities[key] !== 'boolean') problems.push(`capabilities.${key} must be a boolean`);
  for (const method of BACKEND_METHODS) if (typeof b[method] !== 'function') problems.push(`${method} must be a function`);
  if (b.dispose !== undefined && typeof b.dispose !== 'function') problems.push('dispose must be a function when present');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Backend instances

export interface CreateBackendsOptions {
  /** Extra instance options per backend (keep-alive, timeouts, threads, ...); name/location/apiKey win over them. */
  optionsFor?: (spec: BackendSpec) => Record<string, unknown>;
  /** Wrap each instance in guardBackend (default true). */
  guard?: boolean;
}

/**
 * Creates one backend per spec, in order. Any failure disposes the instances already created and
 * rejects with a PluginLoadError naming the plugin and the instance.
 */
export async function createBackends(
  registry: PluginRegistry,
  specs: readonly BackendSpec[],
  context: PluginContext,
  options: CreateBackendsOptions = {},
): Promise<BackendPlugin[]> {
  const created: BackendPlugin[] = [];
  try {
    for (const spec of specs) created.push(await createBackend(registry, spec, context, options));
  } catch (error) {
    await Promise.all(
      created.map((backend) =>
        Promise.resolve()
          .then(() => backend.dispose?.())
          .catch((disposeError: unknown) => context.logger.warn({ backend: backend.name, err: disposeError }, 'dispose after failed start-up failed')),
      ),
    );
    throw error;
  }
  return created;
}

async function createBackend(
  registry: PluginRegistry,
  spec: BackendSpec,
  context: PluginContext,
  options: CreateBackendsOptions,
): Promise<BackendPlugin> {
  const definition = registry.backendDefinition(spec.kind);
  if (!definition) {
    throw new PluginLoadError(
      spec.kind,
      `unknown backend kind "${spec.kind}" for backend "${spec.name}" (known kinds: ${registry.backendKinds().join(', ')}); ` +
        'a third-party kind needs its package or file in ROUTER_PLUGINS',
    );
  }
  const plugin = definition.manifest.name;
  const instanceOptions = {
    ...options.optionsFor?.(spec),
    ...spec.options,
    name: spec.name,
    location: spec.location,
    ...(spec.apiKey !== undefined ? { apiKey: spec.apiKey } : {}),
  };
  const instanceContext: PluginContext = { ...context, logger: withFields(context.logger, { backend: spec.name, plugin }) };
  let instance: unknown;
  try {
    instance = await definition.create(instanceOptions, instanceContext);
  } catch (error) {
    throw new PluginLoadError(plugin, `create() failed for backend "${spec.name}": ${messageOf(error)}`, error);
  }
  const problems = backendProblems(instance, spec.name);
  if (problems.length > 0) {
    await Promise.resolve()
      .then(() => (instance as Partial<BackendPlugin> | null)?.dispose?.())
      .catch(() => {});
    throw new PluginLoadError(plugin, `backend "${spec.name}" does not honour the contract: ${problems.join('; ')}`);
  }
  context.logger.info({ backend: spec.name, plugin, location: spec.location }, 'backend created');
  const backend = instance as BackendPlugin;
  if (options.guard === false) return backend;
  return guardBackend(backend, { trustStream: registry.isBuiltinBackend(spec.kind) });
}

/** A logger that adds fields to every line: pino's child() when there is one, a thin wrapper otherwise. */
function withFields(logger: PluginLogger, fields: Record<string, unknown>): PluginLogger {
  const child = (logger as { child?: (bindings: object) => PluginLogger }).child;
  if (typeof child === 'function') return child.call(logger, fields);
  const merge = (obj: object | string): object => (typeof obj === 'string' ? { ...fields, msg: obj } : { ...fields, ...obj });
  return {
    debug: (obj, msg) => logger.debug(merge(obj), msg),
    info: (obj, msg) => logger.info(merge(obj), msg),
    warn: (obj, msg) => logger.warn(merge(obj), msg),
    error: (obj, msg) => logger.error(merge(obj), msg),
  };
}

// ---------------------------------------------------------------------------------------------
// Request-time guard

export interface GuardOptions {
  /**
   * Pass chat streams through unchecked. Only for the built-in backends: the contract suite
   * (test/backend-contract.test.ts) runs each of them unguarded, so their streams keep the rules
   * themselves, and skipping the per-part checks saves a promise chain per token (measured A/B in
   * docs/performance.md). Every other call stays guarded.
   */
  trustStream?: boolean;
}

const GUARDED = Symbol('smarterrouter.guarded-backend');
const FINISH_REASONS: ReadonlySet<FinishReason> = new Set(['stop', 'length', 'tool_calls', 'content_filter', 'error', 'other']);

/**
 * Wraps a backend so that anything it does wrong at request time becomes a PluginError naming it:
 * a non-PluginError exception (-> internal), a synchronous throw from chat(), a stream that throws
 * mid-way or ends without a finish part (-> bad_response), a malformed part or result
 * (-> bad_response), and a plugin that ignores the AbortSignal (the guard stops waiting for it).
 * A stream that fails before its first part throws, after it yields an error part, as the contract says.
 */
export function guardBackend(backend: BackendPlugin, options: GuardOptions = {}): BackendPlugin {
  if ((backend as unknown as Record<symbol, unknown>)[GUARDED] === true) return backend;
  const name = backend.name;
  const fail = (code: 'bad_response' | 'internal', message: string, model?: string) =>
    new PluginError({ code, message: `${backend.provider} plugin ${message}`, backend: name, model });
  const wrap = (error: unknown, model?: string) => PluginError.from(error, { backend: name, model });

  async function call<T>(what: string, model: string | undefined, signal: AbortSignal | undefined, run: () => Promise<T>, check: (value: unknown) => string | undefined): Promise<T> {
    let value: T;
    try {
      value = await raceAbort(run, signal, name, model);
    } catch (error) {
      throw wrap(error, model);
    }
    const problem = check(value);
    if (problem) throw fail('bad_response', `${what} returned ${problem}`, model);
    return value;
  }

  async function* chat(request: ChatRequest, options: CallOptions): AsyncGenerator<ChatStreamPart> {
    const model = request?.model;
    let iterator: AsyncIterator<ChatStreamPart>;
    try {
      const iterable = backend.chat(request, options) as unknown;
      const open = (iterable as AsyncIterable<ChatStreamPart> | null | undefined)?.[Symbol.asyncIterator];
      if (typeof open !== 'function') throw fail('bad_response', `chat() returned ${describe(iterable)}, not an async iterable`, model);
      iterator = open.call(iterable);
    } catch (error) {
      throw wrap(error, model);
    }

    let yielded = 0;
    let settled = false; // The plugin's iterator finished on its own: no need to stop it.
    // One abort listener for the whole stream (not one per part): it fails the step in flight.
    const signal = options?.signal;
    let failStep: ((error: unknown) => void) | undefined;
    const onAbort = () => failStep?.(abortErrorOf(signal!, name, model));
    signal?.addEventListener('abort', onAbort, { once: true });
    const step = (): Promise<IteratorResult<ChatStreamPart>> => {
      if (!signal) return Promise.resolve().then(() => iterator.next());
      if (signal.aborted) return Promise.reject(abortErrorOf(signal, name, model));
      return new Promise<IteratorResult<ChatStreamPart>>((resolveStep, rejectStep) => {
        failStep = rejectStep;
        let next: Promise<IteratorResult<ChatStreamPart>>;
        try {
          next = Promise.resolve(iterator.next());
        } catch (error) {
          next = Promise.reject(error);
        }
        next.then(resolveStep, rejectStep);
      });
    };
    // Before the first part a failure throws (the router may still try another model); after it, the
    // failure travels as the stream's last part.
    const failure = (error: PluginError): ChatStreamPart => {
      if (yielded === 0) throw error;
      return { type: 'error', error };
    };
    try {
      for (;;) {
        let result: IteratorResult<ChatStreamPart>;
        try {
          result = await step();
          failStep = undefined;
        } catch (error) {
          failStep = undefined;
          settled = !options?.signal?.aborted;
          yield failure(wrap(error, model));
          return;
        }
        if (result.done) {
          settled = true;
          break;
        }
        const part = normalisePart(result.value);
        if (typeof part === 'string') {
          yield failure(fail('bad_response', `chat stream yielded ${part}`, model));
          return;
        }
        if (part.type === 'error') {
          yield { type: 'error', error: wrap(part.error, model) };
          return;
        }
        yield part;
        yielded++;
        // Anything a plugin yields after its finish part is dropped (finally stops its iterator).
        if (part.type === 'finish') return;
      }
      yield failure(fail('bad_response', 'chat stream ended without a finish part', model));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // The consumer stopped early, a terminal part arrived or the request was aborted: stop the
      // plugin's generator so it releases sockets and slots. Not awaited, because a plugin stuck
      // in an await would hold this request up, which is what the guard exists to prevent.
      if (!settled) {
        try {
          Promise.resolve(iterator.return?.()).catch(() => {});
        } catch {
          // A throwing return() is the plugin's problem; the request is already over.
        }
      }
    }
  }

  // A trusted stream is handed to the router as the plugin made it: only a synchronous throw is wrapped.
  const trustedChat = (request: ChatRequest, callOptions: CallOptions): AsyncIterable<ChatStreamPart> => {
    try {
      return backend.chat(request, callOptions);
    } catch (error) {
      throw wrap(error, request?.model);
    }
  };

  const guarded: BackendPlugin & { [GUARDED]: true } = {
    [GUARDED]: true,
    specificationVersion: backend.specificationVersion,
    name,
    provider: backend.provider,
    // Read through, so a backend that learns its capabilities later (e.g. on first contact) is seen as it is.
    get capabilities() {
      return backend.capabilities;
    },
    listModels: (options) =>
      call('listModels()', undefined, options?.signal, () => backend.listModels(options), (value) => {
        if (!Array.isArray(value)) return describe(value);
        const bad = value.findIndex((m) => !m || typeof m.id !== 'string' || !m.id || !m.capabilities || typeof m.capabilities !== 'object');
        return bad >= 0 ? `a malformed model at index ${bad}` : undefined;
      }),
    chat: options.trustStream ? trustedChat : chat,
    embed: (request, options) =>
      call('embed()', request?.model, options?.signal, () => backend.embed(request, options), (value) => {
        const embeddings = (value as { embeddings?: unknown } | undefined)?.embeddings;
        if (!Array.isArray(embeddings)) return describe(value);
        if (embeddings.length !== request.input.length) return `${embeddings.length} vectors for ${request.input.length} inputs`;
        return embeddings.every((v) => Array.isArray(v)) ? undefined : 'a vector that is not an array';
      }),
    loadedModels: (options) =>
      call('loadedModels()', undefined, options?.signal, () => backend.loadedModels(options), (value) => (Array.isArray(value) ? undefined : describe(value))),
    load: (model, options) =>
      call('load()', model, options?.signal, () => backend.load(model, options), (value) => (typeof value === 'boolean' ? undefined : describe(value))),
    unload: (model, options) =>
      call('unload()', model, options?.signal, () => backend.unload(model, options), (value) => (typeof value === 'boolean' ? undefined : describe(value))),
    health: (options) =>
      call('health()', undefined, options?.signal, () => backend.health(options), (value) => {
        const h = value as { ok?: unknown; latencyMs?: unknown } | undefined;
        return h && typeof h.ok === 'boolean' && typeof h.latencyMs === 'number' ? undefined : describe(value);
      }),
    async dispose() {
      try {
        await backend.dispose?.();
      } catch (error) {
        throw wrap(error);
      }
    },
  };
  return guarded;
}

/**
 * Checks one stream part. Returns the part (finish parts with an unknown reason or broken usage are
 * repaired: the answer was delivered, losing it over accounting would be worse) or what is wrong.
 */
function normalisePart(value: unknown): ChatStreamPart | string {
  if (!value || typeof value !== 'object') return describe(value);
  const part = value as ChatStreamPart;
  switch (part.type) {
    case 'text-delta':
    case 'reasoning-delta':
      return typeof part.delta === 'string' ? part : `a ${part.type} part without a string delta`;
    case 'tool-call-delta':
      return Number.isInteger(part.index) && typeof part.argumentsDelta === 'string' ? part : 'a malformed tool-call-delta part';
    case 'finish': {
      const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0);
      return {
        type: 'finish',
        finishReason: FINISH_REASONS.has(part.finishReason) ? part.finishReason : 'other',
        usage: { promptTokens: count(part.usage?.promptTokens), completionTokens: count(part.usage?.completionTokens) },
      };
    }
    case 'error':
      return part;
    default:
      return `a part of unknown type ${describe((part as { type?: unknown }).type)}`;
  }
}

/** The PluginError for an aborted signal: timeout when the reason is a TimeoutError, else aborted. */
function abortErrorOf(signal: AbortSignal, backend: string, model?: string): PluginError {
  const reason: unknown = signal.reason;
  const timedOut = (reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
  return new PluginError({
    code: timedOut ? 'timeout' : 'aborted',
    message: timedOut ? 'request deadline passed' : 'request aborted',
    retryable: timedOut,
    backend,
    model,
    cause: reason,
  });
}

/**
 * Runs `run` (a synchronous throw becomes a rejection) and settles with it, or rejects as soon as
 * `signal` aborts (aborted, or timeout when the reason is a TimeoutError), so a plugin that ignores
 * the signal cannot hold a finished request. An already-aborted signal does not call the plugin at all.
 */
function raceAbort<T>(run: () => Promise<T>, signal: AbortSignal | undefined, backend: string, model?: string): Promise<T> {
  if (!signal) return Promise.resolve().then(run);
  const abortError = () => abortErrorOf(signal, backend, model);
  if (signal.aborted) return Promise.reject(abortError());
  const promise = Promise.resolve().then(run);
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => {
      // The plugin's promise may still reject later; nobody listens any more, so silence it.
      promise.catch(() => {});
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return typeof value === 'function' ? 'a function' : `${typeof value} ${String(value)}`.trim();
}
