/**
 * The core's stream parts -> OpenAI `chat.completion.chunk` server-sent events.
 *
 * Framing, as OpenAI sends it: a first chunk with {role: 'assistant', content: ''}; one chunk per
 * delta; a chunk with an empty delta and the finish_reason; with stream_options.include_usage a last
 * chunk whose `choices` is empty and which carries the usage; then `data: [DONE]`. An error after the
 * stream started becomes `data: {"error": {...}}` and the stream ends WITHOUT [DONE], so a client can
 * tell a cut answer from a complete one.
 */
import type { ServerResponse } from 'node:http';
import type { ChatStreamPart, PluginError, PluginErrorCode } from '../../../plugin-api/index.js';
import type { RouteInfo } from '../../../core/types.js';
import { finishReasonOf, usageOf, type OpenAIFinishReason, type OpenAIUsage } from './response.js';

export interface ChunkDelta {
  role?: 'assistant';
  content?: string;
  reasoning_content?: string;
  tool_calls?: Array<{ index: number; id?: string; type?: 'function'; function: { name?: string; arguments: string } }>;
  function_call?: { name?: string; arguments: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: 0; delta: ChunkDelta; logprobs: null; finish_reason: OpenAIFinishReason | null }>;
  /** Only with include_usage: null on every chunk but the last one. */
  usage?: OpenAIUsage | null;
}

export interface EncoderOptions {
  includeUsage: boolean;
  legacyFunctions: boolean;
}

export const DONE_FRAME = 'data: [DONE]\n\n';

export function frame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** What the client sees for a failure after the stream started; the plugin's own text stays in the logs. */
const STREAM_ERROR_MESSAGES: Partial<Record<PluginErrorCode, string>> = {
  unreachable: 'The connection to the model backend was lost while answering.',
  timeout: 'The model stopped producing output (timeout) while answering.',
  bad_response: 'The model backend sent a broken or cut response while answering.',
  overloaded: 'The model backend became overloaded while answering.',
  aborted: 'The answer was aborted.',
};

export function streamErrorBody(error: Pick<PluginError, 'code'>, model: string): { error: { message: string; type: 'server_error'; param: null; code: string } } {
  const message = STREAM_ERROR_MESSAGES[error.code] ?? 'The model failed while answering.';
  return { error: { message: `${message} (model ${model})`, type: 'server_error', param: null, code: error.code } };
}

/**
 * Turns parts into SSE frames. Stateful: it remembers which tool calls already had their first
 * fragment, because only that one carries id, type and name.
 */
export class ChunkEncoder {
  private readonly seenCalls = new Set<number>();
  private legacyCallIndex: number | undefined;
  private sawToolCalls = false;
  /**
   * Every chunk of a stream starts with the same id, object, created and model and ends the same
   * way: those parts are serialised once, and each chunk stringifies only its delta. The text is
   * byte for byte what JSON.stringify of the whole chunk object gives.
   */
  private readonly head: string;
  private readonly tail: string;

  constructor(
    private readonly info: RouteInfo,
    private readonly options: EncoderOptions,
  ) {
    this.head = `data: {"id":${JSON.stringify(info.responseId)},"object":"chat.completion.chunk","created":${JSON.stringify(info.created)},"model":${JSON.stringify(info.selectedModel)},"choices":[{"index":0,"delta":`;
    this.tail = options.includeUsage ? '}],"usage":null}\n\n' : '}]}\n\n';
  }

  /** The opening frame: the assistant role with empty content, as OpenAI starts every stream. */
  start(): string {
    return this.chunk({ role: 'assistant', content: '' }, null);
  }

  /** Frames for one part (none for empty deltas); `end` is true after a finish or an error part. */
  encode(part: ChatStreamPart): { frames: string[]; end: boolean; error?: PluginError } {
    switch (part.type) {
      case 'text-delta':
        return { frames: part.delta ? [this.chunk({ content: part.delta }, null)] : [], end: false };
      case 'reasoning-delta':
        return { frames: part.delta ? [this.chunk({ reasoning_content: part.delta }, null)] : [], end: false };
      case 'tool-call-delta':
        return { frames: this.toolCall(part), end: false };
      case 'finish': {
        const frames = [this.chunk({}, finishReasonOf(part.finishReason, this.sawToolCalls, this.options.legacyFunctions))];
        if (this.options.includeUsage) {
          frames.push(frame({ id: this.info.responseId, object: 'chat.completion.chunk', created: this.info.created, model: this.info.selectedModel, choices: [], usage: usageOf(part.usage) }));
        }
        frames.push(DONE_FRAME);
        return { frames, end: true };
      }
      case 'error':
        return { frames: [this.errorFrame(part.error)], end: true, error: part.error };
    }
  }

  /** The error event that ends a failed stream (no [DONE] follows it). */
  errorFrame(error: Pick<PluginError, 'code'>): string {
    return frame(streamErrorBody(error, this.info.selectedModel));
  }

  private toolCall(part: Extract<ChatStreamPart, { type: 'tool-call-delta' }>): string[] {
    this.sawToolCalls = true;
    const first = !this.seenCalls.has(part.index);
    this.seenCalls.add(part.index);
    if (this.options.legacyFunctions) {
      // The legacy API streams one function call; later calls have nowhere to go and are dropped.
      this.legacyCallIndex ??= part.index;
      if (part.index !== this.legacyCallIndex) return [];
      return [this.chunk({ function_call: first ? { name: part.name ?? '', arguments: part.argumentsDelta } : { arguments: part.argumentsDelta } }, null)];
    }
    if (!first) {
      return part.argumentsDelta ? [this.chunk({ tool_calls: [{ index: part.index, function: { arguments: part.argumentsDelta } }] }, null)] : [];
    }
    return [
      this.chunk(
        {
          tool_calls: [
            {
              index: part.index,
              // Clients key calls by id; a backend that gave none still gets a stable one.
              id: part.id ?? `call_${this.info.responseId.replace(/^chatcmpl-/, '')}_${part.index}`,
              type: 'function',
              function: { name: part.name ?? '', arguments: part.argumentsDelta },
            },
          ],
        },
        null,
      ),
    ];
  }

  /** frame() of a ChatCompletionChunk with this delta and finish reason (see `head`). */
  private chunk(delta: ChunkDelta, finishReason: OpenAIFinishReason | null): string {
    return `${this.head}${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finishReason === null ? 'null' : JSON.stringify(finishReason)}${this.tail}`;
  }
}

export type StreamOutcome = { kind: 'done' } | { kind: 'error'; error: PluginError | unknown } | { kind: 'client-gone' };

/**
 * Writes the stream to the socket, honouring backpressure. Stops reading parts as soon as the client
 * is gone: leaving the `for await` closes the part iterator, and the caller's AbortController (tied to
 * the same socket) stops the backend call.
 */
export async function pipeParts(
  out: ServerResponse,
  parts: AsyncIterable<ChatStreamPart>,
  encoder: ChunkEncoder,
  clientGone: AbortSignal,
): Promise<StreamOutcome> {
  if (!(await write(out, encoder.start(), clientGone))) return { kind: 'client-gone' };
  try {
    for await (const part of parts) {
      const { frames, end, error } = encoder.encode(part);
      for (const f of frames) {
        // Written at once (the usual case) or a promise that waits for 'drain': no await per frame.
        const written = write(out, f, clientGone);
        if (written !== true && (written === false || !(await written))) return { kind: 'client-gone' };
      }
      if (end) return error ? { kind: 'error', error } : { kind: 'done' };
    }
  } catch (error) {
    if (clientGone.aborted) return { kind: 'client-gone' };
    // The contract says errors arrive as parts; a thrown one still must not look like a clean end.
    await write(out, encoder.errorFrame({ code: codeOf(error) }), clientGone);
    return { kind: 'error', error };
  }
  if (clientGone.aborted) return { kind: 'client-gone' };
  // The stream ended without finish or error (a contract breach): say so rather than end silently.
  await write(out, encoder.errorFrame({ code: 'bad_response' }), clientGone);
  return { kind: 'error', error: new Error('stream ended without a finish part') };
}

function codeOf(error: unknown): PluginErrorCode {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? (code as PluginErrorCode) : 'internal';
}

/**
 * True when written, false when the client is gone; when the buffer is full, a promise of the same
 * once 'drain' (or the client leaving) decides it.
 */
function write(out: ServerResponse, text: string, clientGone: AbortSignal): boolean | Promise<boolean> {
  if (clientGone.aborted || out.destroyed) return false;
  // No cork here: node:http already corks the socket for the rest of the tick on a response's
  // write, so the frames of one backend read leave in one writev.
  if (out.write(text)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      clientGone.removeEventListener('abort', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    out.on('drain', onDrain);
    out.on('close', onClose);
    clientGone.addEventListener('abort', onClose, { once: true });
  });
}
