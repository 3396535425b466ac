/**
 * The Ollama backend over its native API (/api/*): model discovery with capabilities, streamed
 * chat, embeddings, and the loaded-model controls (/api/ps, keep_alive) the VRAM manager needs.
 */
import {
  PluginError,
  SPECIFICATION_VERSION,
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
} from '../../../plugin-api/index.js';
import { readJson, readLines, request, type HttpTarget, type RequestOptions } from '../http.js';
import { refineError } from './errors.js';
import { mapLimit, toModelInfo } from './models.js';
import type { OllamaBackendOptions } from './options.js';
import { toOllamaChatRequest } from './request.js';
import { ollamaChatParts } from './stream.js';
import type { KeepAlive, OllamaEmbedResponse, OllamaPsResponse, OllamaShowResponse, OllamaTagModel, OllamaTagsResponse } from './wire.js';

/** What is kept of an /api/show answer between polls: only the fields toModelInfo reads. */
interface CachedShow {
  digest: string;
  show: OllamaShowResponse;
}

export class OllamaBackend implements BackendPlugin {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly provider = 'ollama';
  readonly name: string;
  readonly capabilities: BackendCapabilities = { loadedModels: true, load: true, unload: true, embeddings: true };

  /** /api/show answers by model name, valid while the digest is unchanged. */
  private readonly showCache = new Map<string, CachedShow>();
  /** Embedding-only models from the last listing: /api/generate refuses them, /api/embed loads them. */
  private readonly embeddingOnly = new Set<string>();

  constructor(
    private readonly options: OllamaBackendOptions,
    private readonly context: PluginContext,
  ) {
    this.name = options.name;
  }

  get keepAlive(): KeepAlive {
    return this.options.keepAlive;
  }

  // -------------------------------------------------------------------------------------------
  // Discovery

  async listModels({ signal }: CallOptions): Promise<BackendModelInfo[]> {
    const tags = await this.getJson<OllamaTagsResponse>('/api/tags', signal);
    if (!Array.isArray(tags?.models)) {
      throw new PluginError({ code: 'bad_response', message: '/api/tags answer has no "models" array', backend: this.name });
    }
    const entries = tags.models.filter((m): m is OllamaTagModel => typeof m === 'object' && m !== null && typeof (m.name ?? m.model) === 'string');
    const infos = await mapLimit(entries, this.options.showConcurrency, (tag) => this.describe(tag, signal));
    // Forget models that are gone, so the cache cannot grow with every model ever pulled.
    const present = new Set(entries.map((e) => (e.name ?? e.model) as string));
    for (const key of this.showCache.keys()) if (!present.has(key)) this.showCache.delete(key);
    const models = infos.filter((info): info is BackendModelInfo => info !== undefined);
    this.embeddingOnly.clear();
    for (const m of models) if (m.capabilities.embeddings && !m.capabilities.chat) this.embeddingOnly.add(m.id);
    return models;
  }

  /** One model's record; undefined when it vanished between /api/tags and /api/show. */
  private async describe(tag: OllamaTagModel, signal: AbortSignal): Promise<BackendModelInfo | undefined> {
    const id = (tag.name ?? tag.model) as string;
    const cached = this.showCache.get(id);
    if (cached && tag.digest && cached.digest === tag.digest) return toModelInfo(tag, cached.show);
    let show: OllamaShowResponse | undefined;
    try {
      // `name` as well as `model`: Ollama before 0.1.4x only read `name`.
      show = trimShow(await this.postJson<OllamaShowResponse>('/api/show', { model: id, name: id }, signal, id));
    } catch (error) {
      const failure = PluginError.from(error);
      if (failure.code === 'aborted' || failure.code === 'timeout' || signal.aborted) throw failure;
      if (failure.code === 'not_found') return undefined;
      // Degrade to what /api/tags says rather than hide a model the router could use; not cached, so
      // the next poll asks again.
      this.context.logger.warn({ backend: this.name, model: id, err: failure.message }, 'ollama /api/show failed; using /api/tags details only');
      return toModelInfo(tag, undefined);
    }
    if (tag.digest) this.showCache.set(id, { digest: tag.digest, show });
    return toModelInfo(tag, show);
  }

  // -------------------------------------------------------------------------------------------
  // Generation

  async *chat(chatRequest: ChatRequest, { signal }: CallOptions): AsyncGenerator<ChatStreamPart> {
    const target: HttpTarget = { backend: this.name, model: chatRequest.model };
    const { body, warnings } = toOllamaChatRequest(chatRequest, this.options.keepAlive, target);
    for (const warning of warnings) this.context.logger.debug({ backend: this.name, model: chatRequest.model }, warning);
    let response: Response;
    try {
      // No header timeout here: loading a big model can take minutes, and the router's first-token
      // deadline arrives through `signal`.
      response = await request(this.context.fetch, `${this.options.baseUrl}/api/chat`, this.http({ json: body, signal }), target);
    } catch (error) {
      throw refineError(error, signal, this.name, chatRequest.model);
    }
    yield* ollamaChatParts(readLines(response, target), target, signal);
  }

  async embed(embedRequest: EmbedRequest, { signal }: CallOptions): Promise<EmbedResult> {
    // Ollama treats an empty input as "load the model"; nothing to embed means nothing to ask.
    if (embedRequest.input.length === 0) return { embeddings: [], usage: { promptTokens: 0 } };
    const body: Record<string, unknown> = { model: embedRequest.model, input: embedRequest.input, keep_alive: this.options.keepAlive };
    if (embedRequest.dimensions !== undefined) body.dimensions = embedRequest.dimensions;
    const answer = await this.postJson<OllamaEmbedResponse>('/api/embed', body, signal, embedRequest.model, 0);
    const embeddings = answer?.embeddings;
    if (!isVectorList(embeddings) || embeddings.length !== embedRequest.input.length) {
      throw new PluginError({
        code: 'bad_response',
        message: `/api/embed returned ${Array.isArray(embeddings) ? embeddings.length : 'no'} vectors for ${embedRequest.input.length} inputs`,
        backend: this.name,
        model: embedRequest.model,
      });
    }
    const promptTokens = typeof answer.prompt_eval_count === 'number' ? answer.prompt_eval_count : 0;
    return { embeddings, usage: { promptTokens } };
  }

  // -------------------------------------------------------------------------------------------
  // Memory

  async loadedModels({ signal }: CallOptions): Promise<LoadedModel[]> {
    const ps = await this.getJson<OllamaPsResponse>('/api/ps', signal);
    if (!Array.isArray(ps?.models)) {
      throw new PluginError({ code: 'bad_response', message: '/api/ps answer has no "models" array', backend: this.name });
    }
    const loaded: LoadedModel[] = [];
    for (const m of ps.models) {
      const id = m?.name ?? m?.model;
      if (typeof id !== 'string') continue;
      const entry: LoadedModel = { id, sizeBytes: nonNegative(m.size), vramBytes: nonNegative(m.size_vram) };
      const expires = m.expires_at ? new Date(m.expires_at) : undefined;
      if (expires && !Number.isNaN(expires.getTime())) entry.expiresAt = expires;
      loaded.push(entry);
    }
    return loaded;
  }

  /** An /api/generate without a prompt loads the model and keeps it for keep_alive. */
  async load(model: string, { signal }: CallOptions): Promise<boolean> {
    await this.loadOrUnload(model, this.options.keepAlive, signal);
    return true;
  }

  /** keep_alive 0 evicts the model right away (the standard Ollama way to free VRAM). */
  async unload(model: string, { signal }: CallOptions): Promise<boolean> {
    await this.loadOrUnload(model, 0, signal);
    return true;
  }

  /**
   * Ollama refuses /api/generate for an embedding-only model ("does not support generate"); its
   * /api/embed schedules the model before it looks at the input, so an empty input loads it (and
   * keep_alive 0 unloads it) the same way. A model not in the last listing is tried as a chat model
   * first.
   */
  private async loadOrUnload(model: string, keepAlive: KeepAlive, signal: AbortSignal): Promise<void> {
    if (this.embeddingOnly.has(model)) return this.embedEmpty(model, keepAlive, signal);
    try {
      await this.generateEmpty(model, keepAlive, signal);
    } catch (error) {
      if (!(PluginError.isInstance(error) && error.code === 'unsupported' && /does not support (generate|completion)/i.test(error.message))) throw error;
      await this.embedEmpty(model, keepAlive, signal);
    }
  }

  private async embedEmpty(model: string, keepAlive: KeepAlive, signal: AbortSignal): Promise<void> {
    const target: HttpTarget = { backend: this.name, model };
    try {
      const response = await request(this.context.fetch, `${this.options.baseUrl}/api/embed`, this.http({ json: { model, input: [], keep_alive: keepAlive }, signal }), target);
      await response.text();
    } catch (error) {
      throw refineError(error, signal, this.name, model);
    }
  }

  private async generateEmpty(model: string, keepAlive: KeepAlive, signal: AbortSignal): Promise<void> {
    // Loading a large model may take longer than a metadata call; the caller's signal bounds it.
    const target: HttpTarget = { backend: this.name, model };
    let text: string;
    try {
      const response = await request(
        this.context.fetch,
        `${this.options.baseUrl}/api/generate`,
        this.http({ json: { model, keep_alive: keepAlive, stream: false }, signal }),
        target,
      );
      text = await response.text();
    } catch (error) {
      throw refineError(error, signal, this.name, model);
    }
    // A proxy in front of Ollama may ignore stream:false; the last NDJSON line is the answer either way.
    const last = text.trim().split('\n').pop() ?? '';
    let answer: { error?: unknown } | undefined;
    try {
      answer = last ? (JSON.parse(last) as { error?: unknown }) : undefined;
    } catch {
      throw new PluginError({ code: 'bad_response', message: `/api/generate answered ${JSON.stringify(last.slice(0, 120))}`, ...target });
    }
    if (answer?.error !== undefined) throw refineError(new PluginError({ code: 'bad_response', message: String(answer.error), ...target }), signal, this.name, model);
  }

  // -------------------------------------------------------------------------------------------
  // Health

  async health({ signal }: CallOptions): Promise<HealthStatus> {
    const started = performance.now();
    const latency = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      try {
        await this.getJson<{ version?: string }>('/api/version', signal, this.options.healthTimeoutMs);
      } catch (error) {
        // Very old Ollama builds (and some proxies) lack /api/version; "/" answers "Ollama is running".
        if (!PluginError.isInstance(error) || error.code !== 'not_found') throw error;
        const response = await request(this.context.fetch, `${this.options.baseUrl}/`, this.http({ signal, timeoutMs: this.options.healthTimeoutMs }), { backend: this.name });
        await response.text();
      }
      return { ok: true, latencyMs: latency() };
    } catch (error) {
      const failure = refineError(error, signal, this.name);
      return { ok: false, latencyMs: latency(), message: `${failure.code}: ${failure.message}` };
    }
  }

  async dispose(): Promise<void> {
    this.showCache.clear();
  }

  // -------------------------------------------------------------------------------------------
  // HTTP helpers

  private http(options: RequestOptions): RequestOptions {
    if (!this.options.apiKey) return options;
    return { ...options, headers: { ...options.headers, authorization: `Bearer ${this.options.apiKey}` } };
  }

  private async getJson<T>(path: string, signal: AbortSignal, timeoutMs = this.options.requestTimeoutMs): Promise<T> {
    const target: HttpTarget = { backend: this.name };
    try {
      const response = await request(this.context.fetch, `${this.options.baseUrl}${path}`, this.http({ method: 'GET', signal, timeoutMs }), target);
      return await readJson<T>(response, target);
    } catch (error) {
      throw refineError(error, signal, this.name);
    }
  }

  private async postJson<T>(path: string, json: unknown, signal: AbortSignal, model: string, timeoutMs = this.options.requestTimeoutMs): Promise<T> {
    const target: HttpTarget = { backend: this.name, model };
    try {
      const response = await request(this.context.fetch, `${this.options.baseUrl}${path}`, this.http({ json, signal, timeoutMs }), target);
      return await readJson<T>(response, target);
    } catch (error) {
      throw refineError(error, signal, this.name, model);
    }
  }
}

/** Keeps only what toModelInfo reads: a verbose model_info or a long template is not worth holding. */
function trimShow(show: OllamaShowResponse): OllamaShowResponse {
  if (typeof show !== 'object' || show === null) return {};
  const info: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(show.model_info ?? {})) {
    if (key === 'general.architecture' || key === 'general.parameter_count' || key.endsWith('.context_length')) info[key] = value;
  }
  const trimmed: OllamaShowResponse = { details: show.details, model_info: info };
  if (Array.isArray(show.capabilities)) trimmed.capabilities = show.capabilities;
  else {
    // Needed only to infer capabilities on Ollama versions that do not report them.
    trimmed.template = show.template;
    trimmed.projector_info = show.projector_info && Object.keys(show.projector_info).length > 0 ? { present: true } : undefined;
  }
  return trimmed;
}

function isVectorList(value: unknown): value is number[][] {
  return Array.isArray(value) && value.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'));
}

function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
