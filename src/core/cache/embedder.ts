/**
 * Embeddings through the registry: one implementation behind POST /v1/embeddings,
 * RouterService.Embed and the semantic cache.
 *
 * Which model: a concrete model the client names (it must be able to embed); for the router's own
 * names (or no name) ROUTER_EMBED_MODEL, or, when that is unset, the first available model that
 * can embed, so /v1/embeddings works out of the box.
 */
import { PluginError } from '../../plugin-api/index.js';
import type { ModelRegistry, RegistryEntry } from '../registry.js';
import { RouterError } from '../types.js';
import { untilAborted } from '../abortable.js';

export interface EmbedInput {
  /** A router name, a concrete model id, or '' (the default embedding model). */
  model: string;
  input: string[];
  dimensions?: number;
}

export interface EmbedOutput {
  /** Router-wide key of the model that embedded. */
  model: string;
  backend: string;
  embeddings: number[][];
  usage: { promptTokens: number };
}

export interface EmbedderSettings {
  /** ROUTER_EMBED_MODEL. */
  embedModel?: string;
  /** Names that mean "the router chooses" (smarterrouter/main and its aliases). */
  routerNames: readonly string[];
  /** Longest an embedding call may take. */
  timeoutMs: number;
}

/** OpenAI's limit on inputs per embeddings request. */
export const MAX_EMBED_INPUTS = 2048;

/** How many of the router's own single-text embeddings are kept for reuse, and for how long. */
const REUSE_ENTRIES = 256;
const REUSE_MS = 60_000;

export class Embedder {
  /** Recent vectors of embedText, by model key and text (oldest first); a call in flight is kept as its promise. */
  private readonly recent = new Map<string, { vector: Promise<number[]>; at: number }>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly settings: EmbedderSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * One text through the router's embedding model (`model` '' or a name, as in embed), for the
   * router's own uses: the semantic cache and the embedding classifier. A text embedded (or being
   * embedded) in the last minute is answered from that call, so a prompt that both embed (a
   * single-turn chat with both on) costs one backend call, not two. Clients' /v1/embeddings calls
   * never come through here.
   */
  async embedText(model: string, text: string, signal: AbortSignal): Promise<number[]> {
    const entry = this.resolve(model);
    const key = `${entry.key}\0${text}`;
    const known = this.recent.get(key);
    if (known && this.now() - known.at < REUSE_MS) {
      // Most recently used goes last, so the oldest is the one dropped.
      this.recent.delete(key);
      this.recent.set(key, known);
      try {
        return await untilAborted(known.vector, signal);
      } catch (error) {
        // The shared call failed (or its caller left): this caller still gets its own try.
        if (signal.aborted) throw error;
      }
    }
    const reused = { vector: this.embed({ model: entry.key, input: [text] }, signal).then((out) => out.embeddings[0]!), at: this.now() };
    this.recent.delete(key);
    this.recent.set(key, reused);
    if (this.recent.size > REUSE_ENTRIES) this.recent.delete(this.recent.keys().next().value as string);
    // A failed call is forgotten at once: the next caller asks the backend again.
    reused.vector.catch(() => {
      if (this.recent.get(key) === reused) this.recent.delete(key);
    });
    return reused.vector;
  }

  async embed(request: EmbedInput, signal: AbortSignal): Promise<EmbedOutput> {
    if (request.input.length === 0) throw new RouterError('invalid_request', 'input must not be empty', { param: 'input' });
    if (request.input.length > MAX_EMBED_INPUTS) {
      throw new RouterError('invalid_request', `input has ${request.input.length} items; at most ${MAX_EMBED_INPUTS} are allowed`, { param: 'input' });
    }
    const empty = request.input.findIndex((t) => t === '');
    if (empty >= 0) throw new RouterError('invalid_request', `input[${empty}] is an empty string; every input must contain text`, { param: 'input' });
    if (request.dimensions !== undefined && !(Number.isInteger(request.dimensions) && request.dimensions >= 1)) {
      throw new RouterError('invalid_request', 'dimensions must be a positive integer', { param: 'dimensions' });
    }

    const entry = this.resolve(request.model);
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(this.settings.timeoutMs)]);
    const result = await entry.backend.embed(
      { model: entry.info.id, input: request.input, ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}) },
      { signal: callSignal },
    );
    if (result.embeddings.length !== request.input.length) {
      throw new PluginError({
        code: 'bad_response',
        message: `the backend returned ${result.embeddings.length} embeddings for ${request.input.length} inputs`,
        backend: entry.backend.name,
        model: entry.info.id,
      });
    }
    return { model: entry.key, backend: entry.backend.name, embeddings: result.embeddings, usage: result.usage };
  }

  /** The model that embeds for this name; throws the RouterError a client should see otherwise. */
  resolve(name: string): RegistryEntry {
    const routerName = name === '' || this.settings.routerNames.includes(name);
    if (routerName) {
      const configured = this.settings.embedModel;
      if (configured) {
        const entry = this.registry.resolve(configured);
        if (!entry) throw new RouterError('no_candidates', `the embedding model "${configured}" (ROUTER_EMBED_MODEL) is not listed by any backend`);
        return this.usable(entry, true);
      }
      const found = this.registry.entriesList().find((e) => e.available && e.info.capabilities.embeddings);
      if (!found) throw new RouterError('no_candidates', 'no available model can compute embeddings (set ROUTER_EMBED_MODEL or add an embedding model to a backend)');
      return found;
    }
    const entry = this.registry.resolve(name);
    if (!entry) throw new RouterError('model_not_found', `The model "${name}" does not exist. Use an embedding model of GET /v1/models or the router's name.`, { param: 'model' });
    return this.usable(entry, false);
  }

  private usable(entry: RegistryEntry, configured: boolean): RegistryEntry {
    if (!entry.info.capabilities.embeddings) {
      // The operator's setting is wrong, not the client's request: not a 400.
      if (configured) throw new RouterError('no_candidates', `ROUTER_EMBED_MODEL names "${entry.key}", which cannot compute embeddings`);
      throw new RouterError('invalid_request', `The model "${entry.key}" cannot compute embeddings (it is a chat model).`, { param: 'model' });
    }
    if (!entry.available) throw new RouterError('no_candidates', `the embedding model "${entry.key}" is unavailable (its backend is not answering)`);
    return entry;
  }
}
