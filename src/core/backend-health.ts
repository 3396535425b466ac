/**
 * Keeps a fresh view of each backend's health without putting health checks on the request path:
 * a background loop probes every backend (with a timeout) and /health reads the latest snapshot.
 */
import type { BackendPlugin } from '../plugin-api/index.js';

export interface BackendHealth {
  name: string;
  provider: string;
  ok: boolean;
  latencyMs: number;
  message?: string;
  checkedAt: Date | null;
}

export interface BackendHealthMonitorOptions {
  intervalMs?: number;
  timeoutMs?: number;
  /** Called after every check; `changed` when the verdict differs from the last one (or is the first). */
  onCheck?: (health: BackendHealth, changed: boolean) => void;
}

export class BackendHealthMonitor {
  private readonly latest = new Map<string, BackendHealth>();
  private timer: NodeJS.Timeout | undefined;
  private readonly controller = new AbortController();
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly onCheck: ((health: BackendHealth, changed: boolean) => void) | undefined;

  constructor(
    private readonly backends: readonly BackendPlugin[],
    options: BackendHealthMonitorOptions = {},
  ) {
    this.onCheck = options.onCheck;
    this.intervalMs = options.intervalMs ?? 15_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    for (const b of backends) {
      this.latest.set(b.name, { name: b.name, provider: b.provider, ok: false, latencyMs: 0, message: 'not checked yet', checkedAt: null });
    }
  }

  /** Probes once now, then every interval. */
  start(): Promise<BackendHealth[]> {
    const first = this.checkNow();
    this.timer = setInterval(() => void this.checkNow(), this.intervalMs);
    this.timer.unref();
    return first;
  }

  stop(): void {
    clearInterval(this.timer);
    this.controller.abort();
  }

  snapshot(): BackendHealth[] {
    return [...this.latest.values()];
  }

  async checkNow(): Promise<BackendHealth[]> {
    await Promise.all(this.backends.map((b) => this.check(b)));
    return this.snapshot();
  }

  private async check(backend: BackendPlugin): Promise<void> {
    const started = performance.now();
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.timeoutMs)]);
    let entry: BackendHealth;
    try {
      const status = await backend.health({ signal });
      entry = { name: backend.name, provider: backend.provider, ok: status.ok, latencyMs: round(status.latencyMs), message: status.message, checkedAt: new Date() };
    } catch (error) {
      // health() should not throw, but a third-party plugin may: it only makes the backend unhealthy.
      const message = signal.aborted && !this.controller.signal.aborted ? `no answer in ${this.timeoutMs} ms` : (error as Error)?.message ?? String(error);
      entry = { name: backend.name, provider: backend.provider, ok: false, latencyMs: round(performance.now() - started), message, checkedAt: new Date() };
    }
    const previous = this.latest.get(backend.name);
    this.latest.set(backend.name, entry);
    if (this.controller.signal.aborted) return;
    this.onCheck?.(entry, !previous?.checkedAt || previous.ok !== entry.ok);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
