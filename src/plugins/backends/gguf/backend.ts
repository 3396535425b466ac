/**
 * Embedded GGUF backend: runs models from a local folder in-process with node-llama-cpp.
 *
 * Each loaded model has one context with one sequence and a FIFO lock, so requests for the same model
 * run one after another (a CPU box gains nothing from interleaving them) while different models can
 * run side by side. At most `maxLoadedModels` stay in memory (an instance option, default 1).
 *
 * Swapping models is scheduled, not raced: a model with requests running or queued is never
 * unloaded. When another model needs its room, it is marked draining: it finishes the requests it
 * has queued and takes no new ones, which wait their turn behind the model that needs the room. So
 * traffic for two models with room for one alternates in batches (one swap per batch), instead of
 * every request unloading the other model, and no model starves.
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
  /** Requests holding or waiting for the lock (and loads reserved for a caller): never evicted while > 0. */
  users: number;
  /** Another model waits for this one's room: new requests queue for their turn instead of joining its lock. */
  draining: boolean;
  /** Set when unloading starts; a request that still meets it loads the model again. */
  closed: boolean;
}

interface Lease {
  slot: Slot;
  release: Release;
}

/** One load of a model, shared by every caller that asked for it while it waited its turn. */
interface LoadTurn {
  waiters: number;
  /** Set once loaded: every waiter then counts as a user of it. */
  slot?: Slot;
  /** Aborts the turn when every waiter gave up. */
  controller: AbortController;
  promise: Promise<Slot>;
}

export class GgufBackend implements BackendPlugin {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly provider = GGUF_PROVIDER;
  readonly capabilities: BackendCapabilities = { loadedModels: true, load: true, unload: true, embeddings: true };
  readonly name: string;

  /** Loaded models in least-recently-used-first order (a Map keeps insertion order; use re-inserts). */
  private readonly slots = new Map<string, Slot>();
  /** Serialises loads and evictions (first come, first served), so they cannot overshoot maxLoadedModels. */
  private readonly swap = new Mutex();
  /** Wakes whoever waits for a loaded model to become idle (to evict it). */
  private readonly idleWaiters = new Set<() => void>();
  /** Loads waiting for (or in) their turn, by model: later callers join them, so one load serves a batch. */
  private readonly turns = new Map<string, LoadTurn>();
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
          // Never past the context: node-llama-cpp would shift it and drop the start of the
          // conversation to make room. A longer request finishes with `length` where it is full.
          maxTokens: Math.min(request.maxTokens ?? this.options.defaultMaxTokens, slot.contextSize - promptTokens),
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

  async unload(model: string, options: CallOptions): Promise<boolean> {
    // In turn with loads, so a load in progress is not undone a moment later (or undoes this).
    const release = await this.swap.acquire(options.signal);
    let slot: Slot | undefined;
    try {
      slot = this.slots.get(model);
      if (!slot) return true;
      // Requests already running or queued on it finish first; new ones wait for a reload.
      slot.draining = true;
      while (slot.users > 0) await this.waitForIdle(options.signal);
      this.slots.delete(model);
      await this.closeSlot(slot);
      return true;
    } finally {
      if (slot && !slot.closed) slot.draining = false;
      release();
    }
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
    // A load in progress finishes (its caller then finds the backend closed); requests in flight were
    // aborted by the shutdown signal, and closeSlot waits for each to let go of its model.
    const release = await this.swap.acquire();
    release();
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

  /** The slot of a loaded model, locked for the caller; loads it in turn when needed. */
  private async use(id: string, signal: AbortSignal): Promise<Lease> {
    for (;;) {
      const slot = await this.reserve(id, signal);
      let release: Release;
      try {
        release = await slot.lock.acquire(signal);
      } catch (error) {
        this.leave(slot);
        throw error;
      }
      if (slot.closed) {
        // Unloaded at shutdown while we queued: reserve() says why if it cannot load it again.
        release();
        this.leave(slot);
        continue;
      }
      // Re-insert: the Map's first entry is always the least recently used.
      if (this.slots.get(id) === slot) {
        this.slots.delete(id);
        this.slots.set(id, slot);
      }
      let done = false;
      return {
        slot,
        release: () => {
          if (done) return;
          done = true;
          release();
          this.leave(slot);
        },
      };
    }
  }

  /**
   * The loaded slot of `id` with the caller counted as a user, so it cannot be evicted before the
   * caller queues on its lock. A model not loaded (or draining) is loaded in its turn; callers that
   * ask for it meanwhile join that turn, and all of them become its users at once.
   */
  private async reserve(id: string, signal: AbortSignal): Promise<Slot> {
    const loaded = this.slots.get(id);
    if (loaded && !loaded.draining && !loaded.closed) {
      loaded.users++;
      return loaded;
    }
    let turn = this.turns.get(id);
    if (!turn) {
      const created: LoadTurn = { waiters: 0, controller: new AbortController(), promise: undefined as unknown as Promise<Slot> };
      created.promise = this.loadInTurn(id, created);
      created.promise.catch(() => undefined); // its waiters see the failure
      this.turns.set(id, created);
      turn = created;
    }
    turn.waiters++;
    try {
      return await untilAborted(turn.promise, signal);
    } catch (error) {
      if (turn.slot) this.leave(turn.slot); // loaded and counted us just as we gave up
      else if (--turn.waiters === 0) turn.controller.abort(signal.reason); // nobody wants it any more
      throw error;
    }
  }

  /** Runs one turn: waits for the loads asked for before, makes room, loads, hands the model to its waiters. */
  private async loadInTurn(id: string, turn: LoadTurn): Promise<Slot> {
    try {
      return await this.runTurn(id, turn);
    } finally {
      // However the turn ended (loaded, failed, or abandoned while it waited for the lock), the
      // next caller must start a new one rather than join this one.
      if (this.turns.get(id) === turn) this.turns.delete(id);
    }
  }

  private async runTurn(id: string, turn: LoadTurn): Promise<Slot> {
    const release = await this.swap.acquire(turn.controller.signal);
    try {
      this.ensureOpen({ backend: this.name, model: id });
      let slot = this.slots.get(id);
      if (slot && !slot.closed) {
        // Left draining by a turn that gave up: it serves again.
        slot.draining = false;
      } else {
        const file = await this.resolveFile(id);
        await this.makeRoom(turn.controller.signal);
        slot = await this.loadSlot(id, file);
      }
      // From here every waiter is a user, before the next turn can look for a model to evict.
      this.turns.delete(id);
      slot.users += turn.waiters;
      turn.slot = slot;
      return slot;
    } finally {
      release();
    }
  }

  private leave(slot: Slot): void {
    slot.users--;
    if (slot.users === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** Resolves when some loaded model has no more users (or rejects when `signal` aborts). */
  private waitForIdle(signal?: AbortSignal): Promise<void> {
    const idle = new Promise<void>((resolve) => {
      const wake = (): void => {
        this.idleWaiters.delete(wake);
        resolve();
      };
      this.idleWaiters.add(wake);
    });
    // A waiter that gave up stays in the set until the next idle moment wakes it, unheard.
    return signal ? untilAborted(idle, signal) : idle;
  }

  /**
   * Frees a place for one more model (called holding the swap lock). An idle model goes at once,
   * least recently used first. When every loaded model is busy, the least recently used one drains:
   * it finishes what it has queued, takes nothing new, and then goes.
   */
  private async makeRoom(signal: AbortSignal): Promise<void> {
    let drained: Slot | undefined;
    try {
      while (this.slots.size >= this.options.maxLoadedModels) {
        const idle = [...this.slots.values()].find((slot) => slot.users === 0);
        if (idle) {
          this.slots.delete(idle.id);
          await this.closeSlot(idle);
          continue;
        }
        if (!drained) {
          drained = this.slots.values().next().value as Slot;
          drained.draining = true;
        }
        await this.waitForIdle(signal);
      }
    } finally {
      // Evicted, or another model made room first, or the caller gave up: either way it serves again.
      if (drained && !drained.closed) drained.draining = false;
    }
  }

  /** Loads a model into a new slot (called holding the swap lock, with room made). */
  private async loadSlot(id: string, file: GgufFile): Promise<Slot> {
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
      const slot: Slot = { id, file, model, context, chat, contextSize: context.contextSize, lock: new Mutex(), users: 0, draining: false, closed: false };
      this.slots.set(id, slot);
      this.context.logger.info({ backend: this.name, model: id, contextSize: slot.contextSize, threads: this.options.threads }, 'gguf model loaded');
      return slot;
    } catch (error) {
      await model.dispose().catch(() => undefined);
      throw this.loadError(error, id, file, 'create a context for');
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
