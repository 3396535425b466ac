/**
 * POST /v1/chat/completions and POST /v1/embeddings, shared by the three simulators that speak the
 * OpenAI wire format (OpenAI itself, llama.cpp server and Ollama's compatibility routes). The flavour
 * carries the differences: error envelope, reasoning field name, llama.cpp `timings`, fingerprints.
 */
import { generateAnswer, type Answer, type ChatInput, type SimMessage, type SimTool } from './answers.js';
import { embedText, toBase64Float32 } from './embeddings.js';
import { sendError, sendJson, streamFrames, waitForGeneration, type ErrorStyle, type Exchange, type Frame } from './server.js';
import { countTokens, isRecord, randomId, unixSeconds, type ResolvedModel } from './util.js';

export interface CompatFlavour {
  style: ErrorStyle;
  systemFingerprint: string;
  /** Where reasoning text goes: `reasoning_content` (OpenAI-style servers, llama.cpp) or `reasoning` (Ollama). */
  reasoningField: 'reasoning_content' | 'reasoning';
  /** llama.cpp adds a `timings` object to responses. */
  timings: boolean;
  /** Model named by the request; undefined when unknown (the caller's notFound answers). */
  resolve(name: string | undefined): ResolvedModel | undefined;
  notFound(x: Exchange, name: string | undefined): void;
  /** Called before generation: loading/swapping bookkeeping. */
  onUse?(m: ResolvedModel, x: Exchange): void;
  /** Called after the response ended. */
  onDone?(m: ResolvedModel, x: Exchange): void;
}

// ---------------------------------------------------------------------------------------------
// Request parsing

function textOf(content: unknown, images: string[]): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const p of content) {
    if (typeof p === 'string') parts.push(p);
    else if (isRecord(p)) {
      if (p.type === 'text' && typeof p.text === 'string') parts.push(p.text);
      else if (p.type === 'image_url') {
        const u = p.image_url;
        images.push(typeof u === 'string' ? u : isRecord(u) && typeof u.url === 'string' ? u.url : '');
      }
    }
  }
  return parts.join('\n');
}

export function parseOpenAIMessages(raw: unknown[]): SimMessage[] {
  return raw.filter(isRecord).map((m) => {
    const images: string[] = [];
    const text = textOf(m.content, images);
    return { role: typeof m.role === 'string' ? m.role : 'user', text, images };
  });
}

function parseTools(body: Record<string, unknown>): SimTool[] {
  const out: SimTool[] = [];
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      if (isRecord(t) && isRecord(t.function) && typeof t.function.name === 'string') {
        out.push({ name: t.function.name, description: t.function.description as string | undefined, parameters: t.function.parameters });
      }
    }
  }
  if (Array.isArray(body.functions)) {
    for (const f of body.functions) if (isRecord(f) && typeof f.name === 'string') out.push({ name: f.name, parameters: f.parameters });
  }
  return out;
}

function parseToolChoice(v: unknown): ChatInput['toolChoice'] {
  if (v === 'none' || v === 'auto' || v === 'required') return v;
  if (isRecord(v) && isRecord(v.function) && typeof v.function.name === 'string') return { name: v.function.name };
  return undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function stops(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function jsonFormat(v: unknown): ChatInput['json'] {
  if (!isRecord(v)) return undefined;
  if (v.type === 'json_object') return { schema: v.schema };
  if (v.type === 'json_schema') return { schema: isRecord(v.json_schema) ? v.json_schema.schema : v.schema };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Chat completions

export async function handleChatCompletions(x: Exchange, f: CompatFlavour): Promise<void> {
  const body = x.body;
  if (x.badJson || !isRecord(body)) {
    sendError(x, 400, 'We could not parse the JSON body of your request.', { type: 'invalid_request_error' });
    return;
  }
  const name = typeof body.model === 'string' ? body.model : undefined;
  if (f.style === 'openai' && !name) {
    sendError(x, 400, 'you must provide a model parameter', { param: 'model' });
    return;
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    sendError(x, 400, "[] is too short - 'messages'", { param: 'messages', code: 'empty_array' });
    return;
  }
  const m = f.resolve(name);
  if (!m) {
    f.notFound(x, name);
    return;
  }
  const messages = parseOpenAIMessages(body.messages);
  const tools = parseTools(body);
  if (!m.chat) {
    sendError(x, 400, `${m.id} does not support chat`, { type: 'invalid_request_error' });
    return;
  }
  if (tools.length && !m.tools) {
    sendError(x, 400, f.style === 'llamacpp' ? 'tools param requires --jinja flag' : `${m.id} does not support tools`, { param: 'tools' });
    return;
  }
  const imageAt = messages.findIndex((mm) => mm.images.length > 0);
  if (imageAt >= 0 && !m.vision) {
    const msg =
      f.style === 'llamacpp'
        ? 'image input is not supported - hint: if this is unexpected, you may need to provide the mmproj'
        : f.style === 'openai'
          ? 'Invalid content type. image_url is only supported by certain models.'
          : `${m.id} does not support images`;
    sendError(x, 400, msg, { param: `messages.[${imageAt}].content` });
    return;
  }

  const kwargs = isRecord(body.chat_template_kwargs) ? body.chat_template_kwargs : {};
  const think = kwargs.enable_thinking !== false && body.reasoning_effort !== 'none' && body.think !== false;
  const input: ChatInput = {
    messages,
    tools,
    toolChoice: parseToolChoice(body.tool_choice),
    maxTokens: num(body.max_completion_tokens) ?? num(body.max_tokens) ?? num(body.n_predict),
    stop: stops(body.stop),
    temperature: num(body.temperature),
    seed: num(body.seed),
    think,
    json: jsonFormat(body.response_format),
  };
  f.onUse?.(m, x);
  const t0 = performance.now();
  const answer = generateAnswer(m, input);
  // llama.cpp with reasoning_format "none" leaves the reasoning inline, wrapped in <think> tags.
  if (f.style === 'llamacpp' && body.reasoning_format === 'none' && answer.thinkingPieces.length) {
    answer.contentPieces = ['<think>', ...answer.thinkingPieces, '</think>', ...answer.contentPieces];
    answer.thinkingPieces = [];
  }
  const id = f.style === 'ollama' ? `chatcmpl-${Math.floor(Math.random() * 1000)}` : `chatcmpl-${randomId(29)}`;
  const created = unixSeconds();
  const model = name ?? m.id;
  const callId = f.style === 'llamacpp' ? randomId(32) : `call_${randomId(24)}`;
  const timings = (): Record<string, number> => {
    const predictedMs = m.tokensPerSecond > 0 ? (answer.completionTokens * 1000) / m.tokensPerSecond : Math.max(0.001, performance.now() - t0 - m.firstTokenMs);
    const promptMs = Math.max(0.001, m.firstTokenMs);
    return {
      cache_n: 0,
      prompt_n: answer.promptTokens,
      prompt_ms: promptMs,
      prompt_per_token_ms: promptMs / Math.max(1, answer.promptTokens),
      prompt_per_second: (answer.promptTokens * 1000) / promptMs,
      predicted_n: answer.completionTokens,
      predicted_ms: predictedMs,
      predicted_per_token_ms: predictedMs / Math.max(1, answer.completionTokens),
      predicted_per_second: (answer.completionTokens * 1000) / predictedMs,
    };
  };
  const usage = usageOf(answer, f);

  if (body.stream === true) {
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    const base = (): Record<string, unknown> => {
      const o: Record<string, unknown> = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: f.systemFingerprint };
      if (f.style === 'openai') o.service_tier = 'default';
      return o;
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra?: Record<string, unknown>): string => {
      const o = base();
      o.choices = [{ index: 0, delta, logprobs: null, finish_reason: finish }];
      if (includeUsage && f.style === 'openai') o.usage = null;
      if (extra) Object.assign(o, extra);
      return `data: ${JSON.stringify(o)}\n\n`;
    };
    const frames: Frame[] = [];
    const roleDelta: Record<string, unknown> = { role: 'assistant', content: answer.toolCall ? null : '' };
    if (f.style === 'openai') roleDelta.refusal = null;
    frames.push({ text: chunk(roleDelta), token: false });
    for (const p of answer.thinkingPieces) frames.push({ text: chunk({ [f.reasoningField]: p }), token: true });
    for (const p of answer.contentPieces) frames.push({ text: chunk({ content: p }), token: true });
    if (answer.toolCall) {
      const tc = answer.toolCall;
      frames.push({
        text: chunk({ tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tc.name, arguments: '' } }] }),
        token: true,
      });
      for (let i = 0; i < tc.argumentsJson.length; i += 12) {
        frames.push({ text: chunk({ tool_calls: [{ index: 0, function: { arguments: tc.argumentsJson.slice(i, i + 12) } }] }), token: true });
      }
    }
    frames.push({ text: () => chunk({}, answer.finishReason, f.timings ? { timings: timings() } : undefined), token: false });
    if (includeUsage) {
      frames.push({
        text: () => {
          const o = base();
          o.choices = [];
          o.usage = usage;
          if (f.timings) o.timings = timings();
          return `data: ${JSON.stringify(o)}\n\n`;
        },
        token: false,
      });
    }
    frames.push({ text: 'data: [DONE]\n\n', token: false });
    const ok = await streamFrames(x, m, frames, {
      contentType: 'text/event-stream',
      garbage: `data: {"id":"${id}","object":"chat.completion.chunk","choices":[{"delta":{"content":\n\n`,
    });
    if (ok) f.onDone?.(m, x);
    return;
  }

  if (!(await waitForGeneration(x, m, answer.completionTokens))) return;
  const message: Record<string, unknown> = { role: 'assistant', content: answer.toolCall ? null : answer.contentPieces.join('') };
  if (answer.thinkingPieces.length) message[f.reasoningField] = answer.thinkingPieces.join('');
  if (answer.toolCall) {
    message.tool_calls = [{ id: callId, type: 'function', function: { name: answer.toolCall.name, arguments: answer.toolCall.argumentsJson } }];
  }
  if (f.style === 'openai') {
    message.refusal = null;
    message.annotations = [];
  }
  const response: Record<string, unknown> = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finishReason }],
    usage,
    system_fingerprint: f.systemFingerprint,
  };
  if (f.style === 'openai') response.service_tier = 'default';
  if (f.timings) response.timings = timings();
  sendJson(x, 200, response);
  f.onDone?.(m, x);
}

function usageOf(a: Answer, f: CompatFlavour): Record<string, unknown> {
  const u: Record<string, unknown> = {
    prompt_tokens: a.promptTokens,
    completion_tokens: a.completionTokens,
    total_tokens: a.promptTokens + a.completionTokens,
  };
  if (f.style === 'openai') {
    u.prompt_tokens_details = { cached_tokens: 0, audio_tokens: 0 };
    u.completion_tokens_details = {
      reasoning_tokens: a.thinkingPieces.length,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    };
  } else if (f.style === 'llamacpp') u.prompt_tokens_details = { cached_tokens: 0 };
  return u;
}

// ---------------------------------------------------------------------------------------------
// Embeddings

export async function handleEmbeddings(x: Exchange, f: CompatFlavour): Promise<void> {
  const body = x.body;
  if (x.badJson || !isRecord(body)) {
    sendError(x, 400, 'We could not parse the JSON body of your request.');
    return;
  }
  const name = typeof body.model === 'string' ? body.model : undefined;
  if (f.style === 'openai' && !name) {
    sendError(x, 400, 'you must provide a model parameter', { param: 'model' });
    return;
  }
  const texts = embeddingInputs(body.input);
  if (!texts) {
    sendError(x, 400, "'input' : input must be a non-empty string or array", { param: 'input' });
    return;
  }
  const m = f.resolve(name);
  if (!m) {
    f.notFound(x, name);
    return;
  }
  if (!m.embeddings) {
    if (f.style === 'llamacpp') {
      sendError(x, 501, 'This server does not support embeddings. Start it with `--embeddings`', { type: 'not_supported_error' });
    } else sendError(x, 400, `${m.id} does not support embeddings`, { param: 'model' });
    return;
  }
  f.onUse?.(m, x);
  const dim = num(body.dimensions) && (body.dimensions as number) > 0 ? Math.floor(body.dimensions as number) : m.embeddingDim;
  const base64 = body.encoding_format === 'base64';
  let tokens = 0;
  const data = texts.map((t, index) => {
    tokens += countTokens(t);
    const v = embedText(t, dim, m.id);
    return { object: 'embedding', index, embedding: base64 ? toBase64Float32(v) : v };
  });
  if (!(await waitForGeneration(x, m, 0))) return;
  sendJson(x, 200, { object: 'list', data, model: name ?? m.id, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  f.onDone?.(m, x);
}

/** string | string[] | number[] | number[][] (token ids, embedded as their text form); null if empty. */
export function embeddingInputs(input: unknown): string[] | null {
  if (typeof input === 'string') return input.length ? [input] : null;
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((v) => typeof v === 'number')) return [input.join(' ')];
  const out: string[] = [];
  for (const v of input) {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) out.push(v.join(' '));
    else return null;
  }
  return out;
}
