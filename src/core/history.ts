/**
 * What the router remembers between requests, kept in memory for the scorer: recent selections (the
 * recency factor) and mean user feedback per model and category. Both are cheap O(1) lookups.
 */
import type { Category } from '../plugin-api/index.js';

/** Share of the last N selections that went to each model. */
export class RecentSelections {
  private readonly ring: (string | undefined)[];
  private readonly counts = new Map<string, number>();
  private next = 0;
  private filled = 0;

  constructor(readonly size = 51) {
    // An odd window keeps two equally good models alternating instead of tying.
    this.ring = new Array(size);
  }

  add(key: string): void {
    const old = this.ring[this.next];
    if (old !== undefined) {
      const n = (this.counts.get(old) ?? 1) - 1;
      if (n <= 0) this.counts.delete(old);
      else this.counts.set(old, n);
    }
    this.ring[this.next] = key;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.next = (this.next + 1) % this.size;
    if (this.filled < this.size) this.filled++;
  }

  share = (key: string): number => (this.filled === 0 ? 0 : (this.counts.get(key) ?? 0) / this.filled);
}

/**
 * Running mean of feedback scores (-1..1) per model and category, one score per answer: a later
 * rating of the same response id replaces the earlier one (a thumbs-up changed to a thumbs-down
 * counts once, as down; a client repeating a rating cannot outweigh everyone else). The store keeps
 * every rating as it came; replaying them in order here gives the same means on every replica.
 */
export class FeedbackBook {
  private readonly sums = new Map<string, { total: number; count: number }>();
  /** The counted score of each rated response, and where it was counted. */
  private readonly byResponse = new Map<string, { id: string; score: number }>();

  add(responseId: string, modelKey: string, category: string, score: number): void {
    const id = `${modelKey}\u0000${category}`;
    const previous = this.byResponse.get(responseId);
    if (previous) {
      const old = this.sums.get(previous.id)!;
      old.total -= previous.score;
      old.count -= 1;
      if (old.count === 0) this.sums.delete(previous.id);
    }
    const entry = this.sums.get(id) ?? { total: 0, count: 0 };
    entry.total += score;
    entry.count += 1;
    this.sums.set(id, entry);
    this.byResponse.set(responseId, { id, score });
  }

  mean = (modelKey: string, category: Category): number | undefined => {
    const entry = this.sums.get(`${modelKey}\u0000${category}`);
    return entry ? entry.total / entry.count : undefined;
  };
}
