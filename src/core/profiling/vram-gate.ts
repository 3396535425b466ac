/**
 * Keeps concurrent profiling inside the VRAM budget: a model starts only when its estimated size
 * fits next to the models already profiling. A model alone always starts (a model bigger than the
 * budget is still profiled, by itself), so the gate can delay but never starve a run.
 */
import type { ProfileEntry } from './types.js';
import { estimateModelVramBytes } from '../vram/budget.js';

export class VramGate {
  private usedBytes = 0;
  private running = 0;
  private waiters: Array<() => void> = [];

  /** @param budgetBytes the VRAM the router may fill; undefined (unknown) = no limit but concurrency. */
  constructor(private readonly budgetBytes: () => number | undefined) {}

  /** What a model will take: its file size when known (weights dominate), else an estimate from its parameters. */
  static estimate(entry: ProfileEntry): number {
    const size = entry.info.sizeBytes;
    if (size !== undefined && Number.isFinite(size) && size > 0) return size;
    const params = entry.info.parameterCountB;
    return params !== undefined && Number.isFinite(params) && params >= 0 ? estimateModelVramBytes(params, entry.info.quantization) : 0;
  }

  /** Resolves with the release once the model may load; rejects when `signal` aborts first. */
  async acquire(bytes: number, signal: AbortSignal): Promise<() => void> {
    for (;;) {
      signal.throwIfAborted();
      const budget = this.budgetBytes();
      if (this.running === 0 || budget === undefined || budget <= 0 || this.usedBytes + bytes <= budget) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    this.usedBytes += bytes;
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.usedBytes -= bytes;
      this.running--;
      // Everyone re-checks: a large release may let several smaller models in.
      for (const wake of this.waiters.splice(0)) wake();
    };
  }
}
