/**
 * The VRAM manager: keeps the models the router dispatches to within the VRAM budget.
 *
 * - Before dispatching to a model that is not in memory, it lists what the backends hold, and when
 *   the new model would not fit, unloads the least recently used, unpinned models on backends that
 *   can unload (true LRU by the router's own dispatch order). When even that cannot make room, the
 *   model is skipped so the router cascades to the next capable candidate, which may fit; the last
 *   candidate is dispatched anyway (the backend may offload layers to CPU).
 * - Above ROUTER_VRAM_UNLOAD_THRESHOLD_PCT of the budget (measured by nvidia-smi), idle models are
 *   unloaded, least recently used first.
 * - The pinned model is loaded at start-up, kept warm and never unloaded.
 * - Load, unload and pin on request (AdminService, /admin/models/*).
 *
 * Budget: ROUTER_VRAM_MAX_TOTAL_GB, else 90% of the total nvidia-smi reports. Without either there is
 * no budget, and nothing is ever unloaded to make room. Usage is the larger of what nvidia-smi
 * reports and the sum of the loaded models' sizes (measured, or estimated until measured).
 *
 * CPU: a loaded model a backend reports with a size but 0 VRAM runs on the CPU (the plugin contract:
 * "0 on CPU") and counts 0. A backend whose loaded models all run on the CPU is taken to run its
 * other models there too, so they are budgeted 0 as well, until a listing says otherwise.
 *
 * Core only: no server, ORM or metrics imports. Backends are reached through the plugin contract.
 */
import { PluginError, type BackendPlugin, type LoadedModel as BackendLoadedModel } from '../plugin-api/index.js';
import type { ModelRegistry, RegistryEntry } from './registry.js';
import { BYTES_PER_GB, defaultBudgetGb, planEviction, type LoadedModel as EvictionCandidate } from './vram/budget.js';
import { ModelSizes, type ModelVramStore } from './vram/model-sizes.js';

export interface VramManagerSettings {
  /** ROUTER_VRAM_MAX_TOTAL_GB; undefined or 0 = 90% of the detected total. */
  maxTotalGb?: number;
  /** ROUTER_VRAM_AUTO_UNLOAD_ENABLED. */
  autoUnloadEnabled: boolean;
  /** ROUTER_VRAM_UNLOAD_THRESHOLD_PCT: share of the budget above which idle models are unloaded. */
  unloadThresholdPct: number;
  /** ROUTER_PINNED_MODEL (router-wide or backend-local id). */
  pinnedModel?: string;
  /** How often the pinned model is checked and re-loaded (default 60 s). */
  keepWarmIntervalMs?: number;
  /** A model not dispatched to for this long counts as idle for threshold unloading (default 60 s). */
  idleAfterMs?: number;
  /** Per backend call listing loaded models or unloading one (default 5 s). */
  backendTimeoutMs?: number;
}

/** What the manager reads from the GPU monitor (VramMonitor satisfies it). */
export interface GpuReader {
  /** Totals of the latest sample; zero while monitoring is off. */
  totals(): { totalGb: number; usedGb: number };
  /** Takes a sample now (used around an explicit load to measure the model by the difference). */
  sampleNow(): Promise<unknown>;
}

export interface VramManagerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface VramManagerDeps {
  registry: ModelRegistry;
  settings: VramManagerSettings;
  store?: ModelVramStore;
  logger: VramManagerLogger;
  /** Clock (tests). */
  now?: () => number;
}

/** A model in memory on a backend, as the manager sees it. */
export interface ManagedModel {
  /** Router-wide id (the backend-local id when the registry does not know the model). */
  key: string;
  backend: string;
  modelId: string;
  sizeBytes: number;
  vramBytes: number;
  /** False when vramBytes is an estimate. */
  measured: boolean;
  pinned: boolean;
  /** When the router last dispatched to the model (undefined: not since start-up). */
  lastUsedAt?: Date;
  expiresAt?: Date;
}

export type VramErrorCode = 'invalid_request' | 'model_not_found' | 'pinned' | 'not_pinned' | 'not_loadable' | 'backend_failed' | 'aborted';

const VRAM_ERROR_MARK = Symbol.for('smarterrouter.core.vram-error');

/** Failures of the load/unload/pin operations; each door maps the code once. */
export class VramError extends Error {
  readonly [VRAM_ERROR_MARK] = true;
  constructor(
    readonly code: VramErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VramError';
  }
  static isInstance(error: unknown): error is VramError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[VRAM_ERROR_MARK] === true;
  }
}

export interface OperationResult {
  ok: boolean;
  /** Router-wide id of the model. */
  model: string;
  message: string;
}

interface ViewEntry extends ManagedModel {
  plugin: BackendPlugin;
}

const DEFAULTS = { keepWarmIntervalMs: 60_000, idleAfterMs: 60_000, backendTimeoutMs: 5_000 } as const;
/** A load the manager made room for counts as used until a listing shows it, for at most this long. */
const RESERVATION_MS = 120_000;

export class VramManager {
  private readonly sizes: ModelSizes;
  private readonly now: () => number;
  private readonly keepWarmMs: number;
  private readonly idleAfterMs: number;
  private readonly timeoutMs: number;
  private gpu: GpuReader | undefined;
  /** Dispatch order: a counter rather than a clock, so two dispatches in one millisecond keep their order. */
  private readonly uses = new Map<string, { seq: number; at: Date }>();
  private useSeq = 0;
  /** The latest listing of loaded models, by key. */
  private view = new Map<string, ViewEntry>();
  /** Backends whose last listing with models in it had every one on the CPU (see cpuOnly()). */
  private readonly cpuBackends = new Set<BackendPlugin>();
  private readonly reservations = new Map<string, { bytes: number; until: number }>();
  private pinnedName: string | undefined;
  private pinMissingLogged = false;
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly stopController = new AbortController();

  constructor(private readonly deps: VramManagerDeps) {
    const s = deps.settings;
    this.now = deps.now ?? Date.now;
    this.keepWarmMs = s.keepWarmIntervalMs ?? DEFAULTS.keepWarmIntervalMs;
    this.idleAfterMs = s.idleAfterMs ?? DEFAULTS.idleAfterMs;
    this.timeoutMs = s.backendTimeoutMs ?? DEFAULTS.backendTimeoutMs;
    this.pinnedName = s.pinnedModel || undefined;
    this.sizes = new ModelSizes(deps.store, (err) => deps.logger.warn({ err }, 'cannot store a model VRAM measurement'));
  }

  /** Reads stored measurements. */
  async init(): Promise<void> {
    await this.sizes.init();
  }

  /** Lets the manager read nvidia-smi figures (absent or disabled monitor: explicit budget only). */
  attachGpu(gpu: GpuReader | undefined): void {
    this.gpu = gpu;
  }

  /** Loads the pinned model now, then keeps it warm. */
  start(): void {
    if (this.timer) return;
    void this.keepWarm();
    this.timer = setInterval(() => void this.keepWarm(), this.keepWarmMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopController.abort();
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /** The budget in bytes, or undefined when none is configured and no GPU total is known. */
  budgetBytes(): number | undefined {
    const explicit = this.deps.settings.maxTotalGb;
    if (explicit !== undefined && explicit > 0) return explicit * BYTES_PER_GB;
    const total = this.gpu?.totals().totalGb ?? 0;
    return total > 0 ? defaultBudgetGb(total) * BYTES_PER_GB : undefined;
  }

  /** Router-wide id of the pinned model (the configured name until the registry knows it). */
  pinnedModel(): string | undefined {
    if (!this.pinnedName) return undefined;
    return this.deps.registry.resolve(this.pinnedName)?.key ?? this.pinnedName;
  }

  /**
   * Loaded models with their sizes as of the last listing, without any I/O (GET /admin/vram's
   * fallback when a fresh listing fails). Call loadedModels() for a fresh listing.
   */
  loadedModelSizes(): ManagedModel[] {
    return [...this.view.values()].map((v) => this.publicView(v));
  }

  /**
   * For the routing score (RoutableModel.vram): in memory, or whether it would fit once loaded
   * (after the unloading allowed), judged from the last listing without I/O. Undefined where no
   * budget applies.
   */
  vramState(entry: RegistryEntry): { loaded: boolean; fits: boolean } | undefined {
    if (!entry.backend.capabilities.loadedModels) return undefined;
    if (this.view.has(entry.key)) return { loaded: true, fits: true };
    const budget = this.budgetBytes();
    if (budget === undefined) return undefined;
    if (this.cpuBackends.has(entry.backend)) return { loaded: false, fits: true };
    const needed = this.sizes.sizeOf(entry.key, entry.info).bytes;
    const plan = planEviction(this.deps.settings.autoUnloadEnabled ? this.candidates(entry.key) : [], needed, budget, this.usedBytes());
    return { loaded: false, fits: plan.fits };
  }

  /** Lists the backends now and returns every loaded model, by key. */
  async loadedModels(signal: AbortSignal): Promise<ManagedModel[]> {
    await this.refresh(signal);
    return this.loadedModelSizes().sort((a, b) => a.key.localeCompare(b.key));
  }

  // -------------------------------------------------------------------------------------------
  // Dispatch

  /**
   * Called by the router before each attempt. Records the use (LRU order) and, when the model is not
   * in memory and would not fit, makes room. Throws a retryable PluginError to skip a model that
   * cannot fit when another candidate follows; otherwise never fails the request over VRAM.
   */
  async beforeDispatch(entry: RegistryEntry, context: { signal: AbortSignal; lastCandidate: boolean }): Promise<void> {
    this.touch(entry.key);
    // Models behind remote APIs take no local VRAM, and a budget needs a figure to compare with.
    if (!entry.backend.capabilities.loadedModels) return;
    if (this.view.has(entry.key) || this.reservations.has(entry.key)) return;
    if (this.budgetBytes() === undefined) return;
    await this.exclusive(async () => {
      try {
        await this.refresh(context.signal);
      } catch (error) {
        if (context.signal.aborted) throw error;
      }
      if (this.view.has(entry.key)) return;
      await this.makeRoom(entry, context.signal, context.lastCandidate ? 'dispatch-last' : 'dispatch');
    });
  }

  // -------------------------------------------------------------------------------------------
  // Operations (AdminService / REST)

  async load(name: string, signal: AbortSignal): Promise<OperationResult> {
    const entry = this.resolve(name);
    if (!entry.backend.capabilities.load) {
      return { ok: false, model: entry.key, message: `backend ${entry.backend.name} (${entry.backend.provider}) cannot load models on request` };
    }
    return this.exclusive(async () => {
      await this.refreshQuietly(signal);
      if (this.view.has(entry.key)) {
        this.touch(entry.key);
        return { ok: true, model: entry.key, message: 'already in memory' };
      }
      const room = await this.makeRoom(entry, signal, 'explicit');
      const started = this.now();
      await this.loadMeasured(entry, signal);
      this.touch(entry.key);
      const seconds = ((this.now() - started) / 1000).toFixed(1);
      // Judged again from what the backend reports now: a model that landed on the CPU takes no VRAM.
      const loaded = this.view.get(entry.key);
      const cpu = loaded !== undefined && loaded.vramBytes === 0 && loaded.measured;
      const note = cpu ? ' (on the CPU: no VRAM)' : room.fits ? '' : '; it exceeds the VRAM budget';
      return { ok: true, model: entry.key, message: `loaded in ${seconds} s${note}` };
    });
  }

  async unload(name: string, signal: AbortSignal): Promise<OperationResult> {
    const entry = this.resolve(name);
    if (entry.key === this.pinnedModel()) {
      throw new VramError('pinned', `${entry.key} is pinned and is never unloaded; unpin it first (PinModel with unpin)`);
    }
    if (!entry.backend.capabilities.unload) {
      return { ok: false, model: entry.key, message: `backend ${entry.backend.name} (${entry.backend.provider}) cannot unload models on request` };
    }
    return this.exclusive(async () => {
      const ok = await this.callBackend(entry, signal, 'unload');
      if (!ok) return { ok: false, model: entry.key, message: `backend ${entry.backend.name} cannot unload models on request` };
      this.view.delete(entry.key);
      this.reservations.delete(entry.key);
      return { ok: true, model: entry.key, message: 'unloaded' };
    });
  }

  /**
   * Pins a model (replacing any pin) and starts loading it in the background; with `unpin`, removes
   * the pin. Returns the model pinned afterwards.
   */
  pin(name: string, unpin: boolean): { pinnedModel: string | undefined } {
    const current = this.pinnedModel();
    if (unpin) {
      if (name) {
        const key = this.deps.registry.resolve(name)?.key ?? name;
        if (key !== current && name !== current) {
          throw new VramError('not_pinned', current ? `${name} is not pinned (the pinned model is ${current})` : `${name} is not pinned (no model is)`);
        }
      }
      this.pinnedName = undefined;
      this.deps.logger.info({ model: current }, 'model unpinned');
      return { pinnedModel: undefined };
    }
    const entry = this.resolve(name);
    // A pin is a promise to keep the model loaded: refused where nothing can load it, instead of
    // answering ok and then logging "cannot load the pinned model" for ever.
    if (!entry.backend.capabilities.load) {
      throw new VramError('not_loadable', `${entry.key} cannot be pinned: its backend "${entry.backend.name}" (${entry.backend.provider}) does not load or unload models`);
    }
    this.pinnedName = entry.key;
    this.pinMissingLogged = false;
    this.deps.logger.info({ model: entry.key, previous: current }, 'model pinned');
    void this.keepWarm();
    return { pinnedModel: entry.key };
  }

  // -------------------------------------------------------------------------------------------
  // Background

  /**
   * Loads the pinned model when it is not in memory or is about to expire (Ollama keep_alive).
   * Without a pin, only refreshes the listing, so models that expired on their own stop counting.
   */
  async keepWarm(): Promise<void> {
    const name = this.pinnedName;
    if (!name) {
      await this.refreshQuietly(this.stopController.signal).catch(() => undefined);
      return;
    }
    const entry = this.deps.registry.resolve(name);
    if (!entry) {
      if (!this.pinMissingLogged) this.deps.logger.warn({ model: name }, 'pinned model not found on any backend (yet); will retry');
      this.pinMissingLogged = true;
      return;
    }
    if (!entry.available || !entry.backend.capabilities.load) return;
    const signal = this.stopController.signal;
    try {
      await this.exclusive(async () => {
        if (this.pinnedName !== name) return; // unpinned or re-pinned meanwhile
        await this.refreshQuietly(signal);
        const loaded = this.view.get(entry.key);
        const expiresSoon = loaded?.expiresAt !== undefined && loaded.expiresAt.getTime() - this.now() < 2 * this.keepWarmMs;
        if (loaded && !expiresSoon) return;
        if (!loaded) await this.makeRoom(entry, signal, 'explicit');
        await this.loadMeasured(entry, signal);
        this.deps.logger.info({ model: entry.key }, loaded ? 'pinned model kept warm' : 'pinned model loaded');
      });
    } catch (error) {
      if (!signal.aborted) this.deps.logger.warn({ model: entry.key, err: messageOf(error) }, 'cannot load the pinned model; will retry');
    }
  }

  /**
   * After each nvidia-smi sample: above the threshold share of the budget, unloads idle unpinned
   * models, least recently used first, until usage is back under it.
   */
  async relieve(): Promise<string[]> {
    const budget = this.budgetBytes();
    const usedGb = this.gpu?.totals().usedGb ?? 0;
    if (!this.deps.settings.autoUnloadEnabled || budget === undefined || usedGb <= 0) return [];
    const limit = (budget * this.deps.settings.unloadThresholdPct) / 100;
    if (usedGb * BYTES_PER_GB <= limit) return [];
    const signal = this.stopController.signal;
    return this.exclusive(async () => {
      await this.refreshQuietly(signal);
      const idleBefore = this.now() - this.idleAfterMs;
      const idle = this.candidates(undefined).filter((c) => {
        const use = this.uses.get(c.key);
        return !use || use.at.getTime() <= idleBefore;
      });
      const plan = planEviction(idle, 0, limit, this.usedBytes());
      if (plan.evict.length) this.deps.logger.info({ usedGb, thresholdPct: this.deps.settings.unloadThresholdPct, evict: plan.evict }, 'VRAM above the unload threshold; unloading idle models');
      return this.evict(plan.evict, signal);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private resolve(name: string): RegistryEntry {
    if (typeof name !== 'string' || name.trim() === '') throw new VramError('invalid_request', 'model is required');
    const entry = this.deps.registry.resolve(name.trim());
    if (!entry) throw new VramError('model_not_found', `no backend has a model "${name}" (see ListModels or GET /v1/models)`);
    return entry;
  }

  private touch(key: string): void {
    this.uses.set(key, { seq: ++this.useSeq, at: new Date(this.now()) });
  }

  /**
   * Frees what the model needs, reserves it, and says whether it fits. `dispatch` throws to skip a
   * model that cannot fit; `dispatch-last` and `explicit` go ahead regardless.
   */
  private async makeRoom(entry: RegistryEntry, signal: AbortSignal, mode: 'dispatch' | 'dispatch-last' | 'explicit'): Promise<{ fits: boolean }> {
    const budget = this.budgetBytes();
    // A backend that runs its models on the CPU needs no room on the GPU.
    if (budget === undefined || this.cpuBackends.has(entry.backend)) return { fits: true };
    const needed = this.sizes.sizeOf(entry.key, entry.info).bytes;
    const used = this.usedBytes();
    const plan = planEviction(this.candidates(entry.key), needed, budget, used);
    const gb = (bytes: number) => `${(bytes / BYTES_PER_GB).toFixed(1)} GB`;
    const refuse = (why: string) => {
      throw new PluginError({
        code: 'overloaded',
        retryable: true,
        message: `${entry.key} needs about ${gb(needed)} of VRAM and ${why} (${gb(used)} of the ${gb(budget)} budget in use)`,
        backend: entry.backend.name,
        model: entry.info.id,
      });
    };
    if (plan.fits && plan.evict.length === 0) {
      this.reserve(entry.key, needed);
      return { fits: true };
    }
    if (!plan.fits) {
      if (mode === 'dispatch') refuse('would not fit even after unloading every unpinned model');
      this.deps.logger.warn({ model: entry.key, neededGb: gb(needed), budgetGb: gb(budget) }, 'model exceeds the VRAM budget; loading it anyway');
      this.reserve(entry.key, needed);
      return { fits: false };
    }
    if (!this.deps.settings.autoUnloadEnabled) {
      if (mode === 'dispatch') refuse('would not fit without unloading (ROUTER_VRAM_AUTO_UNLOAD_ENABLED=false)');
      this.reserve(entry.key, needed);
      return { fits: false };
    }
    this.deps.logger.info({ model: entry.key, neededGb: gb(needed), evict: plan.evict }, 'unloading least recently used models to make room');
    const evicted = await this.evict(plan.evict, signal);
    this.reserve(entry.key, needed);
    return { fits: evicted.length === plan.evict.length };
  }

  /** Loaded models that could be unloaded to make room for `forKey`, with their LRU order. */
  private candidates(forKey: string | undefined): EvictionCandidate[] {
    const pinned = this.pinnedModel();
    const out: EvictionCandidate[] = [];
    for (const v of this.view.values()) {
      if (v.key === forKey || !v.plugin.capabilities.unload) continue;
      out.push({ key: v.key, vramBytes: v.vramBytes, lastUsedAt: this.uses.get(v.key)?.seq ?? 0, pinned: v.key === pinned });
    }
    return out;
  }

  /** Unloads in order; a model that fails to unload is logged and skipped. Returns what was unloaded. */
  private async evict(keys: readonly string[], signal: AbortSignal): Promise<string[]> {
    const done: string[] = [];
    for (const key of keys) {
      const v = this.view.get(key);
      if (!v) continue;
      try {
        if (await this.callBackend({ backend: v.plugin, key, info: { id: v.modelId } }, signal, 'unload')) {
          this.view.delete(key);
          this.deps.registry.invalidate();
          done.push(key);
          this.deps.logger.info({ model: key, backend: v.backend, freedGb: Math.round((v.vramBytes / BYTES_PER_GB) * 100) / 100 }, 'model unloaded');
        }
      } catch (error) {
        if (signal.aborted) throw error;
        this.deps.logger.warn({ model: key, err: messageOf(error) }, 'cannot unload model');
      }
    }
    return done;
  }

  /**
   * Loads a model and learns its size: from the backend's listing when it reports VRAM, else from
   * how much nvidia-smi's reading grew (the manager's lock keeps other loads out meanwhile).
   */
  private async loadMeasured(entry: RegistryEntry, signal: AbortSignal): Promise<void> {
    const gpuOn = (this.gpu?.totals().totalGb ?? 0) > 0;
    if (gpuOn) await this.gpu!.sampleNow();
    const before = this.gpu?.totals().usedGb ?? 0;
    const ok = await this.callBackend(entry, signal, 'load');
    if (!ok) throw new VramError('backend_failed', `backend ${entry.backend.name} did not load ${entry.key}`);
    this.deps.registry.markLoaded(entry.key);
    if (gpuOn) await this.gpu!.sampleNow();
    await this.refreshQuietly(signal);
    const loaded = this.view.get(entry.key);
    // Reported by the backend (VRAM, or 0 on the CPU) or already measured: nothing to learn from nvidia-smi.
    if (loaded?.measured) return;
    const delta = ((this.gpu?.totals().usedGb ?? 0) - before) * BYTES_PER_GB;
    if (gpuOn && delta > 0) {
      this.sizes.record(entry.key, delta, { backend: entry.backend.name, info: entry.info });
      if (loaded) Object.assign(loaded, { vramBytes: Math.round(delta), measured: true });
      this.deps.logger.info({ model: entry.key, vramGb: Math.round((delta / BYTES_PER_GB) * 100) / 100 }, 'model VRAM measured by nvidia-smi');
    }
  }

  private async callBackend(entry: Pick<RegistryEntry, 'backend' | 'key'> & { info: { id: string } }, signal: AbortSignal, op: 'load' | 'unload'): Promise<boolean> {
    // A load may take minutes (a big model from disk): only the caller's signal bounds it.
    const callSignal = op === 'unload' ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : signal;
    try {
      return await entry.backend[op](entry.info.id, { signal: callSignal });
    } catch (error) {
      if (signal.aborted) throw new VramError('aborted', 'the request was canceled', { cause: error });
      const failure = PluginError.from(error, { backend: entry.backend.name, model: entry.info.id });
      throw new VramError('backend_failed', `${op} of ${entry.key} on backend ${entry.backend.name} failed (${failure.code}): ${failure.message}`, { cause: error });
    }
  }

  private reserve(key: string, bytes: number): void {
    this.reservations.set(key, { bytes, until: this.now() + RESERVATION_MS });
  }

  /** What the GPUs hold: nvidia-smi's figure or the sum of loaded (and reserved) models, whichever is larger. */
  private usedBytes(): number {
    let sum = 0;
    for (const v of this.view.values()) sum += v.vramBytes;
    for (const [key, r] of this.reservations) if (!this.view.has(key)) sum += r.bytes;
    return Math.max(sum, (this.gpu?.totals().usedGb ?? 0) * BYTES_PER_GB);
  }

  private async refreshQuietly(signal: AbortSignal): Promise<void> {
    try {
      await this.refresh(signal);
    } catch (error) {
      if (signal.aborted) throw new VramError('aborted', 'the request was canceled', { cause: error });
    }
  }

  /** Lists loaded models on every backend that reports them; a backend that fails keeps its last view. */
  private async refresh(signal: AbortSignal): Promise<void> {
    const backends = this.deps.registry.backends.filter((b) => b.capabilities.loadedModels);
    const listed = await Promise.all(
      backends.map(async (backend) => {
        try {
          return { backend, loaded: await backend.loadedModels({ signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) }) };
        } catch (error) {
          if (signal.aborted) throw error;
          this.deps.logger.debug({ backend: backend.name, err: messageOf(error) }, 'cannot list loaded models');
          return { backend, loaded: undefined };
        }
      }),
    );
    const entries = this.deps.registry.entriesList();
    const next = new Map<string, ViewEntry>();
    for (const { backend, loaded } of listed) {
      if (!loaded) {
        for (const v of this.view.values()) if (v.plugin === backend) next.set(v.key, v);
        continue;
      }
      // An empty listing says nothing about where models run: the last verdict stands.
      if (loaded.length > 0) {
        if (loaded.every((m) => onCpu(m))) this.cpuBackends.add(backend);
        else this.cpuBackends.delete(backend);
      }
      for (const m of loaded) {
        const entry = entries.find((e) => e.backend === backend && e.info.id === m.id);
        const v = this.toView(backend, m, entry);
        next.set(v.key, v);
      }
    }
    const changed = next.size !== this.view.size || [...next.keys()].some((key) => !this.view.has(key));
    this.view = next;
    // The routing snapshot shows which models are loaded: rebuild it when that changed.
    if (changed) this.deps.registry.invalidate();
    const now = this.now();
    for (const [key, r] of this.reservations) if (next.has(key) || r.until <= now) this.reservations.delete(key);
  }

  private toView(backend: BackendPlugin, m: BackendLoadedModel, entry: RegistryEntry | undefined): ViewEntry {
    const key = entry?.key ?? m.id;
    const reported = m.vramBytes ?? 0;
    if (reported > 0) this.sizes.record(key, reported, entry ? { backend: backend.name, info: entry.info } : undefined);
    // What the backend reports now wins (VRAM, or 0 on the CPU); else a stored measurement; else the estimate.
    const size = reported > 0 ? { bytes: reported, measured: true } : onCpu(m) ? { bytes: 0, measured: true } : this.sizes.sizeOf(key, entry?.info ?? (m.sizeBytes > 0 ? { id: m.id, sizeBytes: m.sizeBytes, capabilities: NO_CAPS } : undefined));
    const v: ViewEntry = {
      key,
      backend: backend.name,
      modelId: m.id,
      sizeBytes: m.sizeBytes,
      vramBytes: size.bytes,
      measured: size.measured,
      pinned: false,
      plugin: backend,
    };
    if (m.expiresAt) v.expiresAt = m.expiresAt;
    return v;
  }

  private publicView(v: ViewEntry): ManagedModel {
    const out: ManagedModel = {
      key: v.key,
      backend: v.backend,
      modelId: v.modelId,
      sizeBytes: v.sizeBytes,
      vramBytes: v.vramBytes,
      measured: v.measured,
      pinned: v.key === this.pinnedModel(),
    };
    const use = this.uses.get(v.key);
    if (use) out.lastUsedAt = new Date(use.at);
    if (v.expiresAt) out.expiresAt = new Date(v.expiresAt);
    return out;
  }

  /** Runs `task` alone: planning, unloading and measuring must not interleave with another plan. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

const NO_CAPS = { chat: true, vision: false, tools: false, embeddings: false } as const;

/**
 * A loaded model reported with a size but no VRAM runs on the CPU (Ollama's size_vram 0, the GGUF
 * backend without a GPU). Without a size, or from a backend that cannot tell, 0 means "unknown".
 */
function onCpu(m: BackendLoadedModel): boolean {
  return m.vramBytes === 0 && m.sizeBytes > 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
