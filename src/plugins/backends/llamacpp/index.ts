/**
 * Backend plugin for llama.cpp. One `location` (server base URL, without /v1) can be any of three
 * shapes, detected on first use and remembered:
 * - single: a plain llama-server with one model (-m); nothing to load or unload.
 * - swap:   llama-swap in front of many servers; GET /running lists what runs, a request starts a model.
 * - router: llama-server without -m; GET /models has a status per model, POST /models/load|unload.
 * Chat, embeddings and health use the same routes in all three, so they never wait for detection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SPECIFICATION_VERSION,
  PluginError,
  type BackendCapabilities,
  type BackendModelInfo,
  type BackendPlugin,
  type CallOptions,
  type ChatRequest,
  type ChatStreamPart,
  type EmbedRequest,
  type EmbedResult,
  type HealthStatus,
  type LoadedModel,
  type PluginContext,
  type PluginDefinition,
  type PluginOptions,
} from '../../../plugin-api/index.js';
import { errorMessageFrom, request, type HttpTarget } from '../http.js';
import { abortError, embedViaOpenAI, getJson, linkedCall, postJson, streamChatCompletion, toOpenAIChatBody } from '../openai-wire.js';
import { parseHttpBackendOptions, type HttpBackendOptions } from '../openai/options.js';
import {
  capabilityProps,
  statusOf,
  toModelInfo,
  type LlamaCppMode,
  type WireCapabilityProps,
  type WireModelEntry,
  type WireProps,
  type WireRunning,
} from './wire.js';
import { untilAborted } from '../../../core/abortable.js';

export type { LlamaCppMode } from './wire.js';

export const LLAMACPP_PROVIDER = 'llama.cpp';

const MODES: readonly LlamaCppMode[] = ['single', 'swap', 'router'];
/** Router-mode loads start a process and return at once; this is how often we look whether it is up. */
const LOAD_POLL_MS = 200;
/**
 * /props only refines a listing, so it gets a short deadline of its own: a server slow to answer it
 * must not make the whole listing miss the registry's deadline.
 */
const PROPS_TIMEOUT_MS = 3_000;
/**
 * How long a model that refused tools ("tools param requires --jinja flag") is listed without them.
 * After that one request with tools may try it again (the server may have been restarted with jinja).
 */
const TOOL_REFUSAL_MS = 10 * 60_000;

export class LlamaCppBackend implements BackendPlugin {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly provider = LLAMACPP_PROVIDER;
  readonly name: string;
  private readonly options: HttpBackendOptions;
  private readonly loadTimeoutMs: number;
  private mode: LlamaCppMode | undefined;
  private detecting: Promise<LlamaCppMode> | undefined;
  /** Last listing, for sizes in loadedModels() and the embedding check in swap-mode load(). */
  private readonly known = new Map<string, BackendModelInfo>();
  /**
   * Swap and router mode: each model's capability props, asked while it was loaded (asking an
   * unloaded one would load it). `fresh` is false once the model was seen unloaded: the next time it
   * is loaded (perhaps with other flags) it is asked again; until then the last answer stands.
   */
  private readonly modelProps = new Map<string, { props: WireCapabilityProps; fresh: boolean }>();
  /** Models whose server refused a request with tools (no jinja), and when. */
  private readonly toolRefusals = new Map<string, number>();

  constructor(
    options: PluginOptions,
    private readonly context: PluginContext,
  ) {
    this.options = parseHttpBackendOptions(options, LLAMACPP_PROVIDER, { firstTokenTimeoutMs: 0, requestTimeoutMs: 15_000 });
    this.name = this.options.name;
    const load = Number(options.loadTimeoutMs);
    // Starting a large model from disk can take minutes.
    this.loadTimeoutMs = Number.isFinite(load) && load > 0 ? load : 600_000;
    // A configured mode skips detection (useful behind proxies that hide /running).
    if (typeof options.mode === 'string' && (MODES as readonly string[]).includes(options.mode)) this.mode = options.mode as LlamaCppMode;
  }

  /** What the server can do; until the first call has detected the shape, only what all shapes share. */
  get capabilities(): BackendCapabilities {
    const manages = this.mode === 'swap' || this.mode === 'router';
    return { loadedModels: true, load: manages, unload: manages, embeddings: true };
  }

  /** The detected shape (undefined before the first listing, loadedModels, load or unload). */
  get detectedMode(): LlamaCppMode | undefined {
    return this.mode;
  }

  // -------------------------------------------------------------------------------------------
  // Detection

  private async detect(signal: AbortSignal): Promise<LlamaCppMode> {
    if (this.mode) return this.mode;
    // Concurrent first calls share one detection, run under the plugin's own signal so one caller
    // going away does not fail the others; a failed detection is forgotten so the next call retries.
    this.detecting ??= this.probe(this.context.signal).finally(() => {
      this.detecting = undefined;
    });
    const mode = await untilAborted(this.detecting, signal, () => abortError(signal, { backend: this.name }));
    this.mode = mode;
    return mode;
  }

  private async probe(signal: AbortSignal): Promise<LlamaCppMode> {
    const target = { backend: this.name };
    try {
      const running = await this.get<WireRunning>('/running', signal, target);
      if (Array.isArray(running?.running)) return 'swap';
    } catch (error) {
      // A route llama-server does not have; anything else (down, overloaded, wrong key) is a real failure.
      if (!isMissingRoute(error)) throw error;
    }
    try {
      const models = await this.get<{ data?: WireModelEntry[] }>('/models', signal, target);
      if (Array.isArray(models?.data) && models.data.some((entry) => statusOf(entry) !== undefined)) return 'router';
    } catch (error) {
      if (!isMissingRoute(error)) throw error;
    }
    return 'single';
  }

  // -------------------------------------------------------------------------------------------
  // Models

  async listModels({ signal }: CallOptions): Promise<BackendModelInfo[]> {
    const mode = await this.detect(signal);
    const target = { backend: this.name };
    let models: BackendModelInfo[];
    if (mode === 'router') {
      const entries = await this.modelEntries('/models', signal, target);
      const loaded = new Set(entries.filter((e) => statusOf(e) === 'loaded').map((e) => e.id));
      // autoload=false: a model unloaded between the listing and this call must not be started by it.
      const props = await this.propsOfLoaded(entries, loaded, (id) => `/props?model=${encodeURIComponent(id)}&autoload=false`, signal);
      models = entries.map((entry) => toModelInfo(entry, props.get(entry.id)));
    } else if (mode === 'swap') {
      // /upstream/{id}/props would start a model that is not running: only running ones are asked.
      const [entries, running] = await Promise.all([
        this.modelEntries('/v1/models', signal, target),
        this.get<WireRunning>('/running', signal, target).catch((error: unknown) => {
          if (PluginError.isInstance(error) && error.code === 'aborted') throw error;
          return undefined;
        }),
      ]);
      const ready = new Set((running?.running ?? []).filter((r) => r?.state === 'ready' && typeof r.model === 'string').map((r) => r.model as string));
      const props = await this.propsOfLoaded(entries, ready, (id) => `/upstream/${encodeURIComponent(id)}/props`, signal);
      models = entries.map((entry) => toModelInfo(entry, props.get(entry.id)));
    } else {
      const entries = await this.modelEntries('/v1/models', signal, target);
      // /props only refines the listing (context, vision, tools); an older server without it still lists.
      const props = await this.optionalProps('/props', signal, target);
      models = entries.map((entry) => toModelInfo(entry, props));
    }
    this.applyToolRefusals(models);
    this.known.clear();
    for (const model of models) this.known.set(model.id, model);
    return models;
  }

  /** GET a /props document, or undefined when the server will not say (missing route, error, slow, not JSON). */
  private async optionalProps(path: string, signal: AbortSignal, target: HttpTarget): Promise<WireProps | undefined> {
    try {
      const timeoutMs = this.options.requestTimeoutMs > 0 ? Math.min(this.options.requestTimeoutMs, PROPS_TIMEOUT_MS) : PROPS_TIMEOUT_MS;
      const props = await getJson<WireProps>(this.context.fetch, `${this.options.baseUrl}${path}`, this.options.headers, signal, target, timeoutMs);
      return props && typeof props === 'object' && !Array.isArray(props) ? props : undefined;
    } catch (error) {
      if (PluginError.isInstance(error) && error.code === 'aborted') throw error;
      return undefined;
    }
  }

  /**
   * Swap and router mode: the capability props of every listed model, asking only models that are
   * loaded now and were not asked since they were loaded. A model that never was loaded while we
   * listed has none (its capabilities come from the listing and its id).
   */
  private async propsOfLoaded(
    entries: readonly { id: string }[],
    loaded: ReadonlySet<string>,
    pathOf: (id: string) => string,
    signal: AbortSignal,
  ): Promise<Map<string, WireCapabilityProps>> {
    const listed = new Set(entries.map((e) => e.id));
    for (const [id, cached] of this.modelProps) {
      if (!listed.has(id)) this.modelProps.delete(id);
      else if (!loaded.has(id)) cached.fresh = false;
    }
    const ask = [...listed].filter((id) => loaded.has(id) && !this.modelProps.get(id)?.fresh);
    await Promise.all(
      ask.map(async (id) => {
        const props = await this.optionalProps(pathOf(id), signal, { backend: this.name, model: id });
        if (props) this.modelProps.set(id, { props: capabilityProps(props), fresh: true });
      }),
    );
    const out = new Map<string, WireCapabilityProps>();
    for (const [id, cached] of this.modelProps) out.set(id, cached.props);
    return out;
  }

  /** A model whose server refused tools lately is listed without them, whatever /props said. */
  private applyToolRefusals(models: BackendModelInfo[]): void {
    const now = Date.now();
    for (const [id, at] of this.toolRefusals) if (now - at > TOOL_REFUSAL_MS) this.toolRefusals.delete(id);
    for (const model of models) if (this.toolRefusals.has(model.id)) model.capabilities.tools = false;
  }

  private async modelEntries(path: string, signal: AbortSignal, target: HttpTarget): Promise<(WireModelEntry & { id: string })[]> {
    const body = await this.get<{ data?: WireModelEntry[]; models?: WireModelEntry[] }>(path, signal, target);
    const entries = Array.isArray(body?.data) ? body.data : Array.isArray(body?.models) ? body.models : undefined;
    if (!entries) throw new PluginError({ code: 'bad_response', message: `${path} has no model list`, ...target });
    return entries
      .map((entry) => ({ ...entry, id: typeof entry?.id === 'string' ? entry.id : typeof entry?.name === 'string' ? entry.name : '' }))
      .filter((entry) => entry.id !== '');
  }

  async loadedModels({ signal }: CallOptions): Promise<LoadedModel[]> {
    const mode = await this.detect(signal);
    const target = { backend: this.name };
    let ids: string[];
    if (mode === 'swap') {
      const body = await this.get<WireRunning>('/running', signal, target);
      ids = (body?.running ?? []).filter((r) => r?.state === 'ready' && typeof r.model === 'string').map((r) => r.model as string);
    } else if (mode === 'router') {
      ids = (await this.modelEntries('/models', signal, target)).filter((e) => statusOf(e) === 'loaded').map((e) => e.id);
    } else {
      // The single model is in memory whenever the server answers.
      ids = (await this.modelEntries('/v1/models', signal, target)).map((e) => e.id);
      if (this.known.size === 0) await this.listModels({ signal }).catch(() => undefined);
    }
    // llama.cpp does not report where weights live (vramBytes left out: unknown); the VRAM monitor
    // measures the real GPU use.
    return ids.map((id) => ({ id, sizeBytes: this.known.get(id)?.sizeBytes ?? 0 }));
  }

  async load(model: string, { signal }: CallOptions): Promise<boolean> {
    const mode = await this.detect(signal);
    const target = { backend: this.name, model };
    if (mode === 'router') {
      await this.post('/models/load', { model }, signal, target, this.options.requestTimeoutMs);
      await this.waitLoaded(model, signal, target);
      return true;
    }
    if (mode === 'swap') {
      // llama-swap starts a model on its first request; the smallest request that needs it is one token.
      const embeddingOnly = this.known.get(model)?.capabilities.chat === false;
      if (embeddingOnly) await this.post('/v1/embeddings', { model, input: '.' }, signal, target, this.loadTimeoutMs);
      else {
        await this.post(
          '/v1/chat/completions',
          { model, messages: [{ role: 'user', content: '.' }], max_tokens: 1, stream: false },
          signal,
          target,
          this.loadTimeoutMs,
        );
      }
      return true;
    }
    return false;
  }

  private async waitLoaded(model: string, signal: AbortSignal, target: HttpTarget): Promise<void> {
    const deadline = Date.now() + this.loadTimeoutMs;
    for (;;) {
      const entry = (await this.modelEntries('/models', signal, target)).find((e) => e.id === model);
      if (!entry) throw new PluginError({ code: 'not_found', message: `model ${model} is not configured on the server`, ...target });
      const status = statusOf(entry);
      if (status === 'loaded') return;
      if (entry.status?.failed === true) {
        const exit = entry.status.exit_code !== undefined ? ` (exit code ${String(entry.status.exit_code)})` : '';
        throw new PluginError({ code: 'bad_response', message: `model ${model} failed to load${exit}`, ...target });
      }
      if (Date.now() >= deadline) {
        throw new PluginError({ code: 'timeout', message: `model ${model} not loaded after ${this.loadTimeoutMs} ms (${status})`, ...target });
      }
      try {
        await sleep(LOAD_POLL_MS, undefined, { signal });
      } catch {
        throw new PluginError({ code: 'aborted', message: 'request aborted', retryable: false, ...target });
      }
    }
  }

  async unload(model: string, { signal }: CallOptions): Promise<boolean> {
    const mode = await this.detect(signal);
    const target = { backend: this.name, model };
    if (mode === 'router') {
      await this.post('/models/unload', { model }, signal, target, this.options.requestTimeoutMs);
      return true;
    }
    if (mode === 'swap') {
      try {
        // Newer llama-swap can stop one model; the same call its UI uses.
        await this.post(`/api/models/unload/${encodeURIComponent(model)}`, undefined, signal, target, this.options.requestTimeoutMs);
      } catch (error) {
        // A 404 naming the model is an unknown model, not an older llama-swap without the route.
        if (!isMissingRoute(error) || /model/i.test((error as PluginError).message)) throw error;
        // Older llama-swap only stops everything at once; that still frees the memory the router asked for.
        await this.get<unknown>('/unload', signal, target, true);
      }
      return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Inference

  chat(req: ChatRequest, { signal }: CallOptions): AsyncIterable<ChatStreamPart> {
    return this.stream(req, signal);
  }

  /**
   * A plain llama-server answers every request with its one model, whatever `model` says. Once the
   * listing told us which model that is, a request for another one fails here instead of being
   * answered by the wrong model (which would corrupt the router's per-model statistics). Before the
   * first listing nothing is known, and chat does not wait for detection.
   */
  private checkServed(model: string, target: HttpTarget): void {
    if (this.mode === 'single' && this.known.size > 0 && !this.known.has(model)) {
      const served = [...this.known.keys()].join(', ');
      throw new PluginError({ code: 'not_found', message: `model ${model} is not served here (this server runs ${served})`, ...target });
    }
  }

  private async *stream(req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamPart> {
    const target = { backend: this.name, model: req.model };
    this.checkServed(req.model, target);
    let body: Record<string, unknown>;
    try {
      body = toOpenAIChatBody(req, { maxTokensField: 'max_tokens', providerNamespaces: [LLAMACPP_PROVIDER, 'llamacpp'] });
    } catch (error) {
      throw PluginError.from(error, target);
    }
    try {
      yield* streamChatCompletion({
        fetch: this.context.fetch,
        url: `${this.options.baseUrl}/v1/chat/completions`,
        headers: this.options.headers,
        body,
        target,
        signal,
        firstTokenTimeoutMs: this.options.firstTokenTimeoutMs,
      });
    } catch (error) {
      throw this.toolRefusal(error, req, target) ?? error;
    }
  }

  /**
   * llama-server without jinja templates (`--no-jinja`, or an old build started without `--jinja`)
   * refuses any request with tools ("tools param requires --jinja flag", a 500) although /props may
   * still say the template supports them. The model is then listed without tools for a while, and
   * the refusal becomes a retryable bad_request, so the router tries a model that can call tools
   * instead of failing the request (or counting it against this backend's circuit).
   */
  private toolRefusal(error: unknown, req: ChatRequest, target: HttpTarget): PluginError | undefined {
    if (!req.tools?.length || !PluginError.isInstance(error) || !/requires --jinja/i.test(error.message)) return undefined;
    this.toolRefusals.set(req.model, Date.now());
    return new PluginError({
      code: 'bad_request',
      message: `${req.model} does not take tools here: the server runs without jinja templates (${error.message})`,
      retryable: true,
      status: error.status,
      ...target,
      cause: error,
    });
  }

  async embed(req: EmbedRequest, { signal }: CallOptions): Promise<EmbedResult> {
    this.checkServed(req.model, { backend: this.name, model: req.model });
    return embedViaOpenAI(
      this.context.fetch,
      `${this.options.baseUrl}/v1/embeddings`,
      this.options.headers,
      req,
      signal,
      { backend: this.name, model: req.model },
      this.options.firstTokenTimeoutMs,
    );
  }

  async health({ signal }: CallOptions): Promise<HealthStatus> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    const target = { backend: this.name };
    const call = linkedCall(signal, this.options.requestTimeoutMs);
    try {
      // /health is public on llama-server and plain "OK" on llama-swap: only the status matters.
      const response = await request(this.context.fetch, `${this.options.baseUrl}/health`, { headers: this.options.headers, signal: call.signal }, target);
      await response.body?.cancel().catch(() => {});
      return { ok: true, latencyMs: latency() };
    } catch (error) {
      const failure = call.explain(error, target);
      if (failure.code === 'aborted') throw failure;
      // 503 "Loading model" is the normal state right after start: not ok yet, but not broken.
      const message = failure.status === 503 ? (failure.message || 'loading model') : `${failure.code}: ${failure.message}`;
      return { ok: false, latencyMs: latency(), message };
    } finally {
      call.dispose();
    }
  }

  // -------------------------------------------------------------------------------------------
  // HTTP helpers

  private async get<T>(path: string, signal: AbortSignal, target: HttpTarget, plainText = false): Promise<T> {
    if (!plainText) {
      return getJson<T>(this.context.fetch, `${this.options.baseUrl}${path}`, this.options.headers, signal, target, this.options.requestTimeoutMs);
    }
    const call = linkedCall(signal, this.options.requestTimeoutMs);
    try {
      const response = await request(this.context.fetch, `${this.options.baseUrl}${path}`, { headers: this.options.headers, signal: call.signal }, target);
      return (await response.text()) as T;
    } catch (error) {
      throw call.explain(error, target);
    } finally {
      call.dispose();
    }
  }

  private async post(path: string, json: unknown, signal: AbortSignal, target: HttpTarget, timeoutMs: number): Promise<void> {
    const body = await postJson<{ success?: unknown; error?: unknown }>(
      this.context.fetch,
      `${this.options.baseUrl}${path}`,
      this.options.headers,
      json ?? {},
      signal,
      target,
      timeoutMs,
    );
    // Router mode answers 200 {"success":false,...} for some refusals.
    if (body && body.success === false) {
      const message = errorMessageFrom(JSON.stringify(body)) ?? `${path} refused`;
      throw new PluginError({ code: /not found|unknown/i.test(message) ? 'not_found' : 'bad_request', message, ...target });
    }
  }
}

/** 404/405/501: the server does not have this route (a capability probe, not a failure). */
function isMissingRoute(error: unknown): boolean {
  return PluginError.isInstance(error) && (error.status === 404 || error.status === 405 || error.status === 501);
}

export const llamaCppBackendDefinition: PluginDefinition<'backend'> = {
  manifest: {
    name: 'llama.cpp',
    version: '1.0.0',
    kind: 'backend',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'llama.cpp llama-server (single model or router mode) and llama-swap; location is the server URL without /v1.',
  },
  create: (options, context) => new LlamaCppBackend(options, context),
};

export default llamaCppBackendDefinition;
