/**
 * What the caches hold: a complete answer as the core's stream parts, plus who answered it. Kept as
 * parts (not as text) so a hit replays through the same adapters as a live answer: a streaming
 * client gets SSE chunks or ChatStream messages, a waiting one the collected answer.
 */
import type { Category, ChatStreamPart, Complexity, FinishReason } from '../../plugin-api/index.js';

export type AnswerPart = Exclude<ChatStreamPart, { type: 'error' }>;

export interface CachedAnswer {
  /** Parts in order, ending with the finish part. */
  parts: AnswerPart[];
  /** Router-wide key of the model that answered. */
  model: string;
  backend: string;
  category: Category;
  complexity: Complexity;
  complexityScore: number;
}

/** Finish reasons of an answer worth serving again; anything else (filtered, failed) is not cached. */
const CACHEABLE_FINISH = new Set<FinishReason>(['stop', 'length', 'tool_calls']);

/**
 * Passes parts through and calls `complete` with the whole answer once its finish part went by.
 * Errors, streams that end without a finish (cut) and consumers that stop early (client gone)
 * never reach `complete`, so no partial answer is ever cached.
 */
export async function* capture(parts: AsyncIterable<ChatStreamPart>, complete: (parts: AnswerPart[]) => void): AsyncGenerator<ChatStreamPart> {
  const seen: AnswerPart[] = [];
  for await (const part of parts) {
    if (part.type === 'error') {
      yield part;
      return;
    }
    seen.push(part);
    if (part.type === 'finish') {
      if (CACHEABLE_FINISH.has(part.finishReason)) complete(compact(seen));
      yield part;
      return;
    }
    yield part;
  }
}

/**
 * Merges runs of text and reasoning deltas: a cached answer replays in a few frames instead of one
 * per token, and holds a few strings instead of hundreds of small objects.
 */
export function compact(parts: readonly AnswerPart[]): AnswerPart[] {
  const out: AnswerPart[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (last && (part.type === 'text-delta' || part.type === 'reasoning-delta') && last.type === part.type) {
      out[out.length - 1] = { type: part.type, delta: last.delta + part.delta };
    } else out.push(part.type === 'finish' ? { ...part, usage: { ...part.usage } } : { ...part });
  }
  return out;
}

/** A cached answer as a fresh stream (copies, so no consumer can change the cached parts). */
export async function* replay(answer: CachedAnswer): AsyncGenerator<ChatStreamPart> {
  for (const part of answer.parts) yield part.type === 'finish' ? { ...part, usage: { ...part.usage } } : { ...part };
}
