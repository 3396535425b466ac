/**
 * Our OpenAI-shaped messages to node-llama-cpp chat history. The chat wrapper (from the model's own
 * template when it has one) renders the history into the model's prompt format.
 */
import type { ChatHistoryItem } from 'node-llama-cpp';
import { PluginError, type ChatMessage, type ContentPart } from '../../../plugin-api/index.js';

/**
 * Tool calls and results become plain text: this backend does not offer tools (capabilities.tools is
 * false), but a conversation routed here may still carry them from an earlier turn elsewhere, and
 * dropping them would leave the model answering a question it never saw answered.
 * Images throw `unsupported`: answering without the picture would be silently wrong.
 */
export function toChatHistory(messages: readonly ChatMessage[], target: { backend: string; model: string }): ChatHistoryItem[] {
  if (messages.length === 0) {
    throw new PluginError({ code: 'bad_request', message: 'messages must not be empty', ...target });
  }
  const history: ChatHistoryItem[] = [];
  for (const message of messages) {
    const text = contentText(message.content, target);
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text });
        break;
      case 'user':
        appendUser(history, message.name ? `${message.name}: ${text}` : text);
        break;
      case 'tool':
        appendUser(history, `Tool result${message.toolCallId ? ` (${message.toolCallId})` : ''}:\n${text}`);
        break;
      case 'assistant': {
        const calls = (message.toolCalls ?? []).map((call) => `Tool call ${call.name}(${call.arguments})`);
        const response = [text, ...calls].filter((part) => part !== '').join('\n');
        const last = history.at(-1);
        // Consecutive assistant turns are one model turn to the chat wrappers.
        if (last?.type === 'model') last.response.push(response);
        else history.push({ type: 'model', response: [response] });
        break;
      }
      default:
        throw new PluginError({ code: 'bad_request', message: `unknown message role ${JSON.stringify((message as ChatMessage).role)}`, ...target });
    }
  }
  return history;
}

function appendUser(history: ChatHistoryItem[], text: string): void {
  const last = history.at(-1);
  // Two user messages in a row would render as two turns with no answer between them.
  if (last?.type === 'user') last.text = `${last.text}\n\n${text}`;
  else history.push({ type: 'user', text });
}

function contentText(content: string | ContentPart[], target: { backend: string; model: string }): string {
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const part of content) {
    if (part.type === 'text') texts.push(part.text);
    else {
      throw new PluginError({ code: 'unsupported', message: 'this GGUF backend has no vision support (image content)', retryable: true, ...target });
    }
  }
  return texts.join('\n');
}
