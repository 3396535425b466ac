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

export class Embedder {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly settings: EmbedderSettings,
  ) {}

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
