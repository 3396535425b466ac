/**
 * Ollama simulator: the native API (/api/tags, /api/show, /api/ps, /api/chat, /api/generate,
 * /api/embed, /api/embeddings, /api/version, GET|HEAD /) and its OpenAI-compatible routes
 * (/v1/chat/completions, /v1/embeddings, /v1/models[/{id}]).
 *
 * Load state follows Ollama: a request loads its model for `keep_alive` (default 5 minutes, 0 = unload
 * right after, negative = forever); `messages: []` / an empty prompt only loads (or, with
 * keep_alive 0, unloads). Several models may be resident at once.
 */
import { generateAnswer, type ChatInput, type SimMessage, type SimTool } from './answers.js';
import { embedText } from './embeddings.js';
import { handleChatCompletions, handleEmbeddings, type CompatFlavour } from './openai-compat.js';
import { checkBearer, sendError, sendJson, sendText, startServer, streamFrames, waitForGeneration, type Exchange, type Frame } from './server.js';
import type { RunningSimulator, SimulatorOptions } from './types.js';
import { countTokens, isRecord, resolveModel, unixSeconds, type ResolvedModel } from './util.js';

const VERSION = '0.12.6';
const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;
/** What Ollama reports as expiry for "keep forever" (negative keep_alive): far in the future. */
const FOREVER_MS = 300 * 365 * 24 * 3600_000;

/** keep_alive: Go duration string ("5m", "1h30m", "0"), or a number of seconds; negative = forever. */
export function parseKeepAlive(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 0 ? Infinity : v * 1000;
  if (typeof v !== 'string' || v.trim() === '') return DEFAULT_KEEP_ALIVE_MS;
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) < 0 ? Infinity : Number(s) * 1000;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = '';
  for (const m of s.replace(/^-/, '').matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * unit[m[2]];
    matched += m[0];
  }
  if (matched !== s.replace(/^-/, '')) return DEFAULT_KEEP_ALIVE_MS; // unparseable: Ollama would 400; be lenient
  return s.startsWith('-') ? Infinity : total;
}

function parameterSize(b: number): string {
  return b < 1 ? `${Math.round(b * 1000 * 100) / 100}M` : `${Math.round(b * 10) / 10}B`;
}

const MODIFIED_AT = new Date(Date.now() - 86_400_000 * 3).toISOString();

/** The Ollama simulator also tells which models left memory, so tests can check what was unloaded. */
export interface OllamaSimulator extends RunningSimulator {
  /** Model ids in the order they left memory (keep_alive 0 or expiry), oldest first. */
  unloads(): string[];
}

export async function startOllamaSimulator(o: SimulatorOptions): Promise<OllamaSimulator> {
  const models = new Map(o.models.map((m) => [m.id, resolveModel(m)]));
  /** id -> when its keep_alive runs out (ms since epoch), plus the context it was loaded with. */
  const resident = new Map<string, { expiresAt: number; ctx: number }>();
  const unloadLog: string[] = [];
  const unload = (id: string): void => {
    if (resident.delete(id)) unloadLog.push(id);
  };

  const canonical = (name: string): string => {
    if (models.has(name)) return name;
    if (!name.includes(':') && models.has(`${name}:latest`)) return `${name}:latest`;
    if (name.endsWith(':latest') && models.has(name.slice(0, -7))) return name.slice(0, -7);
    return name;
  };
  const find = (name: string | undefined): ResolvedModel | undefined => (name === undefined ? undefined : models.get(canonical(name)));

  const prune = (): void => {
    const now = Date.now();
    for (const [id, r] of resident) if (r.expiresAt <= now) unload(id);
  };
  const load = (m: ResolvedModel, keepAliveMs: number, ctx?: number): boolean => {
    prune();
    const was = resident.has(m.id);
    const expiresAt = Date.now() + Math.min(keepAliveMs, FOREVER_MS);
    resident.set(m.id, { expiresAt, ctx: ctx ?? resident.get(m.id)?.ctx ?? Math.min(m.contextLength, 4096) });
    return !was;
  };
  /** After a request: keep_alive 0 unloads, otherwise the expiry counts from now. */
  const release = (m: ResolvedModel, keepAliveMs: number): void => {
    if (keepAliveMs <= 0) unload(m.id);
    else {
      const r = resident.get(m.id);
      if (r) r.expiresAt = Date.now() + Math.min(keepAliveMs, FOREVER_MS);
    }
  };

  const details = (m: ResolvedModel): Record<string, unknown> => ({
    parent_model: '',
    format: 'gguf',
    family: m.family,
    families: [m.family],
    parameter_size: parameterSize(m.parameterSizeB),
    quantization_level: m.quantization,
  });
  const capabilities = (m: ResolvedModel): string[] => {
    const caps: string[] = [];
    if (m.chat) caps.push('completion');
    if (m.tools) caps.push('tools');
    if (m.vision) caps.push('vision');
    if (m.embeddings) caps.push('embedding');
    if (m.thinking) caps.push('thinking');
    return caps;
  };
  const notFound = (x: Exchange, name: string | undefined): void => {
    if (name === undefined || name === '') sendError(x, 400, 'model is required');
    else sendError(x, 404, `model '${name}' not found`);
  };
  const createdAt = (): string => new Date().toISOString();

  const compat: CompatFlavour = {
    style: 'ollama',
    systemFingerprint: 'fp_ollama',
    reasoningField: 'reasoning',
    timings: false,
    resolve: find,
    notFound(x, name) {
      sendError(x, 404, `model "${name ?? ''}" not found, try pulling it first`, { type: 'api_error' });
    },
    onUse(m) {
      load(m, DEFAULT_KEEP_ALIVE_MS);
    },
    onDone(m) {
      release(m, DEFAULT_KEEP_ALIVE_MS);
    },
  };

  async function handle(x: Exchange): Promise<void> {
    const { method, path } = x;
    const get = method === 'GET' || method === 'HEAD';
    if (get && path === '/') {
      sendText(x, 200, 'Ollama is running');
      return;
    }
    if (!checkBearer(x, o.apiKey)) return;
    if (get && path === '/api/version') return sendJson(x, 200, { version: VERSION });
    if (get && path === '/api/tags') {
      return sendJson(x, 200, {
        models: [...models.values()].map((m) => ({
          name: m.id,
          model: m.id,
          modified_at: MODIFIED_AT,
          size: m.sizeBytes,
          digest: m.digest,
          details: details(m),
        })),
      });
    }
    if (get && path === '/api/ps') {
      prune();
      return sendJson(x, 200, {
        models: [...resident].map(([id, r]) => {
          const m = models.get(id) as ResolvedModel;
          return {
            name: id,
            model: id,
            size: m.sizeBytes,
            digest: m.digest,
            details: details(m),
            expires_at: new Date(r.expiresAt).toISOString(),
            size_vram: m.sizeBytes,
            context_length: r.ctx,
          };
        }),
      });
    }
    if (method === 'POST' && path === '/api/show') return show(x);
    if (method === 'POST' && path === '/api/chat') return chat(x);
    if (method === 'POST' && path === '/api/generate') return generate(x);
    if (method === 'POST' && path === '/api/embed') return embed(x, false);
    if (method === 'POST' && path === '/api/embeddings') return embed(x, true);
    if (method === 'POST' && path === '/v1/chat/completions') return handleChatCompletions(x, compat);
    if (method === 'POST' && path === '/v1/embeddings') return handleEmbeddings(x, compat);
    if (get && path === '/v1/models') {
      return sendJson(x, 200, {
        object: 'list',
        data: [...models.values()].map((m) => ({ id: m.id, object: 'model', created: unixSeconds(), owned_by: 'library' })),
      });
    }
    if (get && path.startsWith('/v1/models/')) {
      const m = find(decodeURIComponent(path.slice('/v1/models/'.length)));
      if (!m) return compat.notFound(x, decodeURIComponent(path.slice('/v1/models/'.length)));
      return sendJson(x, 200, { id: m.id, object: 'model', created: unixSeconds(), owned_by: 'library' });
    }
    sendText(x, 404, '404 page not found');
  }

  function body(x: Exchange): Record<string, unknown> | undefined {
    if (x.badJson || (x.body !== undefined && !isRecord(x.body))) {
      sendError(x, 400, 'invalid character in request body');
      return undefined;
    }
    return (x.body ?? {}) as Record<string, unknown>;
  }

  async function show(x: Exchange): Promise<void> {
    const b = body(x);
    if (!b) return;
    const name = typeof b.model === 'string' ? b.model : typeof b.name === 'string' ? b.name : undefined;
    const m = find(name);
    if (!m) return notFound(x, name);
    const arch = m.family;
    const modelInfo: Record<string, unknown> = {
      'general.architecture': arch,
      'general.basename': m.id.split(':')[0],
      'general.file_type': 15,
      'general.parameter_count': Math.round(m.parameterSizeB * 1e9),
      'general.quantization_version': 2,
      [`${arch}.attention.head_count`]: 32,
      [`${arch}.block_count`]: 32,
      [`${arch}.context_length`]: m.contextLength,
      [`${arch}.embedding_length`]: m.embeddingDim,
      'tokenizer.ggml.model': 'gpt2',
      'tokenizer.ggml.tokens': b.verbose === true ? ['<s>', '</s>'] : null,
    };
    const res: Record<string, unknown> = {
      license: 'Apache License 2.0',
      modelfile: `# Modelfile generated by "ollama show"\nFROM /root/.ollama/models/blobs/sha256-${m.digest}\nTEMPLATE {{ .Prompt }}\n`,
      parameters: 'temperature 0.7\nstop "<|im_end|>"',
      template: '{{- range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}',
      details: details(m),
      model_info: modelInfo,
      capabilities: capabilities(m),
      modified_at: MODIFIED_AT,
    };
    if (m.vision) res.projector_info = { 'clip.has_vision_encoder': true, 'general.architecture': 'clip' };
    sendJson(x, 200, res);
  }

  /** Shared validation for chat and generate; returns the model or answers the error. */
  function check(x: Exchange, name: string | undefined, messages: SimMessage[], tools: SimTool[], think: unknown): ResolvedModel | undefined {
    const m = find(name);
    if (!m) {
      notFound(x, name);
      return undefined;
    }
    if (!m.chat) return void sendError(x, 400, `"${m.id}" does not support ${x.path === '/api/chat' ? 'chat' : 'generate'}`);
    if (tools.length && !m.tools) return void sendError(x, 400, `registry.ollama.ai/library/${m.id} does not support tools`);
    if (think === true && !m.thinking) return void sendError(x, 400, `"${m.id}" does not support thinking`);
    if (messages.some((mm) => mm.images.length) && !m.vision) {
      return void sendError(x, 400, 'this model is missing data required for image input');
    }
    return m;
  }

  function optionsOf(b: Record<string, unknown>): Record<string, unknown> {
    return isRecord(b.options) ? b.options : {};
  }

  function inputOf(b: Record<string, unknown>, messages: SimMessage[], tools: SimTool[], m: ResolvedModel): ChatInput {
    const opts = optionsOf(b);
    const np = typeof opts.num_predict === 'number' ? opts.num_predict : undefined;
    return {
      messages,
      tools,
      maxTokens: np !== undefined && np >= 0 ? np : undefined, // -1 = unlimited, -2 = fill the context
      stop: typeof opts.stop === 'string' ? [opts.stop] : Array.isArray(opts.stop) ? opts.stop.filter((s): s is string => typeof s === 'string') : [],
      temperature: typeof opts.temperature === 'number' ? opts.temperature : undefined,
      seed: typeof opts.seed === 'number' ? opts.seed : undefined,
      think: b.think !== false && m.thinking,
      json: b.format === 'json' ? {} : isRecord(b.format) ? { schema: b.format } : undefined,
    };
  }

  /** Ollama metrics in ns; zero values are omitted, as Ollama's omitempty does. */
  function metrics(start: number, genStart: number, m: ResolvedModel, promptTokens: number, evalCount: number): Record<string, number> {
    const now = performance.now();
    const evalNs = m.tokensPerSecond > 0 ? Math.round((evalCount * 1e9) / m.tokensPerSecond) : Math.max(1, Math.round((now - genStart - m.firstTokenMs) * 1e6));
    const promptNs = Math.max(1, Math.round(m.firstTokenMs * 1e6));
    const loadNs = Math.max(1, Math.round((genStart - start) * 1e6));
    const out: Record<string, number> = {
      // Reported eval time follows tokensPerSecond exactly; keep the total at least the sum of its parts.
      total_duration: Math.max(Math.round((now - start) * 1e6), loadNs + promptNs + evalNs),
      load_duration: loadNs,
      prompt_eval_count: promptTokens,
      prompt_eval_duration: promptNs,
      eval_count: evalCount,
      eval_duration: evalNs,
    };
    for (const k of Object.keys(out)) if (out[k] === 0) delete out[k];
    return out;
  }

  async function chat(x: Exchange): Promise<void> {
    const start = performance.now();
    const b = body(x);
    if (!b) return;
    const name = typeof b.model === 'string' ? b.model : undefined;
    const keepAlive = parseKeepAlive(b.keep_alive);
    const rawMessages = Array.isArray(b.messages) ? b.messages.filter(isRecord) : [];
    const messages: SimMessage[] = rawMessages.map((mm) => ({
      role: typeof mm.role === 'string' ? mm.role : 'user',
      text: typeof mm.content === 'string' ? mm.content : '',
      images: Array.isArray(mm.images) ? mm.images.filter((i): i is string => typeof i === 'string') : [],
    }));
    const tools: SimTool[] = Array.isArray(b.tools)
      ? b.tools.filter((t) => isRecord(t) && isRecord(t.function) && typeof t.function.name === 'string').map((t) => {
          const fn = (t as { function: Record<string, unknown> }).function;
          return { name: fn.name as string, description: fn.description as string | undefined, parameters: fn.parameters };
        })
      : [];
    const m = check(x, name, messages, tools, b.think);
    if (!m) return;
    const model = name as string;

    if (messages.length === 0) {
      // Load / unload request.
      if (keepAlive <= 0) unload(m.id);
      else load(m, keepAlive, numCtx(b));
      return sendJson(x, 200, {
        model,
        created_at: createdAt(),
        message: { role: 'assistant', content: '' },
        done_reason: keepAlive <= 0 ? 'unload' : 'load',
        done: true,
      });
    }

    load(m, keepAlive === 0 ? DEFAULT_KEEP_ALIVE_MS : keepAlive, numCtx(b));
    const genStart = performance.now();
    const a = generateAnswer(m, inputOf(b, messages, tools, m));
    const doneReason = a.finishReason === 'length' ? 'length' : 'stop';
    const toolCalls = a.toolCall ? [{ id: `call_${m.digest.slice(0, 8)}${Math.floor(Math.random() * 1e8).toString(36)}`, function: { index: 0, name: a.toolCall.name, arguments: a.toolCall.arguments } }] : undefined;

    if (b.stream !== false) {
      const line = (message: Record<string, unknown>): (() => string) => () => `${JSON.stringify({ model, created_at: createdAt(), message, done: false })}\n`;
      const frames: Frame[] = [];
      for (const p of a.thinkingPieces) frames.push({ text: line({ role: 'assistant', content: '', thinking: p }), token: true });
      for (const p of a.contentPieces) frames.push({ text: line({ role: 'assistant', content: p }), token: true });
      if (toolCalls) frames.push({ text: line({ role: 'assistant', content: '', tool_calls: toolCalls }), token: true });
      frames.push({
        text: () =>
          `${JSON.stringify({
            model,
            created_at: createdAt(),
            message: { role: 'assistant', content: '' },
            done_reason: doneReason,
            done: true,
            ...metrics(start, genStart, m, a.promptTokens, a.completionTokens),
          })}\n`,
        token: false,
      });
      const ok = await streamFrames(x, m, frames, { contentType: 'application/x-ndjson', garbage: `{"model":"${model}","created_at":"${createdAt()}","message":{"role":"assistant","content":"\n` });
      if (ok) release(m, keepAlive);
      return;
    }
    if (!(await waitForGeneration(x, m, a.completionTokens))) return;
    const message: Record<string, unknown> = { role: 'assistant', content: a.contentPieces.join('') };
    if (a.thinkingPieces.length) message.thinking = a.thinkingPieces.join('');
    if (toolCalls) message.tool_calls = toolCalls;
    sendJson(x, 200, {
      model,
      created_at: createdAt(),
      message,
      done_reason: doneReason,
      done: true,
      ...metrics(start, genStart, m, a.promptTokens, a.completionTokens),
    });
    release(m, keepAlive);
  }

  async function generate(x: Exchange): Promise<void> {
    const start = performance.now();
    const b = body(x);
    if (!b) return;
    const name = typeof b.model === 'string' ? b.model : undefined;
    const keepAlive = parseKeepAlive(b.keep_alive);
    const prompt = typeof b.prompt === 'string' ? b.prompt : '';
    const images = Array.isArray(b.images) ? b.images.filter((i): i is string => typeof i === 'string') : [];
    const messages: SimMessage[] = [];
    if (typeof b.system === 'string' && b.system) messages.push({ role: 'system', text: b.system, images: [] });
    messages.push({ role: 'user', text: prompt, images });
    const m = check(x, name, messages, [], b.think);
    if (!m) return;
    const model = name as string;

    if (prompt === '' && images.length === 0) {
      if (keepAlive <= 0) {
        unload(m.id);
        return sendJson(x, 200, { model, created_at: createdAt(), response: '', done: true, done_reason: 'unload' });
      }
      load(m, keepAlive, numCtx(b));
      return sendJson(x, 200, { model, created_at: createdAt(), response: '', done: true });
    }

    load(m, keepAlive === 0 ? DEFAULT_KEEP_ALIVE_MS : keepAlive, numCtx(b));
    const genStart = performance.now();
    const a = generateAnswer(m, inputOf(b, messages, [], m));
    const doneReason = a.finishReason === 'length' ? 'length' : 'stop';
    // `context` encodes the conversation for the (deprecated) follow-up; raw mode omits it.
    const context = b.raw === true ? undefined : Array.from({ length: Math.min(a.promptTokens + a.completionTokens, 512) }, (_, i) => 100 + ((i * 7919) % 32000));
    const final = (response: string): Record<string, unknown> => ({
      model,
      created_at: createdAt(),
      response,
      ...(a.thinkingPieces.length && b.stream === false ? { thinking: a.thinkingPieces.join('') } : {}),
      done: true,
      done_reason: doneReason,
      ...(context ? { context } : {}),
      ...metrics(start, genStart, m, a.promptTokens, a.completionTokens),
    });

    if (b.stream !== false) {
      const line = (extra: Record<string, unknown>): (() => string) => () => `${JSON.stringify({ model, created_at: createdAt(), ...extra, done: false })}\n`;
      const frames: Frame[] = [];
      for (const p of a.thinkingPieces) frames.push({ text: line({ response: '', thinking: p }), token: true });
      for (const p of a.contentPieces) frames.push({ text: line({ response: p }), token: true });
      frames.push({ text: () => `${JSON.stringify(final(''))}\n`, token: false });
      const ok = await streamFrames(x, m, frames, { contentType: 'application/x-ndjson', garbage: `{"model":"${model}","response":"\n` });
      if (ok) release(m, keepAlive);
      return;
    }
    if (!(await waitForGeneration(x, m, a.completionTokens))) return;
    sendJson(x, 200, final(a.contentPieces.join('')));
    release(m, keepAlive);
  }

  async function embed(x: Exchange, legacy: boolean): Promise<void> {
    const start = performance.now();
    const b = body(x);
    if (!b) return;
    const name = typeof b.model === 'string' ? b.model : undefined;
    const m = find(name);
    if (!m) return notFound(x, name);
    if (!m.embeddings) return sendError(x, 400, 'this model does not support embeddings');
    const keepAlive = parseKeepAlive(b.keep_alive);
    load(m, keepAlive === 0 ? DEFAULT_KEEP_ALIVE_MS : keepAlive);
    const dim = typeof b.dimensions === 'number' && b.dimensions > 0 ? Math.floor(b.dimensions) : m.embeddingDim;
    if (legacy) {
      const prompt = typeof b.prompt === 'string' ? b.prompt : '';
      if (!(await waitForGeneration(x, m, 0))) return;
      // Ollama answers an empty prompt with an empty vector rather than an error.
      sendJson(x, 200, { embedding: prompt ? embedText(prompt, dim, m.id) : [] });
      release(m, keepAlive);
      return;
    }
    const inputs = typeof b.input === 'string' ? [b.input] : Array.isArray(b.input) ? b.input.filter((s): s is string => typeof s === 'string') : null;
    if (!inputs) return sendError(x, 400, 'invalid input type');
    const genStart = performance.now();
    const embeddings = inputs.map((t) => embedText(t, dim, m.id));
    if (!(await waitForGeneration(x, m, 0))) return;
    const now = performance.now();
    sendJson(x, 200, {
      model: name,
      embeddings,
      total_duration: Math.max(1, Math.round((now - start) * 1e6)),
      load_duration: Math.max(1, Math.round((genStart - start) * 1e6)),
      prompt_eval_count: inputs.reduce((n, t) => n + countTokens(t), 0),
    });
    release(m, keepAlive);
  }

  const numCtx = (b: Record<string, unknown>): number | undefined => {
    const n = optionsOf(b).num_ctx;
    return typeof n === 'number' && n > 0 ? n : undefined;
  };

  const running = await startServer({
    options: o,
    styleFor: (path) => (path.startsWith('/v1/') ? 'openai' : 'ollama'),
    canonical,
    handle,
    loaded: () => {
      prune();
      return [...resident.keys()];
    },
  });
  return Object.assign(running, {
    unloads: () => {
      prune();
      return [...unloadLog];
    },
  });
}
