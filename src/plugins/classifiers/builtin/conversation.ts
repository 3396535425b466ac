/**
 * Turns a chat conversation into weighted text segments for the feature extractor.
 *
 * The last user turn decides most of the category, but a short follow-up ("now make it faster")
 * only makes sense in the light of the turns before it, so earlier turns and the system prompt are
 * kept as weighted context. Every segment is capped so that an 8k-token prompt costs about as much
 * as a 1k-token one.
 */
import type { ChatMessage, ContentPart } from '../../../plugin-api/index.js';

export interface Segment {
  text: string;
  /** How much this segment's features count (the last user turn has 1). */
  weight: number;
  /** Length of the uncapped text, for complexity. */
  fullLength: number;
}

export interface WeightedConversation {
  /** The last user turn (empty text when there is none). */
  last: Segment;
  /** Earlier turns and the system prompt, most recent first. */
  context: Segment[];
  /** The (capped) system prompt alone, or '' when there is none: it also colours the last turn (features.ts). */
  systemText: string;
  /** The last turn quoted a whole chat for a background task (see withoutQuotedHistory). */
  quotedHistory: boolean;
}

/** The last user turn keeps its head (where the ask usually is) and its tail (where the question often is). */
const LAST_HEAD_CHARS = 1_200;
const LAST_TAIL_CHARS = 2_400;
/** Earlier turns matter less and are cut harder. */
const CONTEXT_HEAD_CHARS = 600;
const CONTEXT_TAIL_CHARS = 900;
const SYSTEM_CHARS = 1_200;
/** Turns older than this many messages before the last user turn are ignored. */
const MAX_CONTEXT_MESSAGES = 6;

/** Text of a message: strings as they are, text parts joined, images dropped. */
export function messageText(content: ChatMessage['content'] | undefined | null): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content as ContentPart[]) {
    if (part && part.type === 'text' && typeof part.text === 'string') out += (out ? '\n' : '') + part.text;
  }
  return out;
}

/**
 * Chat UIs run background tasks as one user turn: the instructions plus the whole chat quoted in
 * <chat_history>...</chat_history> (OpenWebUI's title, tags, follow-up and search-query prompts).
 * The quote is material for the task, not the task: read as part of the ask, a chat about code made
 * "suggest a 3-5 word title" a hard coding request for the largest coder. Only the instructions count.
 */
const QUOTED_HISTORY = /<chat_history>[\s\S]*?<\/chat_history>/gi;

export function withoutQuotedHistory(text: string): string {
  if (!text.includes('chat_history>') && !text.includes('CHAT_HISTORY>')) return text;
  return text.replace(QUOTED_HISTORY, ' ');
}

/** Keeps the first `head` and last `tail` characters of a long text. */
export function capText(text: string, head: number, tail: number): string {
  if (text.length <= head + tail) return text;
  return `${text.slice(0, head)}\n${text.slice(text.length - tail)}`;
}

/**
 * Relative weights inside the context: a user turn counts more than an assistant answer (the user
 * states the task; the answer merely follows it), the system prompt sets the scene, and each step
 * back in time counts less. How much the context as a whole counts against the last turn is decided
 * later (classify.ts), from how clear the last turn is on its own.
 */
const USER_CONTEXT_WEIGHT = 1;
const ASSISTANT_CONTEXT_WEIGHT = 0.5;
const TOOL_CONTEXT_WEIGHT = 0.3;
const SYSTEM_WEIGHT = 0.7;
const DECAY = 0.7;

export function weightConversation(messages: readonly ChatMessage[] | undefined | null): WeightedConversation {
  const list = Array.isArray(messages) ? messages : [];
  let lastUser = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i]?.role === 'user' && messageText(list[i].content).trim() !== '') {
      lastUser = i;
      break;
    }
  }
  const asked = lastUser >= 0 ? messageText(list[lastUser].content) : '';
  const lastText = withoutQuotedHistory(asked);
  const quotedHistory = lastText.length !== asked.length;
  const last: Segment = {
    text: capText(lastText, LAST_HEAD_CHARS, LAST_TAIL_CHARS),
    weight: 1,
    fullLength: lastText.length,
  };

  const context: Segment[] = [];
  const push = (message: ChatMessage, weight: number): void => {
    const text = messageText(message.content);
    if (text.trim() === '') return;
    context.push({ text: capText(text, CONTEXT_HEAD_CHARS, CONTEXT_TAIL_CHARS), weight, fullLength: text.length });
  };
  const roleWeight = (message: ChatMessage): number =>
    message.role === 'user' ? USER_CONTEXT_WEIGHT : message.role === 'assistant' ? ASSISTANT_CONTEXT_WEIGHT : TOOL_CONTEXT_WEIGHT;

  // Messages after the last user turn (an assistant reply awaiting continuation) are the most recent context.
  for (let i = list.length - 1; i > lastUser; i--) {
    const message = list[i];
    if (message && message.role !== 'system') push(message, roleWeight(message));
  }
  let step = 0;
  for (let i = lastUser - 1; i >= 0 && step < MAX_CONTEXT_MESSAGES; i--) {
    const message = list[i];
    if (!message || message.role === 'system' || messageText(message.content).trim() === '') continue;
    push(message, roleWeight(message) * DECAY ** step);
    step++;
  }
  const system = list
    .filter((m) => m?.role === 'system')
    .map((m) => messageText(m.content))
    .join('\n')
    .trim();
  const systemText = system ? capText(system, SYSTEM_CHARS / 2, SYSTEM_CHARS / 2) : '';
  if (system) context.push({ text: systemText, weight: SYSTEM_WEIGHT, fullLength: system.length });
  return { last, context, systemText, quotedHistory };
}

const WORD_COUNT_RE = /\S+/g;
/** Words in `text`, counting at most `max` (the mixing only needs to know whether a turn is short). */
export function countWords(text: string, max = Infinity): number {
  if (!text) return 0;
  WORD_COUNT_RE.lastIndex = 0;
  let n = 0;
  while (n < max && WORD_COUNT_RE.exec(text) !== null) n++;
  return n;
}
