/**
 * Ollama's NDJSON chat stream -> typed ChatStreamParts.
 *
 * The contract: a failure before the first part is thrown (the router can still try another model);
 * after it, the failure is yielded as one `error` part and the stream ends. Every stream ends with
 * exactly one `finish` or `error` part.
 */
import { PluginError, type ChatStreamPart, type FinishReason } from '../../../plugin-api/index.js';
import { parseStreamJson, type HttpTarget } from '../http.js';
import { abortedError, classifyOllamaMessage } from './errors.js';
import type { OllamaChatChunk } from './wire.js';

function finishReasonOf(doneReason: string | undefined, sawToolCalls: boolean): FinishReason {
  if (sawToolCalls) return 'tool_calls';
  switch (doneReason) {
    case undefined:
    case '':
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    default:
      // "load" / "unload" answers and reasons added by later Ollama versions.
      return 'other';
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** The parts one chunk carries, in the order a reader expects: reasoning, text, tool calls. */
function* partsOf(chunk: OllamaChatChunk, state: { toolIndex: number }, target: HttpTarget): Generator<ChatStreamPart> {
  const message = chunk.message;
  if (!message) return;
  if (typeof message.thinking === 'string' && message.thinking) yield { type: 'reasoning-delta', delta: message.thinking };
  if (typeof message.content === 'string' && message.content) yield { type: 'text-delta', delta: message.content };
  if (!Array.isArray(message.tool_calls)) return;
  for (const call of message.tool_calls) {
    const name = call?.function?.name;
    if (typeof name !== 'string' || !name) {
      throw new PluginError({ code: 'bad_response', message: 'tool call without a function name in the stream', ...target });
    }
    const index = state.toolIndex++;
    const args = call.function?.arguments;
    yield {
      type: 'tool-call-delta',
      index,
      id: typeof call.id === 'string' && call.id ? call.id : `call_${index}`,
      name,
      // Ollama sends whole calls with object arguments; the contract carries JSON text.
      argumentsDelta: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
    };
  }
}

/**
 * `signal` is the call's signal: when it fired, the failure is reported as aborted (or timeout)
 * whatever shape the cut stream took.
 */
export async function* ollamaChatParts(lines: AsyncIterable<string>, target: HttpTarget, signal: AbortSignal): AsyncGenerator<ChatStreamPart> {
  let started = false;
  const state = { toolIndex: 0 };
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      const chunk = parseStreamJson<OllamaChatChunk>(line, target);
      if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) {
        throw new PluginError({ code: 'bad_response', message: `unexpected stream chunk ${line.slice(0, 120)}`, ...target });
      }
      if (chunk.error !== undefined) {
        const message = typeof chunk.error === 'string' ? chunk.error : JSON.stringify(chunk.error);
        const { code, retryable } = classifyOllamaMessage(message, 'bad_response');
        throw new PluginError({ code, retryable, message: `Ollama: ${message}`, ...target });
      }
      for (const part of partsOf(chunk, state, target)) {
        started = true;
        yield part;
      }
      if (chunk.done === true) {
        started = true;
        yield {
          type: 'finish',
          finishReason: finishReasonOf(chunk.done_reason, state.toolIndex > 0),
          usage: { promptTokens: count(chunk.prompt_eval_count), completionTokens: count(chunk.eval_count) },
        };
        return;
      }
    }
    throw new PluginError({ code: 'bad_response', message: 'stream ended before Ollama reported done', ...target });
  } catch (error) {
    const failure = signal.aborted ? abortedError(signal, target, error) : PluginError.from(error, target);
    if (!started) throw failure;
    yield { type: 'error', error: failure };
  }
}
