/**
 * The model registry: every model of every backend under one router-wide id, kept as a read-mostly
 * snapshot that the scorer reads without touching the database or the network.
 *
 * Ids: ROUTER_MODEL_PREFIX + the backend's own id; when two backends offer the same id, both are
 * qualified with their backend name ("gpu/llama3.1:8b", "cpu/llama3.1:8b") so ids stay unique.
 * A backend that fails to list keeps its previous models, marked unavailable, until it answers again.
 */
import type { BackendModelInfo, BackendPlugin, Category } from '../plugin-api/index.js';
import type { RoutableModel } from './scoring.js';

export interface RegistryEntry {
  key: string;
  backend: BackendPlugin;
  info: BackendModelInfo;
  available: boolean;
  loaded: boolean;
}

/** Measured knowledge merged into the snapshot (profiles and benchmarks; later issues fill it). */
export interface ModelKnowledge {
  profile?: RoutableModel['profile'];
  benchmark?: RoutableModel['benchmark'];
}

export interface RegistryLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface RefreshResult {
  added: string[];
  removed: string[];
  failedBackends: string[];
}

export class ModelRegistry {
  private entries = new Map<string, RegistryEntry>();
  private snapshotCache: RoutableModel[] | undefined;
  private knowledge: (key: string, entry: RegistryEntry) => ModelKnowledge | undefined = () => undefined;
  /** Whether a model is in memory and whether it would fit the VRAM budget (the VRAM manager knows). */
  private vramState: (entry: RegistryEntry) => { loaded: boolean; fits: boolean } | undefined = (entry) =>
    entry.loaded ? { loaded: true, fits: true } : undefined;
  private readonly downBackends = new Set<string>();
  private readonly listedListeners = new Set<(backend: string) => void>();
  /** Backends whose last listing failed (for logging state changes only). */
  private readonly failing = new Set<string>();

  constructor(
    readonly backends: readonly BackendPlugin[],
    private readonly options: { prefix: string; listTimeoutMs?: number; logger?: RegistryLogger },
  ) {}

  /** Lists every backend in parallel and rebuilds the id map. */
  async refresh(signal: AbortSignal): Promise<RefreshResult> {
    const timeout = this.options.listTimeoutMs ?? 10_000;
    const listed = await Promise.all(
      this.backends.map(async (backend) => {
        const callSignal = AbortSignal.any([signal, AbortSignal.timeout(timeout)]);
        try {
          const [models, loaded] = await Promise.all([
            backend.listModels({ signal: callSignal }),
            backend.capabilities.loadedModels ? backend.loadedModels({ signal: callSignal }).catch(() => []) : Promise.resolve([]),
          ]);
          if (this.failing.delete(backend.name)) this.options.logger?.info?.({ backend: backend.name }, 'backend answers again');
          return { backend, models, loaded: new Set(loaded.map((m) => m.id)), ok: true as const };
        } catch (error) {
          // Warn when a backend starts failing, not on every polling round while it stays down.
          const log = this.failing.has(backend.name) ? this.options.logger?.debug : this.options.logger?.warn;
          log?.call(this.options.logger, { backend: backend.name, err: error }, 'cannot list models; keeping the last known list as unavailable');
          this.failing.add(backend.name);
          return { backend, models: undefined, loaded: new Set<string>(), ok: false as const };
        }
      }),
    );

    const previous = this.entries;
    const rawIds: Array<{ backend: BackendPlugin; info: BackendModelInfo; available: boolean; loaded: boolean }> = [];
    const failedBackends: string[] = [];
    for (const result of listed) {
      if (result.ok) {
        for (const listener of this.listedListeners) listener(result.backend.name);
        for (const info of result.models) rawIds.push({ backend: result.backend, info, available: true, loaded: result.loaded.has(info.id) });
      } else {
        failedBackends.push(result.backend.name);
        for (const entry of previous.values()) {
          if (entry.backend === result.backend) rawIds.push({ backend: entry.backend, info: entry.info, available: false, loaded: false });
        }
      }
    }

    const counts = new Map<string, number>();
    for (const r of rawIds) counts.set(r.info.id, (counts.get(r.info.id) ?? 0) + 1);
    const next = new Map<string, RegistryEntry>();
    for (const r of rawIds) {
      const qualified = (counts.get(r.info.id) ?? 0) > 1 ? `${r.backend.name}/${r.info.id}` : r.info.id;
      const key = `${this.options.prefix}${qualified}`;
      if (next.has(key)) continue; // A backend listing the same id twice: keep the first.
      next.set(key, { key, backend: r.backend, info: r.info, available: r.available, loaded: r.loaded });
    }
    this.entries = next;
    this.snapshotCache = undefined;
    return {
      added: [...next.keys()].filter((k) => !previous.has(k)),
      removed: [...previous.keys()].filter((k) => !next.has(k)),
      failedBackends,
    };
  }

  /** Supplies profiles/benchmarks for the snapshot; call invalidate() when they change. */
  setKnowledge(source: (key: string, entry: RegistryEntry) => ModelKnowledge | undefined): void {
    this.knowledge = source;
    this.invalidate();
  }

  /** Supplies the VRAM view of each model for the score; the manager calls invalidate() when it changes. */
  setVramState(source: (entry: RegistryEntry) => { loaded: boolean; fits: boolean } | undefined): void {
    this.vramState = source;
    this.invalidate();
  }

  /**
   * Calls `listener` with a backend's name each time it lists its models successfully (it answered
   * just now: a health monitor that calls it down may want to check again). Returns the unsubscribe.
   */
  onListed(listener: (backend: string) => void): () => void {
    this.listedListeners.add(listener);
    return () => this.listedListeners.delete(listener);
  }

  /** Marks a backend as down (its health checks fail) or back up, without relisting. */
  setBackendDown(name: string, down: boolean): void {
    if (down === this.downBackends.has(name)) return;
    if (down) this.downBackends.add(name);
    else this.downBackends.delete(name);
    this.invalidate();
  }

  invalidate(): void {
    this.snapshotCache = undefined;
  }

  /** The scorer's view. Rebuilt only after a change, so a routing decision allocates nothing here. */
  snapshot(): readonly RoutableModel[] {
    if (this.snapshotCache) return this.snapshotCache;
    const out: RoutableModel[] = [];
    for (const entry of this.entries.values()) {
      const known = this.knowledge(entry.key, entry);
      out.push({
        key: entry.key,
        backend: entry.backend.name,
        modelId: entry.info.id,
        family: entry.info.family,
        parameterCountB: entry.info.parameterCountB,
        quantization: entry.info.quantization,
        contextLength: entry.info.contextLength,
        capabilities: entry.info.capabilities,
        available: this.isAvailable(entry),
        profile: known?.profile,
        benchmark: known?.benchmark,
        vram: this.vramState(entry),
      });
    }
    this.snapshotCache = out;
    return out;
  }

  entriesList(): RegistryEntry[] {
    return [...this.entries.values()];
  }

  get(key: string): RegistryEntry | undefined {
    return this.entries.get(key);
  }

  /** Listed by its backend in the last round, and the backend not marked down (setBackendDown). */
  isAvailable(entry: RegistryEntry): boolean {
    return entry.available && !this.downBackends.has(entry.backend.name);
  }

  /** Chat models routing may use: listed in the last round, their backend not down (/health's `ready`). */
  availableChatModels(): number {
    let n = 0;
    for (const e of this.entries.values()) if (this.isAvailable(e) && e.info.capabilities.chat) n++;
    return n;
  }

  /**
   * Finds the model a client named: the router-wide id, or a backend-local id (with or without the
   * prefix) when exactly one backend has it; a name without a tag also finds its `:latest`.
   */
  resolve(name: string): RegistryEntry | undefined {
    const found = this.resolveExactly(name);
    // Ollama reads a name without a tag as its :latest ("llama3.2" is "llama3.2:latest"), and
    // clients written for Ollama send it that way.
    if (found || name.includes(':') || name === '') return found;
    return this.resolveExactly(`${name}:latest`);
  }

  private resolveExactly(name: string): RegistryEntry | undefined {
    const exact = this.entries.get(name) ?? this.entries.get(`${this.options.prefix}${name}`);
    if (exact) return exact;
    let found: RegistryEntry | undefined;
    for (const entry of this.entries.values()) {
      if (entry.info.id === name || `${this.options.prefix}${entry.info.id}` === name) {
        if (found) return undefined; // Ambiguous: the client must use the qualified id.
        found = entry;
      }
    }
    return found;
  }

  /** Records that a model is now in memory (after a dispatch), so the next decision prefers it. */
  markLoaded(key: string): void {
    const entry = this.entries.get(key);
    if (entry && !entry.loaded) {
      entry.loaded = true;
      this.invalidate();
    }
  }
}

export type { Category };
