/**
 * Turns callbacks (node-llama-cpp's onResponseChunk) into something an async generator can await.
 * Unbounded on purpose: tokens arrive at most as fast as the model produces them, a few bytes each.
 */
export class PushQueue<T> {
  private readonly items: T[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake();
  }

  /** No more items will come; `next` drains what is left and then returns undefined. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The next item, or undefined once the queue has ended and is empty. */
  async next(): Promise<T | undefined> {
    while (this.items.length === 0) {
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    return this.items.shift();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
