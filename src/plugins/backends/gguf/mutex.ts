/**
 * A FIFO lock whose waiters can give up when their AbortSignal fires. One context sequence evaluates
 * one request at a time, so every use of a loaded model goes through its lock.
 */
export type Release = () => void;

export class Mutex {
  private locked = false;
  private readonly waiters: Array<() => void> = [];

  /** True when nobody holds the lock and nobody waits. */
  get idle(): boolean {
    return !this.locked && this.waiters.length === 0;
  }

  /** Number of callers waiting (not counting the holder). */
  get queued(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once the caller holds the lock; rejects with the signal's reason on abort. */
  async acquire(signal?: AbortSignal): Promise<Release> {
    signal?.throwIfAborted();
    if (!this.locked) {
      this.locked = true;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Hand the lock straight to the next waiter so nobody can barge in between.
      const next = this.waiters.shift();
      if (next) next();
      else this.locked = false;
    };
  }
}
