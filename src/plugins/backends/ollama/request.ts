/**
 * ChatRequest (OpenAI-like contract) -> Ollama /api/chat body. The differences that matter:
 * images travel as bare base64 in `images`, tool-call arguments are objects rather than JSON text,
 * a tool result names its tool, and sampling settings live under `options`.
 */
import { PluginError, type ChatMessage, type ChatRequest, type ContentPart, type ToolDefinition } from '../../../plugin-api/index.js';
import type { HttpTarget } from '../http.js';
import type { KeepAlive, OllamaChatRequest, OllamaMessage, OllamaTool, OllamaToolCall } from './wire.js';

/** Settings under `providerOptions.ollama` that have no place in the common ChatRequest. */
export interface OllamaProviderOptions {
  /** Overrides the instance keep_alive for this request. */
  keepAlive?: string | number;
  /** Ollama `think`: true/false, or "low" | "medium" | "high" for models with levels. */
  think?: boolean | string;
  /** Extra Ollama `options` (num_ctx, top_k, min_p, repeat_penalty, ...), merged under the common ones. */
  options?: Record<string, unknown>;
}

function badRequest(message: string, target: HttpTarget, retryable = false): PluginError {
  return new PluginError({ code: 'bad_request', message, retryable, ...target });
}

/** Base64 of an image part without any data: prefix, or a PluginError when Ollama cannot take it. */
export function imageToBase64(part: Extract<ContentPart, { type: 'image' }>, target: HttpTarget): string {
  if (part.data) return stripDataUrl(part.data, target);
  if (part.url?.startsWith('data:')) return stripDataUrl(part.url, target);
  // Ollama only accepts inline base64. Fetching the URL here would make the router download
  // whatever a client names (an SSRF hole and an unbounded body on the request path), so it is
  // refused; retryable, because a backend that accepts image URLs (OpenAI-compatible) can serve it.
  throw badRequest(
    'Ollama takes images inline only: send the image as a data URL (data:image/png;base64,...), not an http(s) link',
    target,
    true,
  );
}

function stripDataUrl(value: string, target: HttpTarget): string {
  if (!value.startsWith('data:')) return value;
  const comma = value.indexOf(',');
  if (comma < 0) throw badRequest('malformed data: URL in an image part', target);
  const header = value.slice(5, comma);
  const payload = value.slice(comma + 1);
  if (/;base64$/i.test(header)) return payload;
  // A non-base64 data URL is percent-encoded bytes.
  try {
    return Buffer.from(decodeURIComponent(payload), 'latin1').toString('base64');
  } catch {
    throw badRequest('malformed data: URL in an image part', target);
  }
}

/** Ollama wants arguments as an object; the contract carries the model's JSON text. */
function parseArguments(text: string, call: { id: string; name: string }, target: HttpTarget): Record<string, unknown> {
  // Some models emit "" for a call without arguments.
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest(`tool call ${call.id} (${call.name}) has arguments that are not valid JSON; Ollama needs a JSON object`, target);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`tool call ${call.id} (${call.name}) has arguments that are not a JSON object; Ollama needs an object`, target);
  }
  return value as Record<string, unknown>;
}

/** The tool name for a tool result: the nearest earlier assistant call with that id. */
function toolNameFor(messages: readonly ChatMessage[], before: number, callId: string | undefined): string | undefined {
  if (!callId) return undefined;
  for (let i = before - 1; i >= 0; i--) {
    const call = messages[i].toolCalls?.find((c) => c.id === callId);
    if (call) return call.name;
  }
  return undefined;
}

function toMessage(messages: readonly ChatMessage[], index: number, target: HttpTarget): OllamaMessage {
  const message = messages[index];
  const out: OllamaMessage = { role: message.role, content: '' };
  if (typeof message.content === 'string') {
    out.content = message.content;
  } else {
    const texts: string[] = [];
    const images: string[] = [];
    for (const part of message.content) {
      if (part.type === 'text') texts.push(part.text);
      else images.push(imageToBase64(part, target));
    }
    out.content = texts.join('\n');
    if (images.length > 0) out.images = images;
  }
  if (message.role === 'assistant') {
    if (message.reasoning) out.thinking = message.reasoning;
    if (message.toolCalls?.length) {
      out.tool_calls = message.toolCalls.map(
        (call, i): OllamaToolCall => ({ id: call.id, function: { index: i, name: call.name, arguments: parseArguments(call.arguments, call, target) } }),
      );
    }
  }
  if (message.role === 'tool') {
    const toolName = toolNameFor(messages, index, message.toolCallId) ?? message.name;
    if (toolName) out.tool_name = toolName;
    if (message.toolCallId) out.tool_call_id = message.toolCallId;
  }
  return out;
}

function toTools(tools: readonly ToolDefinition[]): OllamaTool[] {
  return tools.map((tool) => {
    const fn: OllamaTool['function'] = { name: tool.name };
    if (tool.description !== undefined) fn.description = tool.description;
    // Ollama rejects a function without a parameters schema on some versions; an empty object schema is neutral.
    fn.parameters = tool.parameters ?? { type: 'object', properties: {} };
    return { type: 'function', function: fn };
  });
}

/**
 * Ollama has no tool_choice. "none" is honoured by not sending tools; a named tool by sending only
 * that one; "required" cannot be enforced and degrades to "auto" (a warning, not an error).
 */
function selectTools(request: ChatRequest): { tools?: ToolDefinition[]; warning?: string } {
  const tools = request.tools;
  if (!tools?.length) return {};
  const choice = request.toolChoice;
  if (choice === 'none') return {};
  if (choice === 'required') return { tools, warning: 'Ollama cannot force a tool call; toolChoice "required" sent as "auto"' };
  if (choice && typeof choice === 'object') {
    const only = tools.filter((t) => t.name === choice.name);
    if (only.length === 0) return { tools, warning: `toolChoice names "${choice.name}", which is not among the tools; sent as "auto"` };
    return { tools: only, warning: 'Ollama cannot force a tool call; only the chosen tool is offered' };
  }
  return { tools };
}

export interface BuiltChatRequest {
  body: OllamaChatRequest;
  /** Settings that could not be honoured exactly (logged by the caller). */
  warnings: string[];
}

export function toOllamaChatRequest(request: ChatRequest, keepAlive: KeepAlive, target: HttpTarget): BuiltChatRequest {
  const warnings: string[] = [];
  const provider = (request.providerOptions?.ollama ?? {}) as OllamaProviderOptions;
  const body: OllamaChatRequest = {
    model: request.model,
    messages: request.messages.map((_, i) => toMessage(request.messages, i, target)),
    stream: true,
    keep_alive: provider.keepAlive ?? keepAlive,
  };

  const { tools, warning } = selectTools(request);
  if (warning) warnings.push(warning);
  if (tools?.length) body.tools = toTools(tools);

  const format = request.responseFormat;
  if (format?.type === 'json_object') body.format = 'json';
  else if (format?.type === 'json_schema') body.format = format.schema ?? 'json';

  const options: Record<string, unknown> = { ...(provider.options ?? {}) };
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.stop?.length) options.stop = request.stop;
  if (request.presencePenalty !== undefined) options.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) options.frequency_penalty = request.frequencyPenalty;
  if (Object.keys(options).length > 0) body.options = options;

  if (provider.think !== undefined) body.think = provider.think;
  return { body, warnings };
}
