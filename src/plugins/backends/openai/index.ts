/**
 * Backend plugin for any OpenAI-compatible API: OpenAI, vLLM, LM Studio, OpenRouter, TGI, ...
 * `location` is the base URL including /v1. These servers cannot report or control what is
 * loaded, so only listing, chat, embeddings and health are real operations.
 */
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
import { embedViaOpenAI, getJson, streamChatCompletion, toOpenAIChatBody } from '../openai-wire.js';
import { inferModelInfo } from './model-info.js';
import { parseHttpBackendOptions, type HttpBackendOptions } from './options.js';

export const OPENAI_PROVIDER = 'openai';

interface WireModel {
  id?: unknown;
  /** vLLM reports the served context window. */
  max_model_len?: unknown;
  /** OpenRouter, LM Studio and others. */
  context_length?: unknown;
  context_window?: unknown;
}

export class OpenAIBackend implements BackendPlugin {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly provider = OPENAI_PROVIDER;
  readonly capabilities: BackendCapabilities = { loadedModels: false, load: false, unload: false, embeddings: true };
  readonly name: string;
  private readonly options: HttpBackendOptions;
  private readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';

  constructor(
    options: PluginOptions,
    private readonly context: PluginContext,
  ) {
    this.options = parseHttpBackendOptions(options, OPENAI_PROVIDER, { firstTokenTimeoutMs: 0, requestTimeoutMs: 15_000 });
    this.name = this.options.name;
    // api.openai.com rejects max_tokens for its reasoning models; most self-hosted servers only know max_tokens.
    const field = options.maxTokensField;
    this.maxTokensField =
      field === 'max_tokens' || field === 'max_completion_tokens'
        ? field
        : /(^|\.)openai\.com$|\.openai\.azure\.com$/i.test(new URL(this.options.baseUrl).hostname)
          ? 'max_completion_tokens'
          : 'max_tokens';
  }

  async listModels({ signal }: CallOptions): Promise<BackendModelInfo[]> {
    const body = await getJson<{ data?: WireModel[] }>(
      this.context.fetch,
      `${this.options.baseUrl}/models`,
      this.options.headers,
      signal,
      { backend: this.name },
      this.options.requestTimeoutMs,
    );
    if (!Array.isArray(body?.data)) {
      throw new PluginError({ code: 'bad_response', message: 'model list has no data array', backend: this.name });
    }
    return body.data
      .filter((entry): entry is WireModel & { id: string } => typeof entry?.id === 'string' && entry.id !== '')
      .map((entry) => {
        const inferred = inferModelInfo(entry.id);
        const contextLength = [entry.max_model_len, entry.context_length, entry.context_window].find(
          (v): v is number => typeof v === 'number' && v > 0,
        );
        return {
          id: entry.id,
          ...(inferred.family && { family: inferred.family }),
          ...(inferred.parameterCountB !== undefined && { parameterCountB: inferred.parameterCountB }),
          ...(inferred.quantization && { quantization: inferred.quantization }),
          ...(contextLength !== undefined && { contextLength }),
          capabilities: inferred.capabilities,
        };
      });
  }

  chat(request: ChatRequest, { signal }: CallOptions): AsyncIterable<ChatStreamPart> {
    const target = { backend: this.name, model: request.model };
    let body: Record<string, unknown>;
    try {
      body = toOpenAIChatBody(request, { maxTokensField: this.maxTokensField, providerNamespaces: [OPENAI_PROVIDER] });
    } catch (error) {
      return failed(PluginError.from(error, target));
    }
    // The wire stream itself, not wrapped in a generator of ours: each layer costs promises per part.
    return streamChatCompletion({
      fetch: this.context.fetch,
      url: `${this.options.baseUrl}/chat/completions`,
      headers: this.options.headers,
      body,
      target,
      signal,
      firstTokenTimeoutMs: this.options.firstTokenTimeoutMs,
    });
  }

  embed(request: EmbedRequest, { signal }: CallOptions): Promise<EmbedResult> {
    return embedViaOpenAI(
      this.context.fetch,
      `${this.options.baseUrl}/embeddings`,
      this.options.headers,
      request,
      signal,
      { backend: this.name, model: request.model },
      this.options.firstTokenTimeoutMs,
    );
  }

  async loadedModels(): Promise<LoadedModel[]> {
    return [];
  }

  async load(): Promise<boolean> {
    return false;
  }

  async unload(): Promise<boolean> {
    return false;
  }

  async health({ signal }: CallOptions): Promise<HealthStatus> {
    const started = performance.now();
    try {
      await getJson<unknown>(this.context.fetch, `${this.options.baseUrl}/models`, this.options.headers, signal, { backend: this.name }, this.options.requestTimeoutMs);
      return { ok: true, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      const failure = PluginError.from(error, { backend: this.name });
      // The caller going away is not a verdict on the backend.
      if (failure.code === 'aborted') throw failure;
      const latencyMs = Math.round(performance.now() - started);
      // A rate-limited model list (429) says the API is there and takes our key: chats may well go
      // through, so it is not reported down (a down backend is skipped by routing).
      if (failure.status === 429) return { ok: true, latencyMs, message: `rate limited: ${failure.message}` };
      return { ok: false, latencyMs, message: `${failure.code}: ${failure.message}` };
    }
  }
}

/** A stream that fails on its first read, as a generator that threw at once would. */
async function* failed(error: PluginError): AsyncGenerator<ChatStreamPart> {
  throw error;
}

export const openaiBackendDefinition: PluginDefinition<'backend'> = {
  manifest: {
    name: 'openai',
    version: '1.0.0',
    kind: 'backend',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'Any OpenAI-compatible API (OpenAI, vLLM, LM Studio, OpenRouter, ...); location is the base URL including /v1.',
  },
  create: (options, context) => new OpenAIBackend(options, context),
};

export default openaiBackendDefinition;
