/**
 * Profiling results on SQLite: each finished prompt in `profile_results` (written as it finishes,
 * so a crash loses at most the prompt in flight), what each model was last profiled as in
 * `profiled_models`, and the per-category figures routing reads in `profiles`.
 *
 * Writes are plain knex statements with ON CONFLICT upserts: one row per prompt, and MikroORM's unit
 * of work would only add cost (see decision-store.ts). Reads of `profiles` go through its entity so
 * dates and paging behave like every other listing.
 */
import type { FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import { CATEGORIES, type Category } from '../plugin-api/index.js';
import type { CategoryResults, ProfiledModelState, ProfileRepository, PromptOutcome } from '../core/profiling/types.js';
import type { Database } from './index.js';
import { ProfileEntity, type ProfileRecord } from './entities.js';
import { dbTime, likeOperator, readTime } from './dialect.js';

export type ProfileSortField = 'model' | 'category' | 'score' | 'ttft_ms' | 'tokens_per_second' | 'total_latency_ms' | 'updated_at';

export interface ProfileQuery {
  /** Exact model key, or a part of it. */
  model?: string;
  sortBy: ProfileSortField;
  descending: boolean;
  limit: number;
  offset: number;
}

/** What routing needs of one model (assignable to RoutableModel['profile']), plus the rows behind it. */
export interface ModelProfile {
  scores: Partial<Record<Category, number>>;
  /** Mean over the categories that measured it. */
  tokensPerSecond?: number;
  ttftMs?: number;
  categories: Partial<Record<Category, ProfileRecord>>;
}

const SORT_PROPERTY: Record<ProfileSortField, keyof ProfileRecord> = {
  model: 'modelKey',
  category: 'category',
  score: 'score',
  ttft_ms: 'ttftMs',
  tokens_per_second: 'tokensPerSecond',
  total_latency_ms: 'totalLatencyMs',
  updated_at: 'updatedAt',
};
const MAX_PAGE = 1000;
const CATEGORY_SET: ReadonlySet<string> = new Set(CATEGORIES);

interface ResultRow {
  prompt_id: string;
  category: string;
  score: number;
  ttft_ms: number | null;
  tokens_per_second: number | null;
  latency_ms: number | null;
  failed: number | boolean;
  timed_out: number | boolean;
}

interface StateRow {
  model_key: string;
  digest: string | null;
  size_bytes: number | string | null;
  prompt_set_version: string;
  prompts_per_category: number;
  judge: string;
  started_at: number | string | Date;
  finished_at: number | string | Date | null;
}

export class ProfileStore implements ProfileRepository {
  constructor(private readonly db: Database) {}

  private knex() {
    return this.db.em.getKnex();
  }

  /** Stores (or replaces) one prompt's outcome. */
  async saveResult(modelKey: string, promptSetVersion: string, outcome: PromptOutcome): Promise<void> {
    await this.knex()('profile_results')
      .insert({
        model_key: modelKey,
        prompt_id: outcome.promptId,
        prompt_set_version: promptSetVersion,
        category: outcome.category,
        score: outcome.score,
        ttft_ms: outcome.ttftMs,
        tokens_per_second: outcome.tokensPerSecond,
        latency_ms: outcome.latencyMs,
        failed: outcome.failed,
        timed_out: outcome.timedOut,
        // As MikroORM stores datetimes on this engine, so entity reads agree (dialect.ts).
        created_at: dbTime(this.db, new Date()),
      })
      .onConflict(['model_key', 'prompt_id', 'prompt_set_version'])
      .merge();
  }

  /** Every stored outcome of a model for one prompt-set version (failed ones included, flagged). */
  async finishedPrompts(modelKey: string, promptSetVersion: string): Promise<PromptOutcome[]> {
    const rows: ResultRow[] = await this.knex()('profile_results')
      .select('prompt_id', 'category', 'score', 'ttft_ms', 'tokens_per_second', 'latency_ms', 'failed', 'timed_out')
      .where({ model_key: modelKey, prompt_set_version: promptSetVersion })
      .orderBy('id', 'asc');
    return rows
      .filter((r) => CATEGORY_SET.has(r.category))
      .map((r) => ({
        promptId: r.prompt_id,
        category: r.category as Category,
        score: r.score,
        ttftMs: r.ttft_ms,
        tokensPerSecond: r.tokens_per_second,
        latencyMs: r.latency_ms,
        failed: Boolean(r.failed),
        timedOut: Boolean(r.timed_out),
      }));
  }

  async clearResults(modelKey: string): Promise<void> {
    await this.knex()('profile_results').where({ model_key: modelKey }).delete();
  }

  /** Upserts one `profiles` row per category (unique model_key + category). */
  async saveProfiles(modelKey: string, results: CategoryResults, judgeName: string, promptSetVersion: string): Promise<void> {
    const now = dbTime(this.db, new Date());
    const rows = Object.entries(results).map(([category, r]) => ({
      model_key: modelKey,
      category,
      score: r.score,
      ttft_ms: r.ttftMs,
      tokens_per_second: r.tokensPerSecond,
      total_latency_ms: r.totalLatencyMs,
      prompts: r.prompts,
      failures: r.failures,
      timeouts: r.timeouts,
      judge: judgeName,
      prompt_set_version: promptSetVersion,
      updated_at: now,
    }));
    if (rows.length === 0) return;
    await this.knex()('profiles').insert(rows).onConflict(['model_key', 'category']).merge();
  }

  async modelState(modelKey: string): Promise<ProfiledModelState | undefined> {
    const row: StateRow | undefined = await this.knex()('profiled_models').where({ model_key: modelKey }).first();
    if (!row) return undefined;
    return {
      modelKey: row.model_key,
      digest: row.digest,
      sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
      promptSetVersion: row.prompt_set_version,
      promptsPerCategory: row.prompts_per_category,
      judge: row.judge,
      startedAt: readTime(row.started_at),
      finishedAt: row.finished_at === null ? null : readTime(row.finished_at),
    };
  }

  async saveModelState(state: ProfiledModelState): Promise<void> {
    await this.knex()('profiled_models')
      .insert({
        model_key: state.modelKey,
        digest: state.digest,
        size_bytes: state.sizeBytes,
        prompt_set_version: state.promptSetVersion,
        prompts_per_category: state.promptsPerCategory,
        judge: state.judge,
        started_at: dbTime(this.db, state.startedAt),
        finished_at: state.finishedAt ? dbTime(this.db, state.finishedAt) : null,
      })
      .onConflict('model_key')
      .merge();
  }

  /** One page of `profiles` rows with the total count, sorted (ties by id). */
  async listProfiles(query: ProfileQuery): Promise<{ rows: ProfileRecord[]; total: number }> {
    const em = this.db.em.fork();
    const where: FilterQuery<ProfileRecord> = {};
    const model = query.model?.trim();
    if (model) {
      const exact = await em.count(ProfileEntity, { modelKey: model });
      where.modelKey = exact > 0 ? model : { [likeOperator(this.db)]: `%${model.replace(/[%_]/g, '')}%` };
    }
    const direction = query.descending ? 'desc' : 'asc';
    const orderBy = { [SORT_PROPERTY[query.sortBy] ?? 'modelKey']: direction, id: 'asc' } as QueryOrderMap<ProfileRecord>;
    const limit = Math.min(Math.max(Math.trunc(query.limit) || 0, 1), MAX_PAGE);
    const offset = Math.max(Math.trunc(query.offset) || 0, 0);
    // Not em.findAndCount: it enters an AsyncLocalStorage (see src/db/index.ts).
    const [rows, total] = await Promise.all([em.find(ProfileEntity, where, { orderBy, limit, offset }), em.count(ProfileEntity, where)]);
    return { rows, total };
  }

  /** The model's profile in the shape the scorer reads, or undefined when it was never profiled. */
  async profileFor(modelKey: string): Promise<ModelProfile | undefined> {
    const rows = await this.db.em.fork().find(ProfileEntity, { modelKey }, { orderBy: { id: 'asc' } });
    return rows.length === 0 ? undefined : toProfile(rows);
  }

  /** Every stored profile, by model key (the knowledge the router loads at start-up). */
  async allProfiles(): Promise<Map<string, ModelProfile>> {
    const rows = await this.db.em.fork().find(ProfileEntity, {}, { orderBy: { id: 'asc' } });
    const byModel = new Map<string, ProfileRecord[]>();
    for (const row of rows) byModel.set(row.modelKey, [...(byModel.get(row.modelKey) ?? []), row]);
    return new Map([...byModel].map(([key, list]) => [key, toProfile(list)]));
  }

  /** When the last model run finished (GetStatus last_run_at); undefined when none ever did. */
  async lastFinishedAt(): Promise<Date | undefined> {
    const row = (await this.knex()('profiled_models').max({ last: 'finished_at' }).first()) as { last?: number | string | Date | null } | undefined;
    return row?.last == null ? undefined : readTime(row.last);
  }
}

function toProfile(rows: readonly ProfileRecord[]): ModelProfile {
  const profile: ModelProfile = { scores: {}, categories: {} };
  const tps: number[] = [];
  const ttft: number[] = [];
  for (const row of rows) {
    if (!CATEGORY_SET.has(row.category)) continue;
    const category = row.category as Category;
    profile.scores[category] = row.score;
    profile.categories[category] = row;
    if (row.tokensPerSecond != null && row.tokensPerSecond > 0) tps.push(row.tokensPerSecond);
    if (row.ttftMs != null && row.ttftMs >= 0) ttft.push(row.ttftMs);
  }
  if (tps.length) profile.tokensPerSecond = tps.reduce((a, b) => a + b, 0) / tps.length;
  if (ttft.length) profile.ttftMs = ttft.reduce((a, b) => a + b, 0) / ttft.length;
  return profile;
}
