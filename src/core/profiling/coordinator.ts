/**
 * The profiling coordinator: the one place that runs the profiler inside a live router. It keeps
 * at most one run going (two runs would load two models on one GPU and skew each other's timings),
 * queues what discovery finds while a run is busy, broadcasts each run's progress to any number of
 * watchers (ProfilerService.Reprofile, the REST trigger, `npm run profile`), reports its status, and
 * aborts on close so shutdown never waits for a model to finish.
 *
 * Runs happen in the background: callers get a handle (replayable events + a done promise) and the
 * request path never waits for profiling.
 */
import { PluginError, type Category, type JudgePlugin } from '../../plugin-api/index.js';
import type { ModelOutcome, ProfileAllResult, Profiler, ProfilerLogger } from './profiler.js';
import type { ProfileEntry, ProgressEvent } from './types.js';
import { VramGate } from './vram-gate.js';

export type RunState = 'started' | 'prompt_done' | 'model_done' | 'model_skipped' | 'model_failed' | 'finished';

/** One progress event of a run (the shape ProfilerService.Reprofile streams). */
export interface RunEvent {
  state: RunState;
  /** The model the event is about; '' for started and finished. */
  model: string;
  category?: Category;
  /** Prompts of the model finished so far (resumed ones included). */
  promptIndex: number;
  /** Prompts per model in this run. */
  promptCount: number;
  /** 1-based order in which the model started; 0 for started, finished and skipped models. */
  modelIndex: number;
  /** Models this run profiles (skipped ones excluded). */
  modelCount: number;
  /** Since the run started. */
  elapsedMs: number;
  /** Until the run finishes; undefined until a prompt has run to extrapolate from. */
  etaMs?: number;
  /** The judge score of prompt_done. */
  score?: number;
  /** Why a model failed or was skipped; the summary of finished. */
  message: string;
}

export interface RunRequest {
  entries: readonly ProfileEntry[];
  /** Profile models whose profile is current too. */
  force?: boolean;
}

export interface RunSummary extends ProfileAllResult {
  aborted: boolean;
  /** Aborted because an admin cancelled the run (not shutdown). */
  cancelled?: boolean;
  /** Set when the run stopped on an unexpected error (a store that cannot write). */
  error?: string;
  judgeFallbacks: number;
}

export interface RunHandle {
  id: number;
  /** Every event of the run, from its first; ends after `finished`, or when `signal` aborts (the run goes on). */
  events(signal?: AbortSignal): AsyncIterable<RunEvent>;
  /** The run's plan, once made: the models it profiles and the ones it skips (and why). */
  planned: Promise<RunPlan>;
  done: Promise<RunSummary>;
}

export interface RunPlan {
  models: string[];
  skipped: Array<{ model: string; reason: string }>;
}

export interface ProfilingStatus {
  running: boolean;
  /** Models being profiled now. */
  currentModels: string[];
  /** Models still to run in the current run, then the discovery queue. */
  queuedModels: string[];
  /** Models profiled to the end since the router started. */
  completedCount: number;
  promptSetVersion: string;
  lastRunAt?: Date;
  /** LLM-judge failures answered by the heuristic judge since the router started. */
  judgeFallbacks: number;
}

export interface CoordinatorOptions {
  profiler: Profiler;
  promptsPerCategory: number;
  /** Per prompt for a model up to 8B (scaled up for larger ones). */
  timeoutMs: number;
  concurrency: number;
  /**
   * The judge for one run, built when the run starts (an LLM judge on a backend model needs the
   * registry filled). `onFallback` is to be called when the LLM judge failed and the heuristic
   * answered, so the coordinator can count it.
   */
  createJudge(onFallback: (error: unknown) => void): JudgePlugin | Promise<JudgePlugin>;
  /**
   * A model whose run failed (a backend error, too few answers) is queued again after this delay,
   * doubled on each further failure up to 32 times it (default 30 s; 0 turns retries off).
   */
  retryDelayMs?: number;
  /** The VRAM budget in bytes, when known; limits concurrent profiling beyond `concurrency`. */
  vramBudgetBytes?: () => number | undefined;
  /**
   * Several replicas: waits until no other replica profiles this model and returns the release.
   * Taken before the model's plan is re-checked, so a replica that waited finds the other's result
   * stored and skips the model.
   */
  lock?(entry: ProfileEntry, signal: AbortSignal): Promise<() => void>;
  /** After a model's results are stored (refresh routing knowledge, persist its VRAM). */
  onModel?(outcome: ModelOutcome): void | Promise<void>;
  /** Aborts profiling as soon as shutdown begins, before the other cleanups run. */
  signal?: AbortSignal;
  /** When the last run finished, as stored (GetStatus survives a restart). */
  lastRunAt?: Date;
  logger?: ProfilerLogger;
}

/** A run is already in progress (ProfilerService answers ABORTED, REST 409). */
export class ProfilingBusyError extends Error {
  constructor(readonly status: ProfilingStatus) {
    super(
      `a profiling run is already in progress (${status.currentModels.join(', ') || 'planning'}; ${status.queuedModels.length} queued); watch it with ProfilerService.GetStatus and retry when it is over`,
    );
    this.name = 'ProfilingBusyError';
  }
}

/** Most events a run keeps for late watchers: far more than 100 models x 50 prompts need. */
const MAX_REPLAY = 20_000;

interface ActiveRun {
  id: number;
  /** Aborts this run only: an admin's cancel, or shutdown (linked). */
  controller: AbortController;
  cancelled: boolean;
  resolvePlan(plan: RunPlan): void;
  log: RunEvent[];
  listeners: Set<() => void>;
  finished: boolean;
  planned: string[];
  current: Set<string>;
  handle: RunHandle;
}

/** First wait before a failed model is profiled again (then 60 s, 2 min ... up to 16 min). */
const DEFAULT_RETRY_DELAY_MS = 30_000;

export class ProfilingCoordinator {
  private readonly shutdown = new AbortController();
  private readonly gate: VramGate;
  private active: ActiveRun | undefined;
  /** What discovery asked for while a run was busy, by model key (the newest listing wins). */
  private readonly pending = new Map<string, ProfileEntry>();
  /** Failed models waiting for their retry, and how many times each failed in a row. */
  private readonly retries = new Map<string, { timer: NodeJS.Timeout; failures: number }>();
  private readonly failures = new Map<string, number>();
  private runs = 0;
  private completed = 0;
  private fallbacks = 0;
  private lastRunAt: Date | undefined;

  constructor(private readonly options: CoordinatorOptions) {
    this.gate = new VramGate(options.vramBudgetBytes ?? (() => undefined));
    this.lastRunAt = options.lastRunAt;
    const signal = options.signal;
    if (signal?.aborted) this.shutdown.abort(signal.reason);
    else signal?.addEventListener('abort', () => this.shutdown.abort(signal.reason), { once: true });
  }

  get promptSetVersion(): string {
    return this.options.profiler.promptSetVersion;
  }

  status(): ProfilingStatus {
    const run = this.active;
    const current = run ? [...run.current] : [];
    const queued = run ? run.planned.filter((m) => !run.current.has(m)) : [];
    for (const key of this.pending.keys()) if (!queued.includes(key) && !current.includes(key)) queued.push(key);
    const status: ProfilingStatus = {
      running: run !== undefined,
      currentModels: current,
      queuedModels: queued,
      completedCount: this.completed,
      promptSetVersion: this.promptSetVersion,
      judgeFallbacks: this.fallbacks,
    };
    if (this.lastRunAt) status.lastRunAt = this.lastRunAt;
    return status;
  }

  /** The run in progress, if any (to watch it). */
  current(): RunHandle | undefined {
    return this.active?.handle;
  }

  /** Starts a run now; throws ProfilingBusyError when one is in progress. */
  start(request: RunRequest): RunHandle {
    if (this.shutdown.signal.aborted) throw new Error('the profiler is shut down');
    if (this.active) throw new ProfilingBusyError(this.status());
    return this.begin([...request.entries], request.force ?? false);
  }

  /**
   * Background profiling of what discovery found: runs at once when idle, otherwise after the
   * current run. Models that need nothing are skipped by the run's plan, so queueing is cheap.
   */
  enqueue(entries: readonly ProfileEntry[]): void {
    if (this.shutdown.signal.aborted || entries.length === 0) return;
    for (const entry of entries) this.pending.set(entry.key, entry);
    if (!this.active) this.drain();
  }

  /**
   * Stops profiling at an admin's request: the run in progress is aborted (prompts answered so far
   * stay stored, so a later run resumes there), and the discovery queue and pending retries are
   * dropped. Profiling starts again on the next model change discovery sees, a manual run, or a
   * restart. Resolves with the stopped run's summary once it has stopped; undefined when idle.
   */
  async cancel(): Promise<{ runId: number; models: string[]; summary: RunSummary } | undefined> {
    this.pending.clear();
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
    const run = this.active;
    if (!run) return undefined;
    const models = [...new Set([...run.current, ...run.planned])];
    run.cancelled = true;
    run.controller.abort(new Error('profiling cancelled by an admin'));
    const summary = await run.handle.done;
    return { runId: run.id, models, summary };
  }

  /** Aborts the run in progress (its finished prompts stay stored) and waits for it to stop. */
  async close(): Promise<void> {
    this.shutdown.abort(new Error('router shutting down'));
    this.pending.clear();
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
    await this.active?.handle.done.catch(() => undefined);
  }

  private drain(): void {
    if (this.active || this.pending.size === 0 || this.shutdown.signal.aborted) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.begin(entries, false);
  }

  /**
   * A failed model stores no profile (an earlier one keeps serving) and would wait for the next
   * discovery change or a manual run; a transient outage must not leave it unmeasured, so it is
   * queued again after a growing delay. A profiled model starts from zero again.
   */
  private scheduleRetries(entries: readonly ProfileEntry[], summary: RunSummary): void {
    for (const run of summary.profiled) this.failures.delete(run.model);
    const delay = this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    if (delay <= 0 || summary.aborted || this.shutdown.signal.aborted) return;
    for (const run of summary.failed) {
      const entry = entries.find((e) => e.key === run.model);
      if (!entry || this.retries.has(entry.key)) continue;
      const failures = (this.failures.get(entry.key) ?? 0) + 1;
      this.failures.set(entry.key, failures);
      const waitMs = delay * 2 ** Math.min(failures - 1, 5);
      const timer = setTimeout(() => {
        this.retries.delete(entry.key);
        this.options.logger?.info({ model: entry.key, failures }, 'profiling a model again after a failed run');
        this.enqueue([entry]);
      }, waitMs);
      timer.unref();
      this.retries.set(entry.key, { timer, failures });
    }
  }

  private begin(entries: ProfileEntry[], force: boolean): RunHandle {
    const id = ++this.runs;
    let resolveDone!: (summary: RunSummary) => void;
    const done = new Promise<RunSummary>((resolve) => (resolveDone = resolve));
    let resolvePlan!: (plan: RunPlan) => void;
    const planned = new Promise<RunPlan>((resolve) => (resolvePlan = resolve));
    const controller = new AbortController();
    const shutdown = this.shutdown.signal;
    const onShutdown = () => controller.abort(shutdown.reason);
    shutdown.addEventListener('abort', onShutdown, { once: true });
    const run: ActiveRun = {
      id,
      controller,
      cancelled: false,
      resolvePlan,
      log: [],
      listeners: new Set(),
      finished: false,
      planned: entries.map((e) => e.key),
      current: new Set(),
      handle: { id, done, planned, events: (signal) => this.watch(run, signal) },
    };
    this.active = run;
    void this.execute(run, entries, force)
      .catch((error: unknown): RunSummary => ({ profiled: [], failed: [], skipped: [], aborted: false, error: errorText(error), judgeFallbacks: 0 }))
      .then((summary) => {
        shutdown.removeEventListener('abort', onShutdown);
        this.scheduleRetries(entries, summary);
        // Idle before anyone awaiting `done` runs, so they can start the next run at once.
        this.active = undefined;
        // A run that failed while planning still settles its plan.
        run.resolvePlan({ models: [], skipped: summary.skipped });
        resolveDone(summary);
        this.drain();
      });
    return run.handle;
  }

  private async execute(run: ActiveRun, entries: ProfileEntry[], force: boolean): Promise<RunSummary> {
    const { profiler, promptsPerCategory } = this.options;
    const signal = run.controller.signal;
    const started = performance.now();
    const promptCount = profiler.promptCount(promptsPerCategory);
    let modelCount = 0;
    let modelIndex = 0;
    const indexOf = new Map<string, number>();
    const progress = new Map<string, number>();
    let ranHere = 0;
    let fallbacksHere = 0;
    const eta = (): number | undefined => {
      if (ranHere === 0) return undefined;
      let done = 0;
      for (const n of progress.values()) done += n;
      const left = Math.max(0, modelCount * promptCount - done);
      return ((performance.now() - started) / ranHere) * left;
    };
    const emit = (event: Omit<RunEvent, 'elapsedMs' | 'modelCount' | 'promptCount' | 'etaMs'> & { etaMs?: number }): void => {
      const full: RunEvent = { promptCount, modelCount, elapsedMs: performance.now() - started, ...event };
      if (full.etaMs === undefined) delete full.etaMs;
      if (run.log.length < MAX_REPLAY) run.log.push(full);
      for (const wake of run.listeners) wake();
    };

    let summary: RunSummary = { profiled: [], failed: [], skipped: [], aborted: false, judgeFallbacks: 0 };
    let judgeLabel = 'LLM';
    try {
      // Plan first, so the run knows how many models it profiles and says at once what it skips.
      const toRun: ProfileEntry[] = [];
      const skipped: Array<{ model: string; reason: string }> = [];
      for (const entry of entries) {
        signal.throwIfAborted();
        const plan = await profiler.needsProfiling(entry, { force, promptsPerCategory });
        if (plan.needed) toRun.push(entry);
        else skipped.push({ model: entry.key, reason: plan.reason });
      }
      modelCount = toRun.length;
      run.planned = toRun.map((e) => e.key);
      emit({ state: 'started', model: '', promptIndex: 0, modelIndex: 0, message: `${toRun.length} to profile, ${skipped.length} skipped` });
      for (const s of skipped) emit({ state: 'model_skipped', model: s.model, promptIndex: 0, modelIndex: 0, message: s.reason });
      summary.skipped.push(...skipped);
      run.resolvePlan({ models: [...run.planned], skipped });
      if (toRun.length > 0) {
        this.options.logger?.info({ models: run.planned, force }, 'profiling run started');
        const judge = await this.options.createJudge((error) => {
          fallbacksHere++;
          this.fallbacks++;
          this.options.logger?.warn({ err: error, judge: judgeLabel }, `${judgeLabel} judge failed; the heuristic judge scored the answer`);
        });
        // Fallbacks name the judge that failed: the LLM judge, or a judge plugin by its name.
        judgeLabel = judge.name.startsWith('llm') || judge.name === 'heuristic' ? 'LLM' : `"${judge.name}"`;
        const result = await profiler.profileAll(toRun, {
          promptsPerCategory,
          timeoutMs: this.options.timeoutMs,
          judge,
          signal,
          force,
          concurrency: this.options.concurrency,
          admit: (entry, admitSignal) => this.admit(entry, admitSignal),
          onProgress: (event: ProgressEvent) => {
            if (event.state === 'started') {
              run.current.add(event.model);
              indexOf.set(event.model, ++modelIndex);
              progress.set(event.model, event.promptIndex);
            } else if (event.state === 'prompt_done') {
              ranHere++;
              progress.set(event.model, event.promptIndex);
              emit({
                state: 'prompt_done',
                model: event.model,
                category: event.category,
                promptIndex: event.promptIndex,
                modelIndex: indexOf.get(event.model) ?? 0,
                score: event.score,
                etaMs: eta(),
                message: event.promptId ?? '',
              });
            }
          },
          onModel: async (outcome) => {
            const key = outcome.entry.key;
            run.current.delete(key);
            run.planned = run.planned.filter((m) => m !== key);
            if (outcome.status === 'skipped') {
              emit({ state: 'model_skipped', model: key, promptIndex: 0, modelIndex: 0, message: outcome.reason ?? '' });
              return;
            }
            // A finished model counts fully towards the ETA even when some prompts failed.
            progress.set(key, promptCount);
            if (outcome.run) (outcome.status === 'done' ? summary.profiled : summary.failed).push(outcome.run);
            if (outcome.status === 'done') this.completed++;
            await this.options.onModel?.(outcome);
            emit({
              state: outcome.status === 'done' ? 'model_done' : 'model_failed',
              model: key,
              promptIndex: outcome.run?.outcomes.length ?? 0,
              modelIndex: indexOf.get(key) ?? 0,
              etaMs: eta(),
              message: outcome.status === 'done' ? describeResults(outcome) : (outcome.reason ?? 'failed'),
            });
          },
        });
        // The result is authoritative; the lists kept from onModel only serve a run that stops early.
        summary = { ...result, skipped: [...skipped, ...result.skipped], aborted: false, judgeFallbacks: fallbacksHere };
        this.lastRunAt = new Date();
      }
    } catch (error) {
      const aborted = signal.aborted || (PluginError.isInstance(error) && error.code === 'aborted');
      summary = { ...summary, aborted, judgeFallbacks: fallbacksHere };
      if (aborted && run.cancelled) summary.cancelled = true;
      if (!aborted) {
        summary.error = errorText(error);
        this.options.logger?.warn({ err: error }, 'profiling run stopped');
      }
    }
    const parts = [`${summary.profiled.length} profiled`, `${summary.failed.length} failed`, `${summary.skipped.length} skipped`];
    if (summary.judgeFallbacks > 0) parts.push(`${judgeLabel} judge failed ${summary.judgeFallbacks} times (heuristic used)`);
    if (summary.aborted) parts.push(run.cancelled ? 'cancelled by an admin' : 'aborted');
    if (summary.error) parts.push(`stopped: ${summary.error}`);
    run.current.clear();
    run.planned = [];
    emit({ state: 'finished', model: '', promptIndex: 0, modelIndex: 0, etaMs: 0, message: parts.join(', ') });
    run.finished = true;
    for (const wake of run.listeners) wake();
    if (modelCount > 0) this.options.logger?.info({ profiled: summary.profiled.length, failed: summary.failed.length, skipped: summary.skipped.length, aborted: summary.aborted }, 'profiling run finished');
    return summary;
  }

  /** The replica-wide lock (when shared), then room in the VRAM budget; one release frees both. */
  private async admit(entry: ProfileEntry, signal: AbortSignal): Promise<() => void> {
    const unlock = await this.options.lock?.(entry, signal);
    try {
      const release = await this.gate.acquire(VramGate.estimate(entry), signal);
      return () => {
        release();
        unlock?.();
      };
    } catch (error) {
      unlock?.();
      throw error;
    }
  }

  /** Replays the run's events, then follows it live, until it finishes or `signal` aborts. */
  private async *watch(run: ActiveRun, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    let next = 0;
    let wake: (() => void) | undefined;
    const listener = () => wake?.();
    run.listeners.add(listener);
    signal?.addEventListener('abort', listener);
    try {
      while (!signal?.aborted) {
        if (next < run.log.length) {
          yield run.log[next++];
          continue;
        }
        if (run.finished) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      run.listeners.delete(listener);
      signal?.removeEventListener('abort', listener);
    }
  }
}

function describeResults(outcome: ModelOutcome): string {
  const results = outcome.run?.results ?? {};
  return Object.entries(results)
    .map(([category, r]) => `${category} ${r.score.toFixed(2)}`)
    .join(', ');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
