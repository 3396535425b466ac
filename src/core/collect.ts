/**
 * A non-streaming answer is the collected stream: one implementation of "what the model said" for
 * every door (REST non-streaming, RouterService.Chat, profiling).
 */
import type { ChatStreamPart, FinishReason, ToolCall, Usage } from '../plugin-api/index.js';
import type { CollectedAnswer } from './types.js';

export async function collectAnswer(parts: AsyncIterable<ChatStreamPart>): Promise<CollectedAnswer> {
  let text = '';
  let reasoning = '';
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  let finishReason: FinishReason = 'stop';
  let usage: Usage = { promptTokens: 0, completionTokens: 0 };
  for await (const part of parts) {
    switch (part.type) {
      case 'text-delta':
        text += part.delta;
        break;
      case 'reasoning-delta':
        reasoning += part.delta;
        break;
      case 'tool-call-delta': {
        const call = (calls[part.index] ??= { id: '', name: '', arguments: '' });
        if (part.id) call.id = part.id;
        if (part.name) call.name = part.name;
        call.arguments += part.argumentsDelta;
        break;
      }
      case 'finish':
        finishReason = part.finishReason;
        usage = part.usage;
        break;
      case 'error':
        throw part.error;
    }
  }
  const toolCalls: ToolCall[] = calls.filter(Boolean).map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments }));
  return { text, reasoning, toolCalls, finishReason, usage };
}
