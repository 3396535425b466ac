/**
 * Embedded GGUF backend: runs models from a local folder in-process with node-llama-cpp.
 *
 * Each loaded model has one context with one sequence and a FIFO lock, so requests for the same model
 * run one after another (a CPU box gains nothing from interleaving them) while different models can
 * run side by side. At most `maxLoadedModels` stay in memory; loading another unloads the least
 * recently used first, after its current request finishes.
 */
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  InsufficientMemoryError,
  LlamaChat,
  type ChatHistoryItem,
  type LlamaContext,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
} from 'node-llama-cpp';
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
  type FinishReason,
  type HealthStatus,
  type LoadedModel,
  type PluginContext,
  type ResponseFormat,
} from '../../../plugin-api/index.js';
import { ModelInfoCache, scanModelFolder, type GgufFile } from './catalog.js';
import { sharedLlama } from './llama.js';
import { toChatHistory } from './messages.js';
import { Mutex, type Release } from './mutex.js';
import { GGUF_PROVIDER, type GgufBackendOptions } from './options.js';
import { PushQueue } from './queue.js';
import { linkSignals } from './signals.js';
import { untilAborted } from '../../../core/abortable.js';

export { GGUF_PROVIDER };

/** llama.cpp server's default: mildly creative when the client does not say. */
const DEFAULT_TEMPERATURE = 0.8;

interface Target {
  backend: string;
  model: string;
}

/** A model in memory with everything needed to serve it. */
interface Slot {
  id: string;
  file: GgufFile;
  model: LlamaModel;
  context: LlamaContext;
  chat: LlamaChat;
  contextSize: number;
  embedding?: Promise<LlamaEmbeddingContext>;
  lock: Mutex;
  /** Set when unloading starts: a request that was queued behind the unload loads the model again. */
  closed: boolean;
}

interface Lease {
  slot: Slot;
  release: Release;
}

export class GgufBackend implements BackendPlugin {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly provider = GGUF_PROVIDER;
  readonly capabilities: BackendCapabilities = { loadedModels: true, load: true, unload: true, embeddings: true };
  readonly name: string;

  /** Loaded models in least-recently-used-first order (a Map keeps insertion order; use re-inserts). */
  private readonly slots = new Map<string, Slot>();
  private readonly loading = new Map<string, Promise<Slot>>();
  /** Serialises load/evict decisions so concurrent loads cannot overshoot maxLoadedModels. */
  private readonly swap = new Mutex();
  private readonly infoCache = new ModelInfoCache();
  private readonly warned = new Set<string>();
  private disposed = false;

  constructor(
    private readonly options: GgufBackendOptions,
    private readonly context: PluginContext,
  ) {
    this.name = options.name;
  }

  async listModels(options: CallOptions): Promise<BackendModelInfo[]> {
    this.ensureOpen();
    const files = await this.scan();
    options.signal.throwIfAborted();
    const models: BackendModelInfo[] = [];
    for (const file of files) {
      try {
        models.push(await this.infoCache.describe(file));
      } catch (error) {
        // One truncated or foreign file must not hide the others; it would only fail to load anyway.
        this.context.logger.warn({ backend: this.name, model: file.id, err: error }, 'skipping unreadable GGUF file');
      }
    }
    this.infoCache.retain(files);
    return models;
  }

  async *chat(request: ChatRequest, options: CallOptions): AsyncIterable<ChatStreamPart> {
    const target: Target = { backend: this.name, model: request.model };
    this.ensureOpen(target);
    const history = toChatHistory(request.messages, target);
    this.warnIgnored(request);
    // `call`: client disconnect, deadline or shutdown. `run` also fires when the consumer stops
    // iterating early, so generation never runs on unobserved.
    const call = linkSignals(options.signal, this.context.signal);
    const run = linkSignals(call.signal);
    let lease: Lease | undefined;
    let generation: Promise<void> | undefined;
    try {
      lease = await this.use(request.model, run.signal);
      const { slot } = lease;
      const grammar = await this.grammarFor(request.responseFormat, slot, target);
      const promptTokens = countPromptTokens(slot, history);
      // node-llama-cpp would shift the context and silently drop the start of the conversation; a
      // prompt that does not fit is the client's to shorten (OpenAI: context_length_exceeded).
      if (promptTokens >= slot.contextSize) {
        throw new PluginError({ code: 'bad_request', message: `the prompt is ${promptTokens} tokens, more than the model's context of ${slot.contextSize} tokens (context_length_exceeded)`, ...target });
      }
      const meter = slot.chat.sequence.tokenMeter;
      const outputBefore = meter.usedOutputTokens;
      const gguf = (request.providerOptions?.[GGUF_PROVIDER] ?? {}) as Record<string, unknown>;
      const stopTriggers = (request.stop ?? []).filter((s) => s !== '');
      const penalties = request.presencePenalty || request.frequencyPenalty;
      const queue = new PushQueue<ChatStreamPart>();

      generation = slot.chat
        .generateResponse(history, {
          signal: run.signal,
          stopOnAbortSignal: true,
          maxTokens: request.maxTokens ?? this.options.defaultMaxTokens,
          temperature: request.temperature ?? DEFAULT_TEMPERATURE,
          topP: request.topP,
          topK: typeof gguf.topK === 'number' ? gguf.topK : undefined,
          minP: typeof gguf.minP === 'number' ? gguf.minP : undefined,
          seed: request.seed,
          customStopTriggers: stopTriggers.length > 0 ? stopTriggers : undefined,
          // OpenAI semantics: no repetition penalty unless the client asks for one.
          repeatPenalty: penalties
            ? { presencePenalty: request.presencePenalty, frequencyPenalty: request.frequencyPenalty }
            : false,
          grammar,
          onResponseChunk: (chunk) => {
            if (chunk.text === '') return;
            // Segments are a thinking model's thoughts (or comments): reasoning, not answer text.
            if (chunk.type === 'segment') queue.push({ type: 'reasoning-delta', delta: chunk.text });
            else queue.push({ type: 'text-delta', delta: chunk.text });
          },
        })
        .then(
          (result) => {
            if (result.metadata.stopReason === 'abort' || call.signal.aborted) {
              queue.push({ type: 'error', error: this.toError(call.signal.reason, target, call.signal) });
              return;
            }
            const finishReason: FinishReason = result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop';
            queue.push({
              type: 'finish',
              finishReason,
              usage: { promptTokens, completionTokens: meter.usedOutputTokens - outputBefore },
            });
          },
          (error: unknown) => queue.push({ type: 'error', error: this.toError(error, target, call.signal) }),
        )
        .finally(() => queue.end());

      let started = false;
      for (let part = await queue.next(); part !== undefined; part = await queue.next()) {
        // Contract: a failure before the first part is thrown, after it is yielded.
        if (part.type === 'error' && !started) throw part.error;
        started = true;
        yield part;
      }
    } catch (error) {
      throw this.toError(error, target, call.signal);
    } finally {
      run.abort();
      await generation;
      lease?.release();
      run.dispose();
      call.dispose();
    }
  }

  async embed(request: EmbedRequest, options: CallOptions): Promise<EmbedResult> {
    const target: Target = { backend: this.name, model: request.model };
    this.ensureOpen(target);
    if (request.dimensions !== undefined) this.warnOnce('dimensions', 'embeddings "dimensions" is not supported by the gguf backend; returning full vectors');
    const call = linkSignals(options.signal, this.context.signal);
    const signal = call.signal;
    try {
      const lease = await this.use(request.model, signal);
      try {
        const embedding = await this.embeddingContext(lease.slot, target);
        const embeddings: number[][] = [];
        let promptTokens = 0;
        for (const input of request.input) {
          signal.throwIfAborted();
          const length = embedding.calculateInputLength(input);
          if (length > lease.slot.contextSize) {
            throw new PluginError({
              code: 'bad_request',
              message: `input of ${length} tokens exceeds the context size ${lease.slot.contextSize}`,
              ...target,
            });
          }
          promptTokens += length;
          const result = await embedding.getEmbeddingFor(input);
          embeddings.push(Array.from(result.vector));
        }
        return { embeddings, usage: { promptTokens } };
      } finally {
        lease.release();
      }
    } catch (error) {
      throw this.toError(error, target, signal);
    } finally {
      call.dispose();
    }
  }

  async loadedModels(_options: CallOptions): Promise<LoadedModel[]> {
    return [...this.slots.values()].map((slot) => ({
      id: slot.id,
      sizeBytes: slot.model.size,
      vramBytes: slot.model.llama.gpu === false ? 0 : slot.model.memoryUsage.vram,
    }));
  }

  async load(model: string, options: CallOptions): Promise<boolean> {
    const target: Target = { backend: this.name, model };
    this.ensureOpen(target);
    const call = linkSignals(options.signal, this.context.signal);
    try {
      const lease = await this.use(model, call.signal);
      lease.release();
      return true;
    } catch (error) {
      throw this.toError(error, target, call.signal);
    } finally {
      call.dispose();
    }
  }

  async unload(model: string, _options: CallOptions): Promise<boolean> {
    // A load in progress finishes first, so the unload is not undone by it a moment later.
    await this.loading.get(model)?.catch(() => undefined);
    const slot = this.slots.get(model);
    if (slot) {
      this.slots.delete(model);
      await this.closeSlot(slot);
    }
    return true;
  }

  async health(_options: CallOptions): Promise<HealthStatus> {
    const started = performance.now();
    try {
      const info = await stat(this.options.location);
      if (!info.isDirectory()) throw new Error('not a directory');
      await access(this.options.location, constants.R_OK | constants.X_OK);
      return { ok: !this.disposed, latencyMs: performance.now() - started, message: this.disposed ? 'disposed' : undefined };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, latencyMs: performance.now() - started, message: `model folder ${this.options.location} is not readable: ${reason}` };
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.allSettled([...this.loading.values()]);
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.allSettled(slots.map((slot) => this.closeSlot(slot)));
    // The shared llama.cpp runtime stays: other gguf backend instances may still use it.
  }

  // -------------------------------------------------------------------------------------------

  private async scan(): Promise<GgufFile[]> {
    try {
      return await scanModelFolder(this.options.location, this.options.recursive);
    } catch (error) {
      throw new PluginError({
        code: 'unreachable',
        message: `cannot read model folder ${this.options.location}: ${error instanceof Error ? error.message : String(error)}`,
        backend: this.name,
        cause: error,
      });
    }
  }

  /** Finds the file of a model id, scanning the folder again so new files are found without a restart. */
  private async resolveFile(id: string): Promise<GgufFile> {
    const file = (await this.scan()).find((f) => f.id === id);
    if (!file) {
      throw new PluginError({ code: 'not_found', message: `no model "${id}" in ${this.options.location}`, backend: this.name, model: id });
    }
    return file;
  }

  /** The slot of a loaded model, locked for the caller; loads it when needed. */
  private async use(id: string, signal: AbortSignal): Promise<Lease> {
    for (;;) {
      const slot = await this.slotFor(id, signal);
      const release = await slot.lock.acquire(signal);
      if (!slot.closed) {
        // Re-insert: the Map's first entry is always the least recently used.
        if (this.slots.get(id) === slot) {
          this.slots.delete(id);
          this.slots.set(id, slot);
        }
        return { slot, release };
      }
      release(); // unloaded while we waited in its queue: load it again
    }
  }

  private async slotFor(id: string, signal: AbortSignal): Promise<Slot> {
    const loaded = this.slots.get(id);
    if (loaded) return loaded;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.loadSlot(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    // A caller that gives up stops waiting; the load itself continues for the others queued on it.
    return await untilAborted(pending, signal);
  }

  private async loadSlot(id: string): Promise<Slot> {
    const file = await this.resolveFile(id);
    const release = await this.swap.acquire();
    try {
      this.ensureOpen({ backend: this.name, model: id });
      // Make room first: memory is what limits us, so the old model goes before the new one arrives.
      while (this.slots.size >= this.options.maxLoadedModels) {
        const [oldest] = this.slots.values();
        this.slots.delete(oldest.id);
        await this.closeSlot(oldest);
      }
      const llama = await sharedLlama(this.options.gpu, this.context.logger).catch((error: unknown) => {
        throw new PluginError({ code: 'internal', message: `cannot start llama.cpp: ${errorText(error)}`, backend: this.name, model: id, cause: error });
      });
      let model: LlamaModel;
      try {
        model = await llama.loadModel({ modelPath: file.path, gpuLayers: this.options.gpu ? 'auto' : 0 });
      } catch (error) {
        throw this.loadError(error, id, file, 'load model');
      }
      try {
        const contextSize = Math.min(this.options.contextSize, model.trainContextSize);
        const context = await model.createContext({ contextSize, threads: this.options.threads, sequences: 1 });
        const chat = new LlamaChat({ contextSequence: context.getSequence(), autoDisposeSequence: false });
        const slot: Slot = { id, file, model, context, chat, contextSize: context.contextSize, lock: new Mutex(), closed: false };
        this.slots.set(id, slot);
        this.context.logger.info({ backend: this.name, model: id, contextSize: slot.contextSize, threads: this.options.threads }, 'gguf model loaded');
        return slot;
      } catch (error) {
        await model.dispose().catch(() => undefined);
        throw this.loadError(error, id, file, 'create a context for');
      }
    } finally {
      release();
    }
  }

  /** Waits for the request in progress (if any), then frees contexts and weights. */
  private async closeSlot(slot: Slot): Promise<void> {
    slot.closed = true;
    const release = await slot.lock.acquire();
    try {
      slot.chat.dispose({ disposeSequence: true });
      const embedding = await slot.embedding?.catch(() => undefined);
      await embedding?.dispose();
      await slot.context.dispose();
      await slot.model.dispose();
      this.context.logger.info({ backend: this.name, model: slot.id }, 'gguf model unloaded');
    } catch (error) {
      this.context.logger.warn({ backend: this.name, model: slot.id, err: error }, 'error while unloading gguf model');
    } finally {
      release();
    }
  }

  private embeddingContext(slot: Slot, target: Target): Promise<LlamaEmbeddingContext> {
    if (!slot.embedding) {
      slot.embedding = slot.model.createEmbeddingContext({ contextSize: slot.contextSize, threads: this.options.threads });
      slot.embedding.catch(() => (slot.embedding = undefined));
    }
    return slot.embedding.catch((error: unknown) => {
      throw new PluginError({ code: 'unsupported', message: `model cannot produce embeddings: ${errorText(error)}`, ...target, cause: error });
    });
  }

  private async grammarFor(format: ResponseFormat | undefined, slot: Slot, target: Target): Promise<LlamaGrammar | undefined> {
    if (!format || format.type === 'text') return undefined;
    if (format.type === 'json_schema' && format.schema) {
      try {
        return await slot.model.llama.createGrammarForJsonSchema(format.schema as Parameters<typeof slot.model.llama.createGrammarForJsonSchema>[0]);
      } catch (error) {
        throw new PluginError({ code: 'bad_request', message: `unsupported JSON schema: ${errorText(error)}`, ...target, cause: error });
      }
    }
    // json_object, or json_schema without a schema: any JSON value.
    return await slot.model.llama.getGrammarFor('json');
  }

  private loadError(error: unknown, id: string, file: GgufFile, what: string): PluginError {
    const message = `failed to ${what} ${file.path}: ${errorText(error)}`;
    if (error instanceof InsufficientMemoryError) {
      return new PluginError({ code: 'overloaded', message, backend: this.name, model: id, cause: error });
    }
    if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') {
      return new PluginError({ code: 'not_found', message, backend: this.name, model: id, cause: error });
    }
    // A file that llama.cpp cannot read is a broken answer from this backend; another may have the model.
    return new PluginError({ code: 'bad_response', message, backend: this.name, model: id, cause: error });
  }

  private toError(error: unknown, target: Target, signal: AbortSignal): PluginError {
    if (PluginError.isInstance(error)) return PluginError.from(error, target);
    if (signal.aborted) {
      const reason = signal.reason as { name?: string } | undefined;
      if (reason?.name === 'TimeoutError') {
        return new PluginError({ code: 'timeout', message: 'request timed out', ...target, cause: signal.reason });
      }
      return new PluginError({ code: 'aborted', message: 'request aborted', retryable: false, ...target, cause: signal.reason });
    }
    return PluginError.from(error, target);
  }

  private ensureOpen(target?: Target): void {
    if (this.disposed) {
      throw new PluginError({ code: 'unreachable', message: 'gguf backend has been disposed', backend: this.name, model: target?.model });
    }
  }

  /** Settings this backend cannot honour are logged once, not rejected (the answer is still useful). */
  private warnIgnored(request: ChatRequest): void {
    if (request.tools?.length) this.warnOnce('tools', 'tool definitions are ignored by the gguf backend (no tool calling)');
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.context.logger.warn({ backend: this.name }, message);
  }
}

/** Tokens of the rendered prompt, as the model's chat wrapper formats it. */
function countPromptTokens(slot: Slot, history: ChatHistoryItem[]): number {
  const chatHistory = history.at(-1)?.type === 'model' ? history : [...history, { type: 'model' as const, response: [] }];
  try {
    const state = slot.chat.chatWrapper.generateContextState({ chatHistory });
    return state.contextText.tokenize(slot.model.tokenizer).length;
  } catch {
    // Usage is informational: a wrapper that cannot render here must not fail the request.
    const texts = chatHistory.map((item) => (item.type === 'model' ? item.response.filter((r) => typeof r === 'string').join('') : typeof item.text === 'string' ? item.text : ''));
    return slot.model.tokenize(texts.join('\n')).length;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
