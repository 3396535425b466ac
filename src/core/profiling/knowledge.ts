/**
 * What the router knows about each model, in memory for the scorer: the stored profiles (measured
 * here) and the benchmark knowledge (public figures, bundled then imported). The registry reads it
 * through `knowledgeFor` when it rebuilds its snapshot, so a routing decision never touches the
 * database; the store is read at start-up and after each change (a model profiled, a benchmark sync).
 */
import type { BackendModelInfo, Category } from '../../plugin-api/index.js';
import { BenchmarkKnowledge } from '../benchmarks/index.js';
import type { BenchmarkRow } from '../benchmarks/types.js';
import type { ModelKnowledge } from '../registry.js';

/** One category's stored figures (the `profiles` table row). */
export interface CategoryFigures {
  score: number;
  ttftMs?: number | null;
  tokensPerSecond?: number | null;
  totalLatencyMs?: number | null;
  prompts: number;
  failures: number;
  timeouts: number;
  judge: string;
  promptSetVersion: string;
  updatedAt: Date;
}

/** A model's stored profile, joined with what the models table remembers of it. */
export interface StoredProfile {
  scores: Partial<Record<Category, number>>;
  /** Mean over the categories that measured it. */
  tokensPerSecond?: number;
  ttftMs?: number;
  categories: Partial<Record<Category, CategoryFigures>>;
  /** From the models table: absent for a model profiled but never recorded there. */
  backend?: string;
  modelId?: string;
  available?: boolean;
  vramBytes?: number | null;
}

/** Where the knowledge comes from (src/db implements it on SQLite). */
export interface KnowledgeSource {
  loadProfiles(): Promise<Map<string, StoredProfile>>;
  loadProfile(key: string): Promise<StoredProfile | undefined>;
  loadBenchmarkRows(): Promise<readonly BenchmarkRow[]>;
}

export interface KnowledgeLogger {
  warn(obj: object, msg: string): void;
}

export class KnowledgeBase {
  private profileMap = new Map<string, StoredProfile>();
  private bench: BenchmarkKnowledge = BenchmarkKnowledge.bundled();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly source: KnowledgeSource,
    private readonly logger?: KnowledgeLogger,
  ) {}

  /** Reads everything stored. A store that fails leaves the bundled benchmarks serving. */
  async load(): Promise<void> {
    await Promise.all([this.reloadProfiles(), this.reloadBenchmarks()]);
  }

  async reloadProfiles(): Promise<void> {
    try {
      this.profileMap = await this.source.loadProfiles();
      this.changed();
    } catch (error) {
      this.logger?.warn({ err: error }, 'cannot read stored profiles; routing goes on without them');
    }
  }

  /** After a model was profiled: re-reads its profile only. */
  async refreshProfile(key: string): Promise<void> {
    try {
      const profile = await this.source.loadProfile(key);
      if (profile) this.profileMap.set(key, profile);
      else this.profileMap.delete(key);
      this.changed();
    } catch (error) {
      this.logger?.warn({ err: error, model: key }, 'cannot read the new profile; routing keeps the previous one');
    }
  }

  /** After a benchmark sync: rebuilds the matcher from the stored rows (bundled alone when there are none). */
  async reloadBenchmarks(): Promise<void> {
    try {
      const rows = await this.source.loadBenchmarkRows();
      this.bench = rows.length > 0 ? await BenchmarkKnowledge.build(rows) : BenchmarkKnowledge.bundled();
      this.changed();
    } catch (error) {
      this.logger?.warn({ err: error }, 'cannot read stored benchmark scores; the bundled ones serve');
    }
  }

  get benchmarks(): BenchmarkKnowledge {
    return this.bench;
  }

  profile(key: string): StoredProfile | undefined {
    return this.profileMap.get(key);
  }

  profiles(): ReadonlyMap<string, StoredProfile> {
    return this.profileMap;
  }

  /** Called when anything changed (the registry invalidates its snapshot). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The registry's knowledge source: the measured profile by router-wide key, benchmarks by backend name. */
  knowledgeFor(key: string, info: BackendModelInfo): ModelKnowledge | undefined {
    const stored = this.profileMap.get(key);
    const found = this.bench.forModel(info.id);
    if (!stored && !found) return undefined;
    const knowledge: ModelKnowledge = {};
    if (stored) {
      knowledge.profile = { scores: stored.scores };
      if (stored.tokensPerSecond !== undefined) knowledge.profile.tokensPerSecond = stored.tokensPerSecond;
      if (stored.ttftMs !== undefined) knowledge.profile.ttftMs = stored.ttftMs;
    }
    if (found) knowledge.benchmark = { overall: found.overall, byCategory: found.byCategory };
    return knowledge;
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A failing listener must not stop the others.
      }
    }
  }
}
