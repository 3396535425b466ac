/**
 * The LLM judge: asks a model to grade an answer with a per-category rubric and reads the score out
 * of whatever it writes. The model is either behind an OpenAI-compatible endpoint (ROUTER_JUDGE_BASE_URL,
 * ROUTER_JUDGE_API_KEY, ROUTER_JUDGE_MODEL) or any model of a configured backend plugin.
 *
 * Transient failures (429, 5xx, timeouts, unreachable, a cut stream) are retried with exponential
 * backoff and jitter, honouring Retry-After up to a cap; other 4xx are not, since the same request
 * would fail again. An answer without a readable score is a non-retryable bad_response: at
 * temperature 0 the same prompt gives the same unreadable answer. Callers that want a verdict
 * regardless wrap this judge with `withFallback`.
 */
import {
  PluginError,
  SPECIFICATION_VERSION,
  type BackendPlugin,
  type ChatMessage,
  type ChatRequest,
  type ChatStreamPart,
  type JudgeInput,
  type JudgePlugin,
  type JudgeVerdict,
  type PluginDefinition,
} from '../../plugin-api/index.js';
import type { HttpTarget } from '../backends/http.js';
import { streamChatCompletion, toOpenAIChatBody } from '../backends/openai-wire.js';
import { buildJudgeMessages } from './rubric.js';
import { parseJudgeScore } from './score-parse.js';

export { parseJudgeScore, type ParsedJudgeScore } from './score-parse.js';

export interface LlmJudgeOptions {
  /** Judge name (verdict logs, fallback messages). Default "llm". */
  name?: string;
  /** Model id at the endpoint, or backend-local model id when `backend` is given. */
  model: string;
  /** OpenAI-compatible base URL including /v1. Ignored when `backend` is given. */
  baseUrl?: string;
  apiKey?: string;
  /** Use a model of a configured backend instead of an endpoint. */
  backend?: BackendPlugin;
  fetch?: typeof fetch;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter (default 500 ms). */
  baseDelayMs?: number;
  /** Per attempt, for the whole verdict (default 120 s: local judges on busy GPUs are slow). */
  timeoutMs?: number;
  /** Upper bound for a server's Retry-After (default 30 s), so one header cannot stall profiling. */
  maxRetryAfterMs?: number;
  /** Upper bound for the exponential backoff (default 10 s). */
  maxDelayMs?: number;
  /** Answer budget for the judge (default 1024 tokens: the JSON plus any preamble it insists on). */
  maxTokens?: number;
}

export function createLlmJudge(options: LlmJudgeOptions): JudgePlugin {
  const name = options.name?.trim() || 'llm';
  const model = options.model?.trim();
  if (!model) throw new PluginError({ code: 'bad_request', retryable: false, message: `judge "${name}": a model is required (ROUTER_JUDGE_MODEL)` });
  const backend = options.backend;
  const baseUrl = options.baseUrl?.trim().replace(/\/+$/, '');
  if (!backend && !baseUrl) {
    throw new PluginError({
      code: 'bad_request',
      retryable: false,
      message: `judge "${name}": needs a base URL (ROUTER_JUDGE_BASE_URL) or a backend to run model "${model}" on`,
    });
  }
  if (!backend && baseUrl && !/^https?:\/\/[^/]/i.test(baseUrl)) {
    throw new PluginError({ code: 'bad_request', retryable: false, message: `judge "${name}": base URL ${JSON.stringify(baseUrl)} is not an http(s) URL` });
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 2));
  const baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
  const maxDelayMs = Math.max(baseDelayMs, options.maxDelayMs ?? 10_000);
  const timeoutMs = Math.max(0, options.timeoutMs ?? 120_000);
  const maxRetryAfterMs = Math.max(0, options.maxRetryAfterMs ?? 30_000);
  const maxTokens = options.maxTokens ?? 1024;
  const target: HttpTarget = { backend: backend?.name ?? name, model };
  // api.openai.com rejects max_tokens for its reasoning models; other servers only know max_tokens.
  const maxTokensField = baseUrl && /^https?:\/\/([^/]+\.)?openai\.com(\/|:|$)/i.test(baseUrl) ? 'max_completion_tokens' : 'max_tokens';

  /** One attempt: the whole streamed answer, or a PluginError. */
  function stream(request: ChatRequest, signal: AbortSignal, observed: Observed): AsyncIterable<ChatStreamPart> {
    if (backend) return backend.chat(request, { signal });
    return streamChatCompletion({
      fetch: observingFetch(fetchImpl, observed),
      url: `${baseUrl}/chat/completions`,
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      body: toOpenAIChatBody(request, { maxTokensField }),
      target,
      signal,
    });
  }

  async function attempt(messages: ChatMessage[], caller: AbortSignal, observed: Observed): Promise<JudgeVerdict> {
    const deadline = deadlineSignal(caller, timeoutMs);
    try {
      const request: ChatRequest = { model, messages, temperature: 0, maxTokens };
      const answer = await collect(stream(request, deadline.signal, observed));
      // Thinking models sometimes leave the visible answer empty and put the verdict in their reasoning.
      const parsed = parseJudgeScore(answer.content) ?? (answer.content.trim() ? undefined : parseJudgeScore(answer.reasoning));
      if (!parsed) {
        const shown = (answer.content || answer.reasoning).trim();
        throw new PluginError({
          code: 'bad_response',
          retryable: false,
          message: `judge answer has no score${answer.finishReason === 'length' ? ' (cut at the token limit)' : ''}: ${JSON.stringify(shown.length > 160 ? `${shown.slice(0, 160)}…` : shown)}`,
          ...target,
        });
      }
      return parsed.reasoning ? { score: parsed.score, reasoning: parsed.reasoning } : { score: parsed.score };
    } catch (error) {
      if (deadline.timedOut()) {
        throw new PluginError({ code: 'timeout', message: `judge gave no verdict within ${timeoutMs} ms`, ...target, cause: error });
      }
      throw PluginError.from(error, target);
    } finally {
      deadline.dispose();
    }
  }

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name,
    async judge(input: JudgeInput, { signal }): Promise<JudgeVerdict> {
      const messages = buildJudgeMessages(input);
      for (let retry = 0; ; retry++) {
        const observed: Observed = {};
        try {
          return await attempt(messages, signal, observed);
        } catch (error) {
          const failure = PluginError.from(error, target);
          if (signal.aborted) throw new PluginError({ code: 'aborted', message: 'judge call aborted', retryable: false, ...target, cause: error });
          if (retry >= maxRetries || !isTransient(failure)) throw failure;
          const delay =
            observed.retryAfterMs !== undefined ? Math.min(observed.retryAfterMs, maxRetryAfterMs) : backoff(retry, baseDelayMs, maxDelayMs);
          await sleep(delay, signal, target);
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Retry policy

/** 408, 429 and 5xx, or no answer at all (unreachable, timeout, cut stream); never other 4xx. */
export function isTransient(error: PluginError): boolean {
  if (error.code === 'aborted') return false;
  if (error.status !== undefined) return error.status === 408 || error.status === 429 || error.status >= 500;
  return error.retryable && (error.code === 'unreachable' || error.code === 'timeout' || error.code === 'overloaded' || error.code === 'bad_response');
}

/**
 * Exponential backoff with "equal jitter": half the delay fixed, half random, so retries of several
 * profiling workers spread out but never collapse to an immediate hammering.
 */
export function backoff(retry: number, baseDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Retry-After as delta-seconds or an HTTP date; OpenAI's retry-after-ms is more precise when present. */
export function parseRetryAfter(headers: Headers): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

interface Observed {
  retryAfterMs?: number;
}

/**
 * The shared HTTP helpers turn a failed response into a PluginError without its headers, so the
 * judge looks at Retry-After on the way through.
 */
function observingFetch(fetchImpl: typeof fetch, observed: Observed): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const response = await fetchImpl(input, init);
    if (!response.ok) observed.retryAfterMs = parseRetryAfter(response.headers);
    return response;
  }) as typeof fetch;
}

function sleep(ms: number, signal: AbortSignal, target: HttpTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new PluginError({ code: 'aborted', message: 'judge call aborted', retryable: false, ...target, cause: signal.reason });
    if (signal.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The caller's signal plus a per-attempt deadline covering the whole answer, not just its first token. */
function deadlineSignal(parent: AbortSignal, ms: number): { signal: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const controller = new AbortController();
  let fired = false;
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  const timer =
    ms > 0
      ? setTimeout(() => {
          fired = true;
          controller.abort(new DOMException('judge timeout', 'TimeoutError'));
        }, ms)
      : undefined;
  return {
    signal: controller.signal,
    timedOut: () => fired && !parent.aborted,
    dispose: () => {
      if (timer) clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

async function collect(parts: AsyncIterable<ChatStreamPart>): Promise<{ content: string; reasoning: string; finishReason?: string }> {
  let content = '';
  let reasoning = '';
  let finishReason: string | undefined;
  for await (const part of parts) {
    switch (part.type) {
      case 'text-delta':
        content += part.delta;
        break;
      case 'reasoning-delta':
        reasoning += part.delta;
        break;
      case 'error':
        throw part.error;
      case 'finish':
        finishReason = part.finishReason;
        break;
      case 'tool-call-delta':
        // The judge offers no tools; a stray call carries no verdict.
        break;
    }
  }
  return { content, reasoning, finishReason };
}

// ---------------------------------------------------------------------------------------------
// Plugin definition

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() && Number.isFinite(Number(v)) ? Number(v) : undefined);

function isBackend(value: unknown): value is BackendPlugin {
  return typeof value === 'object' && value !== null && typeof (value as BackendPlugin).chat === 'function' && typeof (value as BackendPlugin).name === 'string';
}

export const llmJudgeDefinition: PluginDefinition<'judge'> = {
  manifest: {
    name: 'llm',
    version: '1.0.0',
    kind: 'judge',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'Grades answers with a model (an OpenAI-compatible endpoint or a backend model) and a per-category rubric.',
  },
  create(options, context) {
    return createLlmJudge({
      name: str(options.name) ?? 'llm',
      model: str(options.model) ?? '',
      baseUrl: str(options.baseUrl) ?? str(options.location),
      apiKey: str(options.apiKey),
      backend: isBackend(options.backend) ? options.backend : undefined,
      fetch: context.fetch,
      maxRetries: num(options.maxRetries),
      baseDelayMs: num(options.baseDelayMs),
      timeoutMs: num(options.timeoutMs),
      maxRetryAfterMs: num(options.maxRetryAfterMs),
      maxTokens: num(options.maxTokens),
    });
  },
};
