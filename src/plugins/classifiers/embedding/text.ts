/**
 * The one text the embedding classifier embeds for a conversation: the same material the built-in
 * classifier weighs (the last user turn, then the system prompt and the most recent earlier turns,
 * code blocks included as they are), capped so that a long prompt costs one short embedding call.
 *
 * The last user turn comes first: an embedding model that truncates at its own context limit then
 * drops old context, not the ask. Exemplars and requests go through this same function, so both
 * sides of a comparison are shaped alike.
 */
import type { ClassificationInput } from '../../../plugin-api/index.js';
import { capText, weightConversation } from '../builtin/conversation.js';

/** About 500 tokens: fits the smallest common embedding context (512) with room for the template. */
export const MAX_EMBED_CHARS = 2_000;
const LAST_HEAD_CHARS = 1_000;
const LAST_TAIL_CHARS = 400;
const CONTEXT_CHARS = 300;
/** The system prompt plus this many earlier turns, most recent first. */
const CONTEXT_SEGMENTS = 3;

/** Bumped whenever the text changes shape: stored exemplar vectors made with another shape are stale. */
export const TEXT_VERSION = 1;

export function embeddingText(input: ClassificationInput): string {
  const { last, context, systemText } = weightConversation(input?.messages);
  const parts: string[] = [];
  const ask = last.text.trim();
  if (ask) parts.push(capText(ask, LAST_HEAD_CHARS, LAST_TAIL_CHARS));
  // Earlier turns, most recent first (weightConversation puts the system prompt last: kept apart).
  const turns = (systemText ? context.slice(0, -1) : context).slice(0, CONTEXT_SEGMENTS);
  for (const turn of turns) {
    const text = turn.text.trim();
    if (text) parts.push(capText(text, CONTEXT_CHARS / 2, CONTEXT_CHARS / 2));
  }
  if (systemText.trim()) parts.push(capText(systemText.trim(), CONTEXT_CHARS / 2, CONTEXT_CHARS / 2));
  const text = parts.join('\n\n');
  return text.length > MAX_EMBED_CHARS ? text.slice(0, MAX_EMBED_CHARS) : text;
}
