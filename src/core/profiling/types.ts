/**
 * Shapes shared by the profiler, its prompt set and the store behind it. Core code only: the
 * storage interface lives here so the profiler never imports the database (src/db/profile-store.ts
 * implements it on SQLite; a test or a later PostgreSQL store can supply another).
 */
import type { BackendModelInfo, BackendPlugin, Category, JudgePlugin, ModelCapabilities } from '../../plugin-api/index.js';

/**
 * One profiling prompt. `turns` are user messages sent one after another: turn n+1 is asked after
 * the model's own answer to turn n is appended, so a follow-up tests whether the model builds on
 * what it said (MT-Bench style).
 */
export interface ProfilePrompt {
  /** Stable id ("coding-01"): the resume key, so it must not change when the text is polished. */
  id: string;
  category: Category;
  turns: readonly string[];
  /**
   * What a good answer to the LAST turn contains: the expected final number for reasoning, the
   * required elements for coding. Handed to the judge; earlier turns are judged on their own merits.
   */
  reference?: string;
}

/** What one prompt gave, as stored after it finishes (a failed prompt is stored too, and retried). */
export interface PromptOutcome {
  promptId: string;
  category: Category;
  /** Mean judge score over the turns, 0..1; 0 when the prompt failed. */
  score: number;
  /** Mean time to the first streamed part over the turns. Null when no turn produced one. */
  ttftMs: number | null;
  /** Completion tokens / generation time after the first token, over all turns. Null when unmeasurable. */
  tokensPerSecond: number | null;
  /** Mean request latency over the turns (start to the last part). */
  latencyMs: number | null;
  failed: boolean;
  timedOut: boolean;
  /** Why it failed, for logs and progress; not persisted. */
  error?: string;
}

/** Per-category result, as written to the `profiles` table. */
export interface CategoryResult {
  /** Mean judge score over the category's judged prompts; timeouts count as 0, backend/judge errors not at all. */
  score: number;
  /** Means over the prompts that succeeded; null when none did. */
  ttftMs: number | null;
  tokensPerSecond: number | null;
  totalLatencyMs: number | null;
  prompts: number;
  /** Prompts without a judged answer (timeouts included). */
  failures: number;
  /** The subset of failures that ran out of time. */
  timeouts: number;
}

export type CategoryResults = Partial<Record<Category, CategoryResult>>;

export type ProgressState = 'started' | 'prompt_done' | 'model_done' | 'model_failed';

/**
 * A progress event. `promptIndex` counts the model's prompts finished so far (resumed ones
 * included) out of `promptCount`; `etaMs` extrapolates the mean time of the prompts run in this
 * session to the ones left.
 */
export interface ProgressEvent {
  model: string;
  /** The category of the prompt just finished (or about to start); absent when there is none. */
  category?: Category;
  promptIndex: number;
  promptCount: number;
  elapsedMs: number;
  etaMs: number;
  state: ProgressState;
  /** The prompt just finished (prompt_done). */
  promptId?: string;
  /** Its score (prompt_done). */
  score?: number;
  /** Why the model failed (model_failed). */
  error?: string;
}

/** A model to profile. `capabilities.chat === false` (an embedding-only model) is skipped. */
export interface ProfileTarget {
  /** Router-wide id (the registry key); results are stored under it. */
  key: string;
  backend: BackendPlugin;
  /** Backend-local id passed to chat/unload. */
  modelId: string;
  parameterCountB?: number;
  capabilities?: ModelCapabilities;
}

/** A registry entry (src/core/registry.ts RegistryEntry satisfies it). */
export interface ProfileEntry {
  key: string;
  backend: BackendPlugin;
  info: BackendModelInfo;
}

export interface ProfileModelOptions {
  /** How many prompts of each category to run (the first ones of the set). */
  promptsPerCategory: number;
  /** Per-request time limit for a model up to 8B; scaled x2 up to 34B and x4 above. */
  timeoutMs: number;
  judge: JudgePlugin;
  /** Aborting stops profiling at once (the run rejects with an `aborted` PluginError). */
  signal: AbortSignal;
  onProgress?(event: ProgressEvent): void;
  /**
   * Prompts finished by an earlier, interrupted run. Ids are skipped; stored outcomes are skipped and
   * also counted in the results. Failed outcomes are not finished: those prompts run again.
   */
  resume?: Iterable<string | PromptOutcome>;
  /** Called as each prompt finishes, before the next starts (the store persists it here). */
  onResult?(outcome: PromptOutcome): void | Promise<void>;
}

export interface ProfileRun {
  model: string;
  /** done: profiled; failed: too few judged answers to stand as a profile (nothing stored); skipped: not profiled at all. */
  status: 'done' | 'failed' | 'skipped';
  reason?: string;
  results: CategoryResults;
  /** Every prompt's outcome, resumed ones included, in prompt-set order. */
  outcomes: PromptOutcome[];
  judge: string;
  promptSetVersion: string;
  /** GPU memory the model used while profiled, when the backend or nvidia-smi could tell. */
  vramBytes?: number;
}

/** What the store remembers of a model's last profiling run (decides what to re-profile). */
export interface ProfiledModelState {
  modelKey: string;
  digest: string | null;
  sizeBytes: number | null;
  promptSetVersion: string;
  promptsPerCategory: number;
  judge: string;
  startedAt: Date;
  /** Null while a run is in progress or was interrupted. */
  finishedAt: Date | null;
}

/** The storage the profiler needs; src/db/profile-store.ts is the SQLite implementation. */
export interface ProfileRepository {
  saveResult(modelKey: string, promptSetVersion: string, outcome: PromptOutcome): Promise<void>;
  finishedPrompts(modelKey: string, promptSetVersion: string): Promise<PromptOutcome[]>;
  /** Drops every stored prompt result of a model (its weights changed, or a forced run). */
  clearResults(modelKey: string): Promise<void>;
  saveProfiles(modelKey: string, results: CategoryResults, judgeName: string, promptSetVersion: string): Promise<void>;
  modelState(modelKey: string): Promise<ProfiledModelState | undefined>;
  saveModelState(state: ProfiledModelState): Promise<void>;
}
