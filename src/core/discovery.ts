/**
 * Model discovery: at start-up and every polling interval, lists every backend (through the
 * registry), records what it found in the model repository (new models added, changed ones updated,
 * vanished ones marked unavailable — never deleted, so their history stays) and hands the models
 * worth profiling to a callback: every available chat model on the first round (the profiler's plan
 * skips what is current, and picks up runs a crash interrupted or a new prompt set invalidated),
 * then only the new, changed and returning ones.
 */
import type { BackendModelInfo } from '../plugin-api/index.js';
import type { ModelRegistry, RegistryEntry } from './registry.js';

export interface DiscoveredModel {
  key: string;
  backend: string;
  info: BackendModelInfo;
  available: boolean;
}

/** What a sync changed, by router-wide key. */
export interface ModelSyncResult {
  added: string[];
  /** Digest or size differs from the stored one: new weights under the same name. */
  changed: string[];
  /** Stored as available, now missing or unavailable. */
  vanished: string[];
  /** Stored as unavailable, available again. */
  returned: string[];
}

/** The models table (src/db/model-store.ts). */
export interface ModelRepository {
  sync(models: readonly DiscoveredModel[], seenAt: Date): Promise<ModelSyncResult>;
}

export interface DiscoveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface DiscoveryOptions {
  registry: ModelRegistry;
  /**
   * After a round in which a backend could not list its models, the next round comes after this
   * delay, doubled each time it fails again up to the polling interval (or 60 s when polling is off):
   * a backend still loading at start-up (llama-server answers 503 while it loads) or back from an
   * outage is routed to within seconds, not after a whole polling interval, or never (default 2 s).
   */
  retryDelayMs?: number;
  models: ModelRepository;
  /** Models to consider for profiling (called only with available chat models). */
  onProfileCandidates?(entries: RegistryEntry[]): void;
  /** The names the router answers itself (ROUTER_EXTERNAL_MODEL_NAME and its aliases). */
  routerNames?: readonly string[];
  logger?: DiscoveryLogger;
}

export class Discovery {
  private rounds = 0;
  private running: Promise<ModelSyncResult | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryFailures = 0;
  private pollingMs = 0;
  private stopped = false;
  /** Backend models already reported as hidden behind a router name (warned once each). */
  private readonly shadowed = new Set<string>();

  constructor(private readonly options: DiscoveryOptions) {}

  /**
   * One round. Rounds never overlap: a round asked for while one runs returns that one (a slow
   * backend must not pile polling rounds up).
   */
  round(signal: AbortSignal): Promise<ModelSyncResult | undefined> {
    this.running ??= this.runRound(signal).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Polls every `intervalMs` (0 = never); the timer does not keep the process alive. */
  startPolling(intervalMs: number, signal: AbortSignal): void {
    this.pollingMs = Math.max(0, intervalMs);
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.round(signal), intervalMs);
    this.timer.unref();
  }

  /** Stops polling and waits for a round in flight (its store writes must land before the database closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.running?.catch(() => undefined);
  }

  /**
   * A backend model listed under a name the router answers itself (ROUTER_EXTERNAL_MODEL_NAME=qwen3:8b)
   * can never be reached by that name: requests for it are routed. Said once per model, not per round.
   */
  private warnShadowed(): void {
    for (const name of this.options.routerNames ?? []) {
      const entry = this.options.registry.get(name);
      if (!entry || this.shadowed.has(entry.key)) continue;
      this.shadowed.add(entry.key);
      this.options.logger?.warn(
        { model: entry.key, backend: entry.backend.name },
        `backend model "${entry.key}" has the name the router answers itself: requests for it are routed; rename the router model (ROUTER_EXTERNAL_MODEL_NAME, ROUTER_MODEL_ALIASES) or set ROUTER_MODEL_PREFIX`,
      );
    }
  }

  private async runRound(signal: AbortSignal): Promise<ModelSyncResult | undefined> {
    const first = this.rounds++ === 0;
    const { registry, logger } = this.options;
    let refreshed;
    try {
      refreshed = await registry.refresh(signal);
    } catch (error) {
      logger?.warn({ err: error }, 'model discovery failed');
      this.scheduleRetry(true, signal);
      return undefined;
    }
    this.scheduleRetry(refreshed.failedBackends.length > 0, signal);
    this.warnShadowed();
    const entries = registry.entriesList();
    let sync: ModelSyncResult | undefined;
    try {
      sync = await this.options.models.sync(
        entries.map((e) => ({ key: e.key, backend: e.backend.name, info: e.info, available: e.available })),
        new Date(),
      );
    } catch (error) {
      logger?.warn({ err: error }, 'cannot record discovered models; profiling what the registry found new');
    }
    const changes = sync ?? { added: refreshed.added, changed: [], vanished: refreshed.removed, returned: [] };
    if (changes.added.length || changes.changed.length || changes.vanished.length || changes.returned.length) {
      logger?.info({ ...changes, failedBackends: refreshed.failedBackends }, 'models discovered');
    }
    if (signal.aborted) return sync;
    const wanted = new Set([...changes.added, ...changes.changed, ...changes.returned]);
    const candidates = entries.filter((e) => e.available && e.info.capabilities.chat && (first || wanted.has(e.key)));
    if (candidates.length > 0) this.options.onProfileCandidates?.(candidates);
    return sync;
  }

  /** One retry round after a failed listing, sooner than the next poll; backs off while it keeps failing. */
  private scheduleRetry(failed: boolean, signal: AbortSignal): void {
    if (!failed) {
      this.retryFailures = 0;
      return;
    }
    if (this.retryTimer || this.stopped || signal.aborted) return;
    const base = this.options.retryDelayMs ?? 2_000;
    if (base <= 0) return;
    const delay = base * 2 ** Math.min(this.retryFailures++, 16);
    // Once the wait reaches the polling interval the next poll is the retry.
    if (this.pollingMs > 0 && delay >= this.pollingMs) return;
    const cap = 60_000;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped && !signal.aborted) void this.round(signal);
    }, Math.min(cap, delay));
    this.retryTimer.unref();
  }
}
