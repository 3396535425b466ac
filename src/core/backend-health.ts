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
  /**
   * Called after every check with the verdict: `down` once FAILURES_TO_DOWN checks in a row failed
   * (one slow answer is not an outage), up again at the first check that passes; `changed` when the
   * verdict differs from the last one.
   */
  onVerdict?: (health: BackendHealth, down: boolean, changed: boolean) => void;
}

/** Failed checks in a row before a backend is called down. */
export const FAILURES_TO_DOWN = 2;

export class BackendHealthMonitor {
  private readonly latest = new Map<string, BackendHealth>();
  /** Checks running now, by backend: a slow backend is never probed twice at once. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, number>();
  private readonly down = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly controller = new AbortController();
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly onVerdict: BackendHealthMonitorOptions['onVerdict'];

  constructor(
    private readonly backends: readonly BackendPlugin[],
    options: BackendHealthMonitorOptions = {},
  ) {
    this.onVerdict = options.onVerdict;
    this.intervalMs = options.intervalMs ?? 15_000;
    // Generous: a remote API's model list can take a second or two, and a backend called down is
    // skipped by routing (two failed checks in a row).
    this.timeoutMs = options.timeoutMs ?? 5_000;
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

  /** Whether the backend is called down (FAILURES_TO_DOWN failed checks in a row, none passed since). */
  isDown(name: string): boolean {
    return this.down.has(name);
  }

  async checkNow(): Promise<BackendHealth[]> {
    await Promise.all(this.backends.map((b) => this.checkOnce(b)));
    return this.snapshot();
  }

  /** Checks one backend now (a check already running for it counts); unknown names are ignored. */
  async checkBackend(name: string): Promise<BackendHealth | undefined> {
    const backend = this.backends.find((b) => b.name === name);
    if (!backend) return undefined;
    await this.checkOnce(backend);
    return this.latest.get(name);
  }

  private checkOnce(backend: BackendPlugin): Promise<void> {
    const inFlight = this.running.get(backend.name);
    if (inFlight) return inFlight;
    const check = this.check(backend).finally(() => this.running.delete(backend.name));
    this.running.set(backend.name, check);
    return check;
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
    this.latest.set(backend.name, entry);
    if (this.controller.signal.aborted) return;
    const failures = entry.ok ? 0 : (this.failures.get(backend.name) ?? 0) + 1;
    this.failures.set(backend.name, failures);
    const wasDown = this.down.has(backend.name);
    const down = failures >= FAILURES_TO_DOWN;
    if (down) this.down.add(backend.name);
    else this.down.delete(backend.name);
    this.onVerdict?.(entry, down, down !== wasDown);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
