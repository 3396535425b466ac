/** FeedbackBook: the per-model, per-category feedback means the scorer reads, one score per answer. */
import { describe, expect, it } from 'vitest';
import { FeedbackBook } from '../src/core/history.js';

describe('FeedbackBook', () => {
  it('averages the scores of different answers', () => {
    const book = new FeedbackBook();
    book.add('r1', 'm', 'coding', 1);
    book.add('r2', 'm', 'coding', 0);
    expect(book.mean('m', 'coding')).toBe(0.5);
    expect(book.mean('m', 'general')).toBeUndefined();
  });

  it('a later rating of the same answer replaces the earlier one, however often it is sent', () => {
    const book = new FeedbackBook();
    book.add('r1', 'm', 'coding', 1);
    book.add('r2', 'm', 'coding', 1);
    for (let i = 0; i < 20; i++) book.add('r1', 'm', 'coding', -1);
    expect(book.mean('m', 'coding')).toBe(0);
  });

  it('a replaced rating that was the only one of its model and category leaves no mean behind', () => {
    const book = new FeedbackBook();
    // Replicas replay rows in id order; a row for the same answer under another category moves it.
    book.add('r1', 'm', 'coding', 1);
    book.add('r1', 'm', 'general', -0.5);
    expect(book.mean('m', 'coding')).toBeUndefined();
    expect(book.mean('m', 'general')).toBe(-0.5);
  });
});
