/**
 * The core's answers -> OpenAI response objects: a collected answer -> `chat.completion`, model
 * listings -> `model` objects. Shapes follow OpenAI's openapi spec field for field, so strict
 * clients (the official SDKs, OpenWebUI, LangChain) parse them without special cases.
 */
import type { FinishReason, Usage } from '../../../plugin-api/index.js';
import type { CollectedAnswer, ModelListing, RouteInfo } from '../../../core/types.js';

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: {
      role: 'assistant';
      content: string | null;
      reasoning_content?: string;
      tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
      function_call?: { name: string; arguments: string };
      refusal: null;
    };
    logprobs: null;
    finish_reason: OpenAIFinishReason;
  }>;
  usage: OpenAIUsage;
}

/**
 * OpenAI has no "error" or "other" finish reason: an answer that ended for an unnamed reason ended
 * normally as far as the client can tell. Tool calls always finish with "tool_calls", whatever the
 * backend said, because clients run their tool loop on that value.
 */
export function finishReasonOf(reason: FinishReason, hasToolCalls: boolean, legacyFunctions: boolean): OpenAIFinishReason {
  if (hasToolCalls && (reason === 'stop' || reason === 'tool_calls' || reason === 'other')) return legacyFunctions ? 'function_call' : 'tool_calls';
  switch (reason) {
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
      // Said "tool_calls" but produced none: nothing for the client's tool loop to run.
      return 'stop';
    default:
      return 'stop';
  }
}

export function usageOf(usage: Usage): OpenAIUsage {
  return { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens };
}

export function chatCompletionOf(info: RouteInfo, answer: CollectedAnswer, legacyFunctions: boolean): ChatCompletion {
  const hasToolCalls = answer.toolCalls.length > 0;
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    // OpenAI sends null content for a pure tool-call turn; clients test for it.
    content: answer.text === '' && hasToolCalls ? null : answer.text,
    refusal: null,
  };
  if (answer.reasoning) message.reasoning_content = answer.reasoning;
  if (hasToolCalls) {
    if (legacyFunctions) {
      // The legacy API has room for one call only.
      const call = answer.toolCalls[0];
      message.function_call = { name: call.name, arguments: call.arguments };
    } else {
      message.tool_calls = answer.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    }
  }
  return {
    id: info.responseId,
    object: 'chat.completion',
    created: info.created,
    model: info.selectedModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOf(answer.finishReason, hasToolCalls, legacyFunctions) }],
    usage: usageOf(answer.usage),
  };
}

export interface OpenAIModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export function modelOf(listing: ModelListing, created: number): OpenAIModel {
  return { id: listing.id, object: 'model', created, owned_by: listing.routerAlias ? 'smarterrouter' : listing.backend };
}
