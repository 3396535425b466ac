/**
 * What a request needs from a model, read from its shape (not its words): image parts need vision,
 * tools or tool history need tool calling, a JSON response format needs structured output, and the
 * conversation length needs a context window.
 */
import type { ChatMessage } from '../plugin-api/index.js';
import type { RouteNeeds } from './scoring.js';
import type { RouteRequest } from './types.js';

/** Rough tokens per character for context-window checks (errs on the large side for safety). */
const CHARS_PER_TOKEN = 4;
/** Reply budget assumed when the client sets no max_tokens. */
const DEFAULT_REPLY_TOKENS = 256;

export function detectNeeds(request: Pick<RouteRequest, 'messages' | 'tools' | 'responseFormat' | 'maxTokens'>): RouteNeeds {
  let vision = false;
  let toolHistory = false;
  let chars = 0;
  for (const message of request.messages) {
    if (message.toolCalls?.length || message.role === 'tool') toolHistory = true;
    if (typeof message.content === 'string') {
      chars += message.content.length;
      continue;
    }
    for (const part of message.content) {
      if (part.type === 'image') vision = true;
      else chars += part.text.length;
    }
  }
  const format = request.responseFormat?.type;
  return {
    vision,
    tools: Boolean(request.tools?.length) || toolHistory,
    json: format === 'json_object' || format === 'json_schema',
    minContextTokens: Math.ceil(chars / CHARS_PER_TOKEN) + (request.maxTokens ?? DEFAULT_REPLY_TOKENS),
  };
}

/** Text of a message for classification and logs (image parts dropped). */
export function messageText(message: ChatMessage): string {
  if (typeof message.content === 'string') return message.content;
  let text = '';
  for (const part of message.content) if (part.type === 'text') text += (text ? '\n' : '') + part.text;
  return text;
}
