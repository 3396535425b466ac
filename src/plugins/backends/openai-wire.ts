/**
 * The OpenAI chat-completions wire format, shared by every backend that speaks it (OpenAI itself,
 * vLLM, LM Studio, llama-server, llama-swap, ...): our ChatRequest -> request body, and the SSE
 * stream -> typed ChatStreamParts. Non-streaming answers are not a separate path: the router
 * collects the stream.
 */
import {
  PluginError,
  type ChatMessage,
  type ChatRequest,
  type ChatStreamPart,
  type ContentPart,
  type EmbedRequest,
  type EmbedResult,
  type FinishReason,
  type PluginErrorCode,
  type ToolChoice,
} from '../../plugin-api/index.js';
import { codeForStatus, errorMessageFrom, readJson, request, requestAnswer, responseAnswer, type Answer, type HttpTarget } from './http.js';

// ---------------------------------------------------------------------------------------------
// Request mapping

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type OpenAIContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };

export interface OpenAIMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | OpenAIContentPart[] | null;
  name?: string;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
}

export interface ChatBodyOptions {
  /**
   * Field for the answer length. OpenAI's reasoning models reject the deprecated `max_tokens`;
   * most other servers (llama.cpp, older vLLM) only know `max_tokens`.
   */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** providerOptions namespaces this plugin honours (e.g. ["openai"]); their keys are merged into the body. */
  providerNamespaces?: string[];
}

/** Body fields the router owns: providerOptions may not override them. */
const RESERVED_FIELDS = new Set(['model', 'messages', 'stream', 'stream_options']);

export function toOpenAIChatBody(req: ChatRequest, options: ChatBodyOptions = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: req.model,
    messages: req.messages.map(toOpenAIMessage),
    stream: true,
    // Without it OpenAI-compatible servers send no token counts in a stream.
    stream_options: { include_usage: true },
  };
  if (req.tools?.length) {
    body.tools = req.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        // Some servers (vLLM, llama.cpp) reject a function without a parameters schema.
        parameters: tool.parameters ?? { type: 'object', properties: {} },
        ...(tool.strict !== undefined && { strict: tool.strict }),
      },
    }));
  }
  if (req.toolChoice !== undefined) body.tool_choice = toOpenAIToolChoice(req.toolChoice);
  // Only with tools: OpenAI refuses parallel_tool_calls on a request without any.
  if (req.parallelToolCalls !== undefined && req.tools?.length) body.parallel_tool_calls = req.parallelToolCalls;
  if (req.responseFormat) {
    const format = req.responseFormat;
    body.response_format =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name ?? 'response',
              ...(format.schema && { schema: format.schema }),
              ...(format.strict !== undefined && { strict: format.strict }),
            },
          }
        : { type: format.type };
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.maxTokens !== undefined) body[options.maxTokensField ?? 'max_tokens'] = req.maxTokens;
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.stop?.length) body.stop = req.stop;
  if (req.presencePenalty !== undefined) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
  for (const namespace of options.providerNamespaces ?? []) {
    for (const [key, value] of Object.entries(req.providerOptions?.[namespace] ?? {})) {
      if (!RESERVED_FIELDS.has(key)) body[key] = value;
    }
  }
  return body;
}

function toOpenAIToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

export function toOpenAIMessage(message: ChatMessage): OpenAIMessage {
  const out: OpenAIMessage = { role: message.role, content: '' };
  if (message.name !== undefined && message.role !== 'tool') out.name = message.name;
  if (message.role === 'user') {
    out.content = typeof message.content === 'string' ? message.content : message.content.map(toOpenAIPart);
  } else {
    // OpenAI accepts images only in user messages; elsewhere only the text survives.
    out.content = textOf(message.content);
  }
  if (message.role === 'assistant' && message.toolCalls?.length) {
    out.tool_calls = message.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    // OpenAI wants null, not "", next to tool calls.
    if (out.content === '') out.content = null;
  }
  if (message.role === 'tool' && message.toolCallId !== undefined) out.tool_call_id = message.toolCallId;
  // `reasoning` is deliberately not sent back: DeepSeek-style APIs reject reasoning_content in input
  // messages and chat templates drop earlier thinking anyway.
  return out;
}

function toOpenAIPart(part: ContentPart): OpenAIContentPart {
  if (part.type === 'text') return { type: 'text', text: part.text };
  const url = part.data ? (part.data.startsWith('data:') ? part.data : `data:${part.mediaType ?? 'image/png'};base64,${part.data}`) : part.url;
  if (url) return { type: 'image_url', image_url: part.detail ? { url, detail: part.detail } : { url } };
  throw new PluginError({ code: 'bad_request', message: 'image part has neither data nor url', retryable: false });
}

function textOf(content: string | ContentPart[]): string {
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Response parsing

export function mapFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'eos':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

interface WireToolCallDelta {
  index?: number;
  id?: string | null;
  type?: string;
  function?: { name?: string | null; arguments?: string | null } | null;
}

interface WireDelta {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  refusal?: string | null;
  tool_calls?: WireToolCallDelta[] | null;
}

interface WireChoice {
  index?: number;
  delta?: WireDelta | null;
  /** Present in non-streaming answers (a server that ignored stream: true). */
  message?: WireDelta | null;
  finish_reason?: string | null;
}

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

interface WireChunk {
  choices?: WireChoice[] | null;
  usage?: WireUsage | null;
  /** llama.cpp: token counts of the last chunk, used when no usage chunk comes. */
  timings?: { prompt_n?: number; predicted_n?: number; cache_n?: number } | null;
  error?: unknown;
}

/**
 * Turns the chunks of one answer into parts. Throws a PluginError for anything that is not a
 * well-formed answer; the caller decides whether that becomes a throw or an `error` part.
 */
class ChunkAssembler {
  finishReason: FinishReason | undefined;
  private usage: WireUsage | undefined;
  private timings: WireChunk['timings'];
  private counted = 0;
  private readonly toolCallsSeen = new Map<number, { id: string }>();

  constructor(private readonly target: HttpTarget) {}

  /** Appends the parts of one chunk to `out` (plain pushes: a generator per chunk showed in profiles). */
  accept(chunk: WireChunk, out: ChatStreamPart[]): void {
    if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) {
      throw new PluginError({ code: 'bad_response', message: 'stream chunk is not a JSON object', ...this.target });
    }
    if (chunk.error !== undefined && chunk.error !== null) throw streamError(chunk.error, this.target);
    if (chunk.usage) this.usage = chunk.usage;
    if (chunk.timings) this.timings = chunk.timings;
    for (const choice of chunk.choices ?? []) {
      // Only one answer is asked for; extra choices (n > 1) are ignored.
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta ?? choice.message;
      if (delta) this.acceptDelta(delta, out);
      if (choice.finish_reason) this.finishReason = mapFinishReason(choice.finish_reason);
    }
  }

  private acceptDelta(delta: WireDelta, out: ChatStreamPart[]): void {
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning) {
      this.counted++;
      out.push({ type: 'reasoning-delta', delta: reasoning });
    }
    if (typeof delta.content === 'string' && delta.content) {
      this.counted++;
      out.push({ type: 'text-delta', delta: delta.content });
    }
    // A refusal is what the user should read instead of an answer.
    if (typeof delta.refusal === 'string' && delta.refusal) {
      this.counted++;
      out.push({ type: 'text-delta', delta: delta.refusal });
    }
    if (Array.isArray(delta.tool_calls)) {
      for (let position = 0; position < delta.tool_calls.length; position++) {
        const call = delta.tool_calls[position];
        // Some servers leave out `index` when they send whole calls; their position stands in.
        const index = typeof call.index === 'number' ? call.index : position;
        const args = call.function?.arguments ?? '';
        const seen = this.toolCallsSeen.get(index);
        if (!seen) {
          // The contract wants id and name on the first part of a call, and only there: some servers
          // repeat them on every fragment, some send no id at all.
          const id = call.id || `call_${index}_${Math.random().toString(36).slice(2, 10)}`;
          this.toolCallsSeen.set(index, { id });
          this.counted++;
          out.push({ type: 'tool-call-delta', index, id, name: call.function?.name ?? '', argumentsDelta: args });
        } else if (args) {
          this.counted++;
          out.push({ type: 'tool-call-delta', index, argumentsDelta: args });
        }
      }
    }
  }

  finish(): ChatStreamPart {
    let reason = this.finishReason ?? 'stop';
    // Some servers (older vLLM, Ollama's /v1) say "stop" after a tool call; the caller must know to run it.
    if (reason === 'stop' && this.toolCallsSeen.size > 0) reason = 'tool_calls';
    const usage = this.usage
      ? { promptTokens: this.usage.prompt_tokens ?? 0, completionTokens: this.usage.completion_tokens ?? 0 }
      : this.timings
        ? {
            promptTokens: (this.timings.prompt_n ?? 0) + (this.timings.cache_n ?? 0),
            completionTokens: this.timings.predicted_n ?? this.counted,
          }
        : // No counts from the server: each streamed chunk is about one token.
          { promptTokens: 0, completionTokens: this.counted };
    return { type: 'finish', finishReason: reason, usage };
  }
}

/** Maps an error object found inside a stream or a 200 body to a PluginError. */
function streamError(error: unknown, target: HttpTarget): PluginError {
  const message = errorMessageFrom(JSON.stringify({ error })) ?? 'backend reported an error in the stream';
  const detail = typeof error === 'object' && error !== null ? (error as { code?: unknown; type?: unknown; status?: unknown }) : {};
  const status = [detail.code, detail.status].find((v): v is number => typeof v === 'number' && v >= 400 && v < 600);
  let code: PluginErrorCode = status ? codeForStatus(status) : 'bad_response';
  const kind = `${String(detail.type ?? '')} ${String(detail.code ?? '')}`;
  if (/rate_limit|overloaded|unavailable|server_busy|insufficient_quota/i.test(kind)) code = 'overloaded';
  else if (/context_length|invalid_request/i.test(kind) && !status) code = 'bad_request';
  if (/model .*not found|no such model|unknown model/i.test(message)) code = 'not_found';
  return new PluginError({ code, message, status, ...target });
}

const SSE_FIELD = /^(data|event|id|retry)(?::(.*))?$/;

/**
 * The whole answer parser, synchronous: bytes in, parts out. SSE framing (data lines joined per the
 * SSE spec, comments and ids skipped, `event: error` recognised), JSON per event, chunks -> parts.
 * One object instead of a chain of async generators (lines -> events -> chunks -> parts): each
 * generator layer cost a few promises per line, the biggest share of a proxied request's CPU.
 */
class ChatStreamParser {
  /** [DONE] was seen: the rest of the body is read (keep-alive) but ignored. */
  done = false;
  private readonly assembler: ChunkAssembler;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private data: string[] = [];
  private event = '';

  constructor(private readonly target: HttpTarget) {
    this.assembler = new ChunkAssembler(target);
  }

  get finishReason(): FinishReason | undefined {
    return this.assembler.finishReason;
  }

  /**
   * What went wrong in the last push/flush, after the parts before it: those still go out first,
   * so a failure after the first token stays an in-band error part.
   */
  failure: unknown;

  /** The parts completed by one body chunk (decoding UTF-8 across chunk borders). */
  push(chunk: Uint8Array): ChatStreamPart[] {
    const out: ChatStreamPart[] = [];
    try {
      this.buffer += this.decoder.decode(chunk, { stream: true });
      let from = 0;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n', from)) >= 0) {
        const end = nl > from && this.buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        this.line(this.buffer.slice(from, end), out);
        from = nl + 1;
      }
      if (from > 0) this.buffer = this.buffer.slice(from);
    } catch (error) {
      this.failure = error;
    }
    return out;
  }

  /** The body ended: its last unterminated line and event. */
  flush(): ChatStreamPart[] {
    const out: ChatStreamPart[] = [];
    try {
      const rest = this.buffer + this.decoder.decode();
      this.buffer = '';
      if (rest) this.line(rest, out);
      if (this.data.length) this.dispatch(out);
    } catch (error) {
      this.failure = error;
    }
    return out;
  }

  /** The closing finish part; throws when the body ended mid-answer (neither [DONE] nor a finish_reason). */
  finish(): ChatStreamPart {
    // A body that ends after a finish_reason but without [DONE] is complete (some servers never send
    // it); ending with neither means the connection was cut mid-answer.
    if (!this.done && !this.assembler.finishReason) {
      throw new PluginError({ code: 'bad_response', message: 'stream ended before the answer finished', ...this.target });
    }
    return this.assembler.finish();
  }

  /** A server that ignored stream: true answered with one chat.completion object. */
  whole(body: WireChunk): ChatStreamPart[] {
    const out: ChatStreamPart[] = [];
    this.assembler.accept(body, out);
    if (!this.assembler.finishReason && !body.choices?.length) {
      throw new PluginError({ code: 'bad_response', message: 'answer has no choices', ...this.target });
    }
    out.push(this.assembler.finish());
    return out;
  }

  private line(line: string, out: ChatStreamPart[]): void {
    if (line === '') {
      if (this.data.length) this.dispatch(out);
      return;
    }
    // The usual line, without the regex. "data:x" and "data: x" are the same field; only one leading
    // space belongs to the syntax.
    if (line.startsWith('data:')) {
      this.data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      return;
    }
    if (line.startsWith(':')) return;
    const field = SSE_FIELD.exec(line);
    if (!field) {
      // Lenient: some servers stream bare JSON lines instead of SSE.
      if (line.trimStart().startsWith('{')) {
        const event = this.event;
        const data = this.data;
        this.data = [line];
        this.event = '';
        this.dispatch(out);
        this.data = data;
        this.event = event;
        return;
      }
      throw new PluginError({
        code: 'bad_response',
        message: `expected an event stream, got ${/^\s*</.test(line) ? 'an HTML page' : JSON.stringify(line.slice(0, 120))}`,
        ...this.target,
      });
    }
    const value = (field[2] ?? '').replace(/^ /, '');
    if (field[1] === 'data') this.data.push(value);
    else if (field[1] === 'event') this.event = value;
  }

  /** One complete event: [DONE], or chunks for the assembler. */
  private dispatch(out: ChatStreamPart[]): void {
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = '';
    if (data.length === 1 && data[0].trim() === '[DONE]') {
      // Keep reading to the end of the body (it ends right after [DONE]): leaving early would
      // destroy the response and, with it, the keep-alive connection.
      this.done = true;
      return;
    }
    if (this.done) return;
    for (const chunk of parseEventData(data, this.target)) {
      if (event === 'error' && chunk && typeof chunk === 'object' && chunk.error === undefined) {
        throw streamError(chunk, this.target);
      }
      this.assembler.accept(chunk, out);
    }
  }
}

function parseEventData(data: string[], target: HttpTarget): WireChunk[] {
  try {
    return [JSON.parse(data.length === 1 ? data[0] : data.join('\n')) as WireChunk];
  } catch {
    if (data.length === 1) throw malformed(data[0], target);
  }
  // Servers that omit the blank line between events produce several data lines per "event".
  return data.map((line) => {
    try {
      return JSON.parse(line) as WireChunk;
    } catch {
      throw malformed(line, target);
    }
  });
}

function malformed(text: string, target: HttpTarget): PluginError {
  const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return new PluginError({ code: 'bad_response', message: `malformed stream chunk ${JSON.stringify(shown)}`, ...target });
}

/**
 * Parses a chat-completions response body into parts, ending with exactly one `finish`. Throws a
 * PluginError (bad_response for a malformed or cut stream, the mapped code for an error object).
 */
export function parseChatResponse(response: Response, target: HttpTarget): AsyncGenerator<ChatStreamPart> {
  return chatParts(async () => responseAnswer(response), target);
}

/** The caller's signal and first-part deadline of a streamed call (see linkedCall). */
interface CallLink {
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * Opens the answer and yields its parts: the one async generator between the socket and the
 * router. With `link`, failures follow the contract (before the first part they reject, after it
 * they become one `error` part) and the first-part deadline stops at the first part.
 */
async function* chatParts(open: (signal?: AbortSignal) => Promise<Answer>, target: HttpTarget, link?: CallLink): AsyncGenerator<ChatStreamPart> {
  // Made here, on the first next(), so a stream nobody reads holds no listener or timer.
  const call = link ? linkedCall(link.signal, link.timeoutMs) : undefined;
  let started = false;
  try {
    const answer = await open(call?.signal);
    const parser = new ChatStreamParser(target);
    const type = answer.header('content-type');
    if (/text\/html/i.test(type)) {
      answer.discard();
      throw new PluginError({ code: 'bad_response', message: 'expected an event stream, got an HTML page', status: answer.status, ...target });
    }
    if (/application\/json/i.test(type)) {
      for (const part of parser.whole(await readJson<WireChunk>(answer, target))) {
        if (!started) {
          started = true;
          call?.stopTimer();
        }
        yield part;
      }
      return;
    }
    const chunks = answer.chunks()[Symbol.asyncIterator]();
    let finished = false;
    let cutAfterFinish = false;
    try {
      for (;;) {
        let step: IteratorResult<Uint8Array>;
        try {
          step = await chunks.next();
        } catch (error) {
          finished = true;
          const cut = readError(error, target);
          // Cut after the finish_reason: the answer is whole, only the usage chunk and [DONE] were lost.
          if (cut.code !== 'bad_response' || !parser.finishReason) throw cut;
          cutAfterFinish = true;
          break;
        }
        if (step.done) {
          finished = true;
          break;
        }
        for (const part of parser.push(step.value)) {
          if (!started) {
            started = true;
            call?.stopTimer();
          }
          yield part;
        }
        if (parser.failure !== undefined) throw parser.failure;
      }
    } finally {
      // The consumer stopped early (client went away) or the body was malformed: release the socket.
      if (!finished) void Promise.resolve(chunks.return?.()).catch(() => {});
    }
    const rest = cutAfterFinish ? [] : parser.flush();
    if (parser.failure === undefined) rest.push(parser.finish());
    for (const part of rest) {
      if (!started) {
        started = true;
        call?.stopTimer();
      }
      yield part;
    }
    if (parser.failure !== undefined) throw parser.failure;
  } catch (error) {
    if (!call) throw error;
    const failure = call.explain(error, target);
    if (!started) throw failure;
    yield { type: 'error', error: failure };
  } finally {
    call?.dispose();
  }
}

/** A failure while reading the body: an abort stays one, anything else means the stream was cut. */
function readError(error: unknown, target: HttpTarget): PluginError {
  const name = (error as { name?: string })?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return PluginError.from(error, target);
  return new PluginError({ code: 'bad_response', message: 'stream cut before it finished', ...target, cause: error });
}

// ---------------------------------------------------------------------------------------------
// The streamed call with the contract's error rules

export interface StreamChatParams {
  fetch: typeof fetch;
  url: string;
  headers?: Record<string, string>;
  body: unknown;
  target: HttpTarget;
  signal: AbortSignal;
  /** Milliseconds until the first part must arrive (0 = no limit beyond the caller's signal). */
  firstTokenTimeoutMs?: number;
}

/**
 * POSTs a chat-completions request and streams the parts. Failures before the first part reject
 * (so the router can try another model); failures after it become one `error` part. Aborting
 * `signal` cancels the upstream fetch, which releases the socket.
 */
export function streamChatCompletion(params: StreamChatParams): AsyncGenerator<ChatStreamPart> {
  return chatParts(
    (signal) =>
      requestAnswer(
        params.fetch,
        params.url,
        { method: 'POST', json: params.body, headers: { accept: 'text/event-stream', ...params.headers }, signal: signal! },
        params.target,
      ),
    params.target,
    { signal: params.signal, timeoutMs: params.firstTokenTimeoutMs ?? 0 },
  );
}

export interface LinkedCall {
  signal: AbortSignal;
  stopTimer(): void;
  dispose(): void;
  /** Maps whatever was thrown to a PluginError, naming the real cause of an abort. */
  explain(error: unknown, target: HttpTarget): PluginError;
}

/**
 * A signal that follows the caller's signal and also fires after `timeoutMs`. fetch rejects with
 * the abort *reason*, whatever it is, so the caller's abort and our timeout are told apart here
 * rather than by the error's name.
 */
export function linkedCall(parent: AbortSignal, timeoutMs: number): LinkedCall {
  // Without a deadline the caller's signal is all there is: no second signal to create and link
  // (an AbortSignal costs more to make in Node 20 than most of what a request does).
  if (!(timeoutMs > 0)) {
    return {
      signal: parent,
      stopTimer: () => {},
      dispose: () => {},
      explain: (error, target) => (parent.aborted ? abortError(parent, target, error) : PluginError.from(error, target)),
    };
  }
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(new DOMException('first token timeout', 'TimeoutError'));
        }, timeoutMs)
      : undefined;
  const stopTimer = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return {
    signal: controller.signal,
    stopTimer,
    dispose() {
      stopTimer();
      parent.removeEventListener('abort', onAbort);
    },
    explain(error, target) {
      if (timedOut) {
        return new PluginError({ code: 'timeout', message: `no answer within ${timeoutMs} ms`, ...target, cause: error });
      }
      if (parent.aborted) return abortError(parent, target, error);
      return PluginError.from(error, target);
    },
  };
}

/** An aborted caller signal as a PluginError: AbortSignal.timeout() and deadlines become `timeout`. */
export function abortError(signal: AbortSignal, target: HttpTarget, cause?: unknown): PluginError {
  const reason = signal.reason as { name?: string } | undefined;
  if (reason?.name === 'TimeoutError') {
    return new PluginError({ code: 'timeout', message: 'deadline passed', ...target, cause: cause ?? signal.reason });
  }
  return new PluginError({ code: 'aborted', message: 'request aborted', retryable: false, ...target, cause: cause ?? signal.reason });
}

// ---------------------------------------------------------------------------------------------
// Embeddings and model lists

export async function embedViaOpenAI(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  req: EmbedRequest,
  signal: AbortSignal,
  target: HttpTarget,
  timeoutMs = 0,
): Promise<EmbedResult> {
  const call = linkedCall(signal, timeoutMs);
  try {
    const response = await request(
      fetchImpl,
      url,
      {
        method: 'POST',
        headers,
        json: {
          model: req.model,
          input: req.input,
          encoding_format: 'float',
          ...(req.dimensions !== undefined && { dimensions: req.dimensions }),
        },
        signal: call.signal,
      },
      target,
    );
    const body = await readJson<{ data?: { index?: number; embedding?: unknown }[]; usage?: { prompt_tokens?: number } }>(response, target);
    if (!Array.isArray(body?.data)) {
      throw new PluginError({ code: 'bad_response', message: 'embeddings answer has no data array', ...target });
    }
    const rows = [...body.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const embeddings = rows.map((row) => row.embedding);
    if (embeddings.length !== req.input.length || !embeddings.every(isVector)) {
      throw new PluginError({
        code: 'bad_response',
        message: `expected ${req.input.length} float vectors, got ${embeddings.length} rows`,
        ...target,
      });
    }
    return { embeddings: embeddings as number[][], usage: { promptTokens: body.usage?.prompt_tokens ?? 0 } };
  } catch (error) {
    throw call.explain(error, target);
  } finally {
    call.dispose();
  }
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

/** GET a JSON document with the caller's signal and an optional timeout, every failure a PluginError. */
export async function getJson<T>(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  target: HttpTarget,
  timeoutMs = 0,
): Promise<T> {
  const call = linkedCall(signal, timeoutMs);
  try {
    const response = await request(fetchImpl, url, { method: 'GET', headers, signal: call.signal }, target);
    return await readJson<T>(response, target);
  } catch (error) {
    throw call.explain(error, target);
  } finally {
    call.dispose();
  }
}

/** POST JSON and read the JSON answer (or nothing, for plain-text "OK" answers). */
export async function postJson<T>(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  json: unknown,
  signal: AbortSignal,
  target: HttpTarget,
  timeoutMs = 0,
): Promise<T | undefined> {
  const call = linkedCall(signal, timeoutMs);
  try {
    const response = await request(fetchImpl, url, { method: 'POST', headers, json, signal: call.signal }, target);
    const text = await response.text();
    try {
      return text.trim() ? (JSON.parse(text) as T) : undefined;
    } catch {
      return undefined;
    }
  } catch (error) {
    throw call.explain(error, target);
  } finally {
    call.dispose();
  }
}
