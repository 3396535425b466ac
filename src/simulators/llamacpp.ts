/**
 * llama.cpp `llama-server` simulator in three modes:
 * - single (default): one model (the first of `models`), always loaded; the request's `model` is ignored,
 *   as llama-server does.
 * - swap: llama-swap in front of several llama-servers; one model in memory at a time, a request for
 *   another model swaps it in; /running, /unload, /api/models/unload[/{id}], /upstream/{id}/….
 * - router: llama-server router mode; GET /models with status, POST /models/load|unload, autoload on
 *   request, at most 4 models loaded (least recently used evicted, like --models-max 4).
 */
import { generateAnswer, type ChatInput } from './answers.js';
import { handleChatCompletions, handleEmbeddings, type CompatFlavour } from './openai-compat.js';
import { checkBearer, sendError, sendJson, sendText, startServer, streamFrames, waitForGeneration, type Exchange, type Frame } from './server.js';
import type { LlamaCppMode, RunningSimulator, SimulatorOptions } from './types.js';
import { isRecord, resolveModel, unixSeconds, type ResolvedModel } from './util.js';

const TOTAL_SLOTS = 4;
const MODELS_MAX = 4;
const BUILD = 'b6500-simulator';
/** Endpoints llama-server answers without an API key. */
const PUBLIC = new Set(['/health', '/v1/health', '/models', '/v1/models']);

export interface LlamaCppSimulatorOptions extends SimulatorOptions {
  mode?: LlamaCppMode;
  /**
   * What GET /props says. 'current' (default): a recent build, with `chat_template_caps` (tool support
   * from the model's `tools` capability) and `modalities`. 'legacy': an older build without either.
   * 'missing': no /props route (404), like servers that predate it or proxies that hide it.
   */
  props?: 'current' | 'legacy' | 'missing';
  /**
   * false: the server runs without jinja templates (`--no-jinja`, or an old build without `--jinja`):
   * every chat request with tools fails with 500 "tools param requires --jinja flag", whatever /props
   * says. Default true.
   */
  jinja?: boolean;
}

export function startLlamaCppSimulator(o: LlamaCppSimulatorOptions): Promise<RunningSimulator> {
  const mode: LlamaCppMode = o.mode ?? 'single';
  const propsStyle = o.props ?? 'current';
  const models = new Map(o.models.map((m) => [m.id, resolveModel(m)]));
  const first = [...models.values()][0];
  if (!first) return Promise.reject(new Error('llama.cpp simulator needs at least one model'));
  const created = unixSeconds();

  // Load state. single: always the one model. swap: at most one. router: LRU, up to MODELS_MAX.
  const resident = new Map<string, number>(mode === 'single' ? [[first.id, Date.now()]] : []);
  let inFlight = 0;

  const load = (m: ResolvedModel): void => {
    if (mode === 'single') return;
    if (mode === 'swap' && !resident.has(m.id)) resident.clear();
    resident.delete(m.id); // re-insert: Map order is the LRU order
    resident.set(m.id, Date.now());
    if (mode === 'router') while (resident.size > MODELS_MAX) resident.delete(resident.keys().next().value as string);
  };

  const resolve = (name: string | undefined): ResolvedModel | undefined =>
    mode === 'single' ? first : name === undefined ? undefined : models.get(name);

  const flavour: CompatFlavour = {
    style: 'llamacpp',
    systemFingerprint: BUILD,
    reasoningField: 'reasoning_content',
    timings: true,
    resolve,
    notFound(x, name) {
      if (name === undefined) sendError(x, 400, "missing or invalid 'model' key", { type: 'invalid_request_error' });
      else sendError(x, 404, `model '${name}' not found`, { type: 'not_found_error' });
    },
    onUse(m, x) {
      load(m);
      inFlight++;
      x.res.once('close', () => inFlight--);
    },
  };

  const meta = (m: ResolvedModel): Record<string, unknown> => ({
    vocab_type: 2,
    n_vocab: 151_936,
    n_ctx_train: m.contextLength,
    n_embd: m.embeddingDim,
    n_params: Math.round(m.parameterSizeB * 1e9),
    size: m.sizeBytes,
  });
  const architecture = (m: ResolvedModel): Record<string, unknown> => ({
    input_modalities: m.vision ? ['text', 'image'] : ['text'],
    output_modalities: ['text'],
  });
  const modelPath = (m: ResolvedModel): string => `/models/${m.id.replace(/[:/]/g, '-')}.${m.quantization}.gguf`;
  const status = (m: ResolvedModel): string => (resident.has(m.id) ? 'loaded' : 'unloaded');

  const listModels = (): unknown => {
    if (mode === 'single') {
      return {
        object: 'list',
        data: [{ id: first.id, object: 'model', created, owned_by: 'llamacpp', architecture: architecture(first), meta: meta(first) }],
      };
    }
    if (mode === 'swap') {
      return {
        object: 'list',
        data: [...models.values()].map((m) => ({
          id: m.id,
          object: 'model',
          created,
          owned_by: 'llama-swap',
          name: m.id,
          description: `${m.family} ${m.parameterSizeB}B ${m.quantization}`,
          status: { value: status(m) },
          meta: { llamaswap: {}, n_ctx: m.contextLength },
        })),
      };
    }
    return {
      object: 'list',
      data: [...models.values()].map((m) => ({
        id: m.id,
        object: 'model',
        owned_by: 'llamacpp',
        created,
        path: modelPath(m),
        status: { value: status(m), args: ['llama-server', '-m', modelPath(m), '--ctx-size', String(m.contextLength)] },
        architecture: architecture(m),
      })),
    };
  };

  const generationSettings = (m: ResolvedModel, id: number, processing: boolean): Record<string, unknown> => ({
    id,
    id_task: processing ? 1 : -1,
    n_ctx: m.contextLength,
    speculative: false,
    is_processing: processing,
    params: {
      n_predict: -1,
      seed: 4294967295,
      temperature: 0.8,
      dynatemp_range: 0,
      dynatemp_exponent: 1,
      top_k: 40,
      top_p: 0.95,
      min_p: 0.05,
      typical_p: 1,
      repeat_last_n: 64,
      repeat_penalty: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      mirostat: 0,
      stop: [],
      n_keep: 0,
      n_discard: 0,
      ignore_eos: false,
      stream: true,
      n_probs: 0,
      min_keep: 0,
      samplers: ['penalties', 'dry', 'top_n_sigma', 'top_k', 'typ_p', 'top_p', 'min_p', 'xtc', 'temperature'],
    },
    prompt: '',
    next_token: { has_next_token: true, has_new_line: false, n_remain: -1, n_decoded: 0, stopping_word: '' },
  });

  const props = (m: ResolvedModel): Record<string, unknown> => {
    const chatTemplate = '{%- for message in messages -%}{{ message.role }}: {{ message.content }}\n{%- endfor -%}';
    if (propsStyle === 'legacy') {
      return { default_generation_settings: generationSettings(m, 0, false), total_slots: TOTAL_SLOTS, model_path: modelPath(m), chat_template: chatTemplate };
    }
    return {
      default_generation_settings: generationSettings(m, 0, false),
      total_slots: TOTAL_SLOTS,
      model_path: modelPath(m),
      chat_template: chatTemplate,
      chat_template_caps: { supports_tools: m.tools, supports_tool_calls: m.tools, supports_system_role: true, supports_parallel_tool_calls: m.tools },
      modalities: { vision: m.vision, audio: false },
      media_marker: '<__media__>',
      build_info: BUILD,
      is_sleeping: false,
    };
  };

  /** The model a GET names with ?model= (router/swap), or the loaded/first one. */
  const modelForGet = (x: Exchange, forced?: ResolvedModel): ResolvedModel | undefined => {
    if (forced) return forced;
    if (mode === 'single') return first;
    const name = x.query.get('model');
    if (name) return models.get(name);
    const loadedId = [...resident.keys()].pop();
    return loadedId ? models.get(loadedId) : first;
  };

  async function handle(x: Exchange): Promise<void> {
    if (!PUBLIC.has(x.path) && !checkBearer(x, o.apiKey)) return;
    let forced: ResolvedModel | undefined;
    // llama-swap: /upstream/{model}/… talks straight to that model's llama-server (loading it).
    if (mode === 'swap' && x.path.startsWith('/upstream/')) {
      const m = /^\/upstream\/([^/]+)(\/.*)?$/.exec(x.path);
      const target = m ? models.get(decodeURIComponent(m[1])) : undefined;
      if (!target) {
        sendError(x, 404, `model '${m ? decodeURIComponent(m[1]) : ''}' not found`, { type: 'not_found_error' });
        return;
      }
      load(target);
      forced = target;
      x.path = m?.[2] ?? '/';
      if (isRecord(x.body)) x.body.model = target.id;
    }
    const { method, path } = x;
    const get = method === 'GET' || method === 'HEAD';

    if (get && (path === '/health' || path === '/v1/health')) {
      if (mode === 'swap' && !forced) sendText(x, 200, 'OK');
      else sendJson(x, 200, { status: 'ok' });
      return;
    }
    if (get && (path === '/v1/models' || path === '/models')) {
      sendJson(x, 200, listModels());
      return;
    }
    if (get && path === '/props' && propsStyle !== 'missing') {
      const m = modelForGet(x, forced);
      if (m) sendJson(x, 200, props(m));
      else flavour.notFound(x, x.query.get('model') ?? undefined);
      return;
    }
    if (get && path === '/slots') {
      const m = modelForGet(x, forced);
      if (!m) return flavour.notFound(x, x.query.get('model') ?? undefined);
      const slots = Array.from({ length: TOTAL_SLOTS }, (_, i) => generationSettings(m, i, i < inFlight));
      if (x.query.get('fail_on_no_slot') === '1' && inFlight >= TOTAL_SLOTS) {
        sendError(x, 503, 'no slot available', { type: 'unavailable_error' });
      } else sendJson(x, 200, slots);
      return;
    }
    if (get && path === '/metrics') {
      sendError(x, 501, 'This server does not support metrics endpoint. Start it with `--metrics`', { type: 'not_supported_error' });
      return;
    }
    if (method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
      if (o.jinja === false && isRecord(x.body) && Array.isArray(x.body.tools) && x.body.tools.length > 0) {
        sendError(x, 500, 'tools param requires --jinja flag', { type: 'server_error' });
        return;
      }
      return handleChatCompletions(x, forced ? { ...flavour, resolve: () => forced } : flavour);
    }
    if (method === 'POST' && (path === '/v1/embeddings' || path === '/embeddings')) {
      return handleEmbeddings(x, forced ? { ...flavour, resolve: () => forced } : flavour);
    }
    if (method === 'POST' && path === '/completion') return handleCompletion(x, forced ?? resolve(isRecord(x.body) && typeof x.body.model === 'string' ? x.body.model : undefined));

    if (mode === 'swap') {
      if (path === '/running' && get) {
        const running = [...resident.keys()].sort().map((id) => ({
          model: id,
          state: 'ready',
          cmd: `llama-server --port 5800 -m ${modelPath(models.get(id) as ResolvedModel)}`,
          proxy: 'http://127.0.0.1:5800',
          ttl: 0,
          name: id,
          description: '',
        }));
        sendJson(x, 200, { running });
        return;
      }
      if (path === '/unload' && (get || method === 'POST')) {
        resident.clear();
        sendText(x, 200, 'OK');
        return;
      }
      if (method === 'POST' && path === '/api/models/unload') {
        resident.clear();
        sendText(x, 200, 'OK');
        return;
      }
      const one = /^\/api\/models\/unload\/(.+)$/.exec(path);
      if (method === 'POST' && one) {
        const id = decodeURIComponent(one[1]);
        if (!models.has(id)) return flavour.notFound(x, id);
        resident.delete(id);
        sendText(x, 200, 'OK');
        return;
      }
    }
    if (mode === 'router' && method === 'POST' && (path === '/models/load' || path === '/models/unload')) {
      const name = isRecord(x.body) && typeof x.body.model === 'string' ? x.body.model : undefined;
      const m = name === undefined ? undefined : models.get(name);
      if (!m) return flavour.notFound(x, name);
      if (path === '/models/load') load(m);
      else resident.delete(m.id);
      sendJson(x, 200, { success: true });
      return;
    }
    sendError(x, 404, 'File Not Found', { type: 'not_found_error' });
  }

  /** Native POST /completion (raw prompt, llama.cpp's own response shape). */
  async function handleCompletion(x: Exchange, m: ResolvedModel | undefined): Promise<void> {
    const body = isRecord(x.body) ? x.body : {};
    if (!m) return flavour.notFound(x, typeof body.model === 'string' ? body.model : undefined);
    const prompt = typeof body.prompt === 'string' ? body.prompt : Array.isArray(body.prompt) ? body.prompt.join(' ') : '';
    const input: ChatInput = {
      messages: [{ role: 'user', text: prompt, images: [] }],
      tools: [],
      maxTokens: typeof body.n_predict === 'number' && body.n_predict >= 0 ? body.n_predict : undefined,
      stop: Array.isArray(body.stop) ? body.stop.filter((s): s is string => typeof s === 'string') : [],
      temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
      seed: typeof body.seed === 'number' ? body.seed : undefined,
      think: false,
    };
    flavour.onUse?.(m, x);
    const t0 = performance.now();
    const a = generateAnswer(m, input);
    const content = a.contentPieces.join('');
    const final = (): Record<string, unknown> => {
      const predictedMs = m.tokensPerSecond > 0 ? (a.completionTokens * 1000) / m.tokensPerSecond : Math.max(0.001, performance.now() - t0);
      return {
        index: 0,
        content: body.stream === true ? '' : content,
        tokens: [],
        id_slot: 0,
        stop: true,
        model: m.id,
        tokens_predicted: a.completionTokens,
        tokens_evaluated: a.promptTokens,
        generation_settings: generationSettings(m, 0, false).params,
        prompt,
        has_new_line: content.includes('\n'),
        truncated: false,
        stop_type: a.finishReason === 'length' ? 'limit' : input.stop.length && !content ? 'word' : 'eos',
        stopping_word: '',
        tokens_cached: a.promptTokens + a.completionTokens,
        timings: {
          cache_n: 0,
          prompt_n: a.promptTokens,
          prompt_ms: Math.max(0.001, m.firstTokenMs),
          predicted_n: a.completionTokens,
          predicted_ms: predictedMs,
          predicted_per_second: (a.completionTokens * 1000) / predictedMs,
        },
      };
    };
    if (body.stream === true) {
      const frames: Frame[] = a.contentPieces.map((p, i) => ({
        text: `data: ${JSON.stringify({ index: 0, content: p, tokens: [], stop: false, id_slot: -1, tokens_predicted: i + 1, tokens_evaluated: a.promptTokens })}\n\n`,
        token: true,
      }));
      frames.push({ text: () => `data: ${JSON.stringify(final())}\n\n`, token: false });
      await streamFrames(x, m, frames, { contentType: 'text/event-stream', garbage: 'data: {"content": "\n\n' });
      return;
    }
    if (!(await waitForGeneration(x, m, a.completionTokens))) return;
    sendJson(x, 200, final());
  }

  return startServer({
    options: o,
    styleFor: () => 'llamacpp',
    // Single mode serves whatever name the client sends with its one model.
    canonical: (name) => (mode === 'single' ? first.id : name),
    handle,
    loaded: () => [...resident.keys()],
  });
}
