/**
 * Circuit breakers per backend and per model, so a dead backend or a broken model is skipped
 * instead of costing every request a failed attempt (and, for a hanging one, a whole first-token
 * timeout).
 *
 *   closed --(N failures in a row)--> open --(cool-down)--> half_open --(probe ok)--> closed
 *                                       ^----------------(probe fails)-----'
 *
 * In half_open one real request is let through as the probe; the others keep skipping until it
 * answers. Which failures count where:
 * - `unreachable` (refused, reset, DNS) says the backend is gone: it counts for the backend circuit.
 * - timeouts, bad responses, overload, internal errors and a vanished model are the model's
 *   failures: they count for the model circuit (another model of the same backend may be fine).
 * - aborts (the client left) and request-specific rejections (bad_request, unauthorized,
 *   unsupported) say nothing about health and count for neither.
 *
 * State changes lazily (open -> half_open is noticed on the next check), so there is no timer.
 */
import type { CircuitScope, CircuitState } from './events.js';

export interface CircuitSettings {
  /** Consecutive failures that open a circuit. */
  failureThreshold: number;
  /** How long an open circuit skips its target before letting a probe through. */
  cooldownMs: number;
}

export interface CircuitChange {
  scope: CircuitScope;
  name: string;
  from: CircuitState;
  to: CircuitState;
  /** Set when another replica's circuit moved and this one followed (applyRemote). */
  remote?: boolean;
}

export interface CircuitInfo {
  scope: CircuitScope;
  name: string;
  state: CircuitState;
  consecutiveFailures: number;
  lastError?: string;
}

interface Circuit {
  state: CircuitState;
  failures: number;
  openedAt: number;
  /** When the half-open probe was let through; undefined when none is in flight. */
  probeAt?: number;
  lastError?: string;
}

/** Failures of the whole backend: down, or refusing the router's credentials (a wrong or revoked key fails every model there). */
const BACKEND_CODES: ReadonlySet<string> = new Set(['unreachable', 'unauthorized']);
const MODEL_CODES: ReadonlySet<string> = new Set(['timeout', 'bad_response', 'overloaded', 'internal', 'not_found']);

export class CircuitBreakers {
  private readonly backends = new Map<string, Circuit>();
  private readonly models = new Map<string, Circuit>();
  private readonly now: () => number;

  constructor(
    private readonly settings: CircuitSettings,
    private readonly options: { onChange?: (change: CircuitChange) => void; now?: () => number } = {},
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Why an attempt on this model must be skipped now, or undefined when it may go. Does not take
   * the half-open probe (begin() does), so it can be asked for every ranked candidate.
   */
  blocked(backend: string, model: string): string | undefined {
    return this.check('backend', backend) ?? this.check('model', model);
  }

  /** Whole seconds until an open circuit of this backend or model lets a probe through, if one is open. */
  retryAfterSeconds(backend: string, model: string): number | undefined {
    let wait = 0;
    for (const c of [this.backends.get(backend), this.models.get(model)]) {
      if (c?.state === 'open') wait = Math.max(wait, c.openedAt + this.settings.cooldownMs - this.now());
    }
    return wait > 0 ? Math.ceil(wait / 1000) : undefined;
  }

  /** An attempt is starting: takes the probe of a half-open circuit. */
  begin(backend: string, model: string): void {
    for (const c of [this.backends.get(backend), this.models.get(model)]) {
      if (c?.state === 'half_open' && c.probeAt === undefined) c.probeAt = this.now();
    }
  }

  /** The outcome of an attempt: undefined = it worked, else the PluginError code. */
  result(backend: string, model: string, errorCode?: string): void {
    if (errorCode === undefined) {
      this.succeed('backend', backend);
      this.succeed('model', model);
      return;
    }
    if (BACKEND_CODES.has(errorCode)) this.fail('backend', backend, errorCode);
    else this.release(this.backends.get(backend));
    if (MODEL_CODES.has(errorCode)) this.fail('model', model, errorCode);
    else this.release(this.models.get(model));
  }

  /** Every circuit that ever saw a failure, with its current state. */
  snapshot(): CircuitInfo[] {
    const out: CircuitInfo[] = [];
    for (const [scope, map] of [['backend', this.backends], ['model', this.models]] as const) {
      for (const [name, c] of map) {
        this.check(scope, name);
        out.push({ scope, name, state: c.state, consecutiveFailures: c.failures, ...(c.lastError ? { lastError: c.lastError } : {}) });
      }
    }
    return out;
  }

  state(scope: CircuitScope, name: string): CircuitState {
    this.check(scope, name);
    return this.map(scope).get(name)?.state ?? 'closed';
  }

  /**
   * A state another replica's circuit reached (ROUTER_REDIS_URL): open here too, for a full
   * cool-down from now, or closed again. Half-open is not shared: each replica probes for itself.
   */
  applyRemote(scope: CircuitScope, name: string, to: 'open' | 'closed', failures = 0, lastError?: string): void {
    const map = this.map(scope);
    let c = map.get(name);
    if (to === 'closed') {
      if (!c || c.state === 'closed') return;
      c.failures = 0;
      c.probeAt = undefined;
      this.move(scope, name, c, 'closed', true);
      return;
    }
    if (!c) map.set(name, (c = { state: 'closed', failures: 0, openedAt: 0 }));
    if (c.state === 'open') return;
    c.failures = Math.max(c.failures, failures);
    if (lastError !== undefined) c.lastError = lastError;
    c.probeAt = undefined;
    c.openedAt = this.now();
    this.move(scope, name, c, 'open', true);
  }

  // -------------------------------------------------------------------------------------------

  private map(scope: CircuitScope): Map<string, Circuit> {
    return scope === 'backend' ? this.backends : this.models;
  }

  private check(scope: CircuitScope, name: string): string | undefined {
    const c = this.map(scope).get(name);
    if (!c || c.state === 'closed') return undefined;
    const now = this.now();
    if (c.state === 'open') {
      const wait = c.openedAt + this.settings.cooldownMs - now;
      if (wait > 0) return `circuit open: ${scope} "${name}" failed ${c.failures} times in a row (last: ${c.lastError}); next probe in ${Math.ceil(wait / 100) / 10} s`;
      this.move(scope, name, c, 'half_open');
      c.probeAt = undefined;
    }
    // A probe that never reported back (lost in a bug) must not keep the circuit shut forever.
    if (c.probeAt !== undefined && now - c.probeAt < Math.max(this.settings.cooldownMs, 1000)) {
      return `circuit half-open: ${scope} "${name}" is being probed by another request`;
    }
    return undefined;
  }

  private succeed(scope: CircuitScope, name: string): void {
    const c = this.map(scope).get(name);
    if (!c) return;
    c.failures = 0;
    c.probeAt = undefined;
    if (c.state !== 'closed') this.move(scope, name, c, 'closed');
  }

  private fail(scope: CircuitScope, name: string, code: string): void {
    const map = this.map(scope);
    let c = map.get(name);
    if (!c) map.set(name, (c = { state: 'closed', failures: 0, openedAt: 0 }));
    c.failures++;
    c.lastError = code;
    c.probeAt = undefined;
    // A failed probe reopens at once; a closed circuit opens at the threshold.
    if (c.state === 'half_open' || (c.state === 'closed' && c.failures >= this.settings.failureThreshold)) {
      c.openedAt = this.now();
      this.move(scope, name, c, 'open');
    }
  }

  /** An attempt that proved nothing (client left, request rejected): the probe may go again. */
  private release(c: Circuit | undefined): void {
    if (c) c.probeAt = undefined;
  }

  private move(scope: CircuitScope, name: string, c: Circuit, to: CircuitState, remote = false): void {
    const from = c.state;
    c.state = to;
    this.options.onChange?.(remote ? { scope, name, from, to, remote } : { scope, name, from, to });
  }
}
