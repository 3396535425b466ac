import { untilAborted } from './abortable.js';

/**
 * Client requests in flight, per backend. Profiling waits for a backend to be quiet before each
 * prompt: on a busy backend its timings would measure the queue (an in-process GGUF backend runs one
 * request at a time; a GPU shares itself among them), and the clients would wait behind the profile.
 */
export class BackendActivity {
  private readonly active = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  /** A client request went to `backend`. */
  enter(backend: string): void {
    this.active.set(backend, (this.active.get(backend) ?? 0) + 1);
  }

  /** A client request to `backend` ended (answered, failed or abandoned). */
  leave(backend: string): void {
    const left = (this.active.get(backend) ?? 1) - 1;
    if (left > 0) {
      this.active.set(backend, left);
      return;
    }
    this.active.delete(backend);
    const waiting = this.waiters.get(backend);
    if (!waiting) return;
    this.waiters.delete(backend);
    for (const wake of waiting) wake();
  }

  /** Client requests in flight on `backend`. */
  inFlight(backend: string): number {
    return this.active.get(backend) ?? 0;
  }

  /**
   * Resolves when `backend` serves no client request, or after `maxWaitMs` (a backend that is never
   * quiet must not stop profiling for good); rejects with the reason when `signal` aborts.
   */
  whenQuiet(backend: string, signal: AbortSignal, maxWaitMs: number): Promise<void> {
    if (!this.active.has(backend)) return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    const quiet = new Promise<void>((resolve) => {
      const set = this.waiters.get(backend) ?? new Set<() => void>();
      this.waiters.set(backend, set);
      const wake = (): void => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, maxWaitMs);
      timer.unref?.();
      set.add(wake);
    });
    // A caller that gave up leaves its waiter to the next quiet moment or its timer, unheard.
    return untilAborted(quiet, signal);
  }
}
