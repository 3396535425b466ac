/**
 * The profiler: measures every backend model on the user's own hardware. It runs the prompt set one
 * prompt at a time (a profiling answer must not compete with another for the GPU, or the timings
 * measure the contention), times each answer from the stream, has a judge score it, and turns the
 * outcomes into per-category results the routing score reads.
 *
 * Resumable: with a repository, each prompt is stored as it finishes and a model's run is recorded
 * as started/finished, so a restarted run skips finished models and finished prompts.
 */
import {
  PluginError,
  type BackendPlugin,
  type Category,
  type ChatMessage,
  type ChatRequest,
  type JudgePlugin,
} from '../../plugin-api/index.js';
import { PROMPT_SET, promptSetVersion, selectPrompts } from './prompts.js';
import type {
  CategoryResult,
  CategoryResults,
  ProfileEntry,
  ProfileModelOptions,
  ProfilePrompt,
  ProfileRepository,
  ProfileRun,
  ProfileTarget,
  ProgressEvent,
  PromptOutcome,
} from './types.js';

export interface ProfilerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ProfilerOptions {
  /** Where outcomes and profiles go; without one, nothing persists and profileAll profiles everything. */
  store?: ProfileRepository;
  /** Default: the built-in PROMPT_SET. */
  prompts?: readonly ProfilePrompt[];
  /** Upper bound on each answer's length, so a rambling model cannot stretch a run (default 1024). */
  maxTokens?: number;
  logger?: ProfilerLogger;
  /**
   * Bytes in use on the GPU(s) now (nvidia-smi). With it, a model's VRAM is the growth from before
   * its first prompt to after its last, when its backend cannot report it itself (Ollama /api/ps
   * does). Only read while one model profiles at a time: a delta under concurrency measures nothing.
   */
  gpuUsedBytes?: () => Promise<number | undefined>;
  /**
   * Resolves when the backend serves no client request (or after a bounded wait). Awaited before
   * each turn, so a prompt's timing measures the model, not a queue of client requests, and clients
   * never wait behind more than the turn in progress.
   */
  whenQuiet?: (backend: string, signal: AbortSignal) => Promise<void>;
}

/** How one model of a profileAll run ended, reported after its results are stored. */
export interface ModelOutcome {
  entry: ProfileEntry;
  status: 'done' | 'failed' | 'skipped';
  reason?: string;
  run?: ProfileRun;
}

export interface ProfileAllOptions extends Omit<ProfileModelOptions, 'resume' | 'onResult'> {
  /** Models profiled at the same time (default 1: one model in memory at a time). */
  concurrency?: number;
  /** Profile every model again, even unchanged ones (their stored prompt results are dropped). */
  force?: boolean;
  /**
   * Waits until a model may start (a VRAM budget gate) and returns the release to call when it is
   * done and unloaded. Default: only `concurrency` limits.
   */
  admit?(entry: ProfileEntry, signal: AbortSignal): Promise<() => void>;
  /** Called once per model, after its results are stored and before it is unloaded. */
  onModel?(outcome: ModelOutcome): void | Promise<void>;
}

export interface ProfileAllResult {
  /** Models profiled to the end (some prompts may have failed). */
  profiled: ProfileRun[];
  /** Models whose run cannot stand as a profile (see incompleteReason); nothing stored, profiled again on the next run. */
  failed: ProfileRun[];
  skipped: Array<{ model: string; reason: string }>;
}

/** Fixed sampling so a re-run measures the same answers; 0 temperature is what judges expect. */
const SAMPLING = { temperature: 0, seed: 42 } as const;
const DEFAULT_MAX_TOKENS = 1024;
/** Unloading is best effort and must never hang a run. */
const UNLOAD_TIMEOUT_MS = 10_000;

/** x1 up to 8B, x2 up to 34B, x4 above: bigger models are slower on the same hardware. Unknown size: x1. */
export function scaledTimeout(timeoutMs: number, parameterCountB?: number): number {
  if (parameterCountB === undefined || !Number.isFinite(parameterCountB) || parameterCountB <= 8) return timeoutMs;
  return parameterCountB <= 34 ? timeoutMs * 2 : timeoutMs * 4;
}

export class Profiler {
  private readonly prompts: readonly ProfilePrompt[];
  readonly promptSetVersion: string;
  private readonly maxTokens: number;

  constructor(private readonly options: ProfilerOptions = {}) {
    this.prompts = options.prompts ?? PROMPT_SET;
    this.promptSetVersion = promptSetVersion(this.prompts);
    this.maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
    // Fail at construction, not in the middle of a background run.
    selectPrompts(this.prompts, 0);
  }

  /** Prompts one model runs with `perCategory` prompts per category (fewer when the set is short). */
  promptCount(perCategory: number): number {
    return selectPrompts(this.prompts, perCategory).length;
  }

  /**
   * Profiles one model. Rejects only when `signal` aborts (with an `aborted` PluginError); backend
   * failures are counted per prompt, and a model whose outcomes cannot stand as a profile (every
   * prompt failed, a category without a judged answer, too many backend errors) returns "failed".
   */
  async profileModel(target: ProfileTarget, options: ProfileModelOptions): Promise<ProfileRun> {
    const run: ProfileRun = { model: target.key, status: 'skipped', results: {}, outcomes: [], judge: options.judge.name, promptSetVersion: this.promptSetVersion };
    if (target.capabilities && !target.capabilities.chat) return { ...run, reason: 'not a chat model (embedding-only)' };

    const plan = selectPrompts(this.prompts, options.promptsPerCategory);
    const previous = new Map<string, PromptOutcome | undefined>();
    for (const item of options.resume ?? []) {
      if (typeof item === 'string') previous.set(item, undefined);
      // A failed prompt is not finished: it gets another chance.
      else if (!item.failed) previous.set(item.promptId, item);
    }
    const timeoutMs = scaledTimeout(options.timeoutMs, target.parameterCountB);
    const started = performance.now();
    const outcomes: PromptOutcome[] = [];
    let done = plan.filter((p) => previous.has(p.id)).length;
    let ranHere = 0;
    const emit = (event: Omit<ProgressEvent, 'model' | 'promptCount' | 'elapsedMs' | 'etaMs'>): void => {
      const elapsedMs = performance.now() - started;
      const left = plan.length - done;
      const etaMs = ranHere > 0 ? (elapsedMs / ranHere) * left : left > 0 ? left * timeoutMs : 0;
      try {
        options.onProgress?.({ model: target.key, promptCount: plan.length, elapsedMs, etaMs: event.state === 'model_done' ? 0 : etaMs, ...event });
      } catch {
        // A failing progress listener must not cost the profile.
      }
    };

    emit({ state: 'started', category: plan.find((p) => !previous.has(p.id))?.category ?? plan[0]?.category, promptIndex: done });
    try {
      for (const prompt of plan) {
        if (previous.has(prompt.id)) {
          const stored = previous.get(prompt.id);
          if (stored) outcomes.push(stored);
          continue;
        }
        throwIfAborted(options.signal);
        const outcome = await this.runPrompt(target, prompt, timeoutMs, options.judge, options.signal);
        outcomes.push(outcome);
        await options.onResult?.(outcome);
        done++;
        ranHere++;
        emit({ state: 'prompt_done', category: prompt.category, promptIndex: done, promptId: prompt.id, score: outcome.score });
      }
    } catch (error) {
      emit({ state: 'model_failed', promptIndex: done, error: errorText(error) });
      throw error;
    }

    const results = aggregate(outcomes);
    // Ids given without outcomes are skipped but cannot be counted; everything that ran is.
    const counted = outcomes.length;
    const reason = counted > 0 ? incompleteReason(outcomes) : undefined;
    if (reason) {
      emit({ state: 'model_failed', promptIndex: done, error: reason });
      return { ...run, status: 'failed', reason, results, outcomes };
    }
    emit({ state: 'model_done', category: plan[plan.length - 1]?.category, promptIndex: done });
    return { ...run, status: 'done', results, outcomes };
  }

  /**
   * Profiles the models that need it: new ones, ones whose digest or size changed, ones profiled
   * against another prompt set (or with fewer prompts), and runs interrupted before they finished.
   * `force` profiles everything again. Each model is unloaded afterwards when its backend can, so
   * profiling a fleet never piles models up in VRAM. Rejects when `signal` aborts (stored prompts
   * survive for the next run).
   */
  async profileAll(entries: readonly ProfileEntry[], options: ProfileAllOptions): Promise<ProfileAllResult> {
    const result: ProfileAllResult = { profiled: [], failed: [], skipped: [] };
    const report = async (outcome: ModelOutcome): Promise<void> => {
      try {
        await options.onModel?.(outcome);
      } catch (error) {
        this.options.logger?.warn({ model: outcome.entry.key, err: error }, 'profiling listener failed');
      }
    };
    const queue: ProfileEntry[] = [];
    for (const entry of entries) {
      if (!entry.info.capabilities.chat) {
        const reason = 'not a chat model (embedding-only)';
        result.skipped.push({ model: entry.key, reason });
        await report({ entry, status: 'skipped', reason });
      } else queue.push(entry);
    }
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        throwIfAborted(options.signal);
        const entry = queue[next++];
        const release = options.admit ? await options.admit(entry, options.signal) : undefined;
        try {
          const outcome = await this.profileEntry(entry, options, concurrency === 1, report);
          if ('skipped' in outcome) result.skipped.push({ model: entry.key, reason: outcome.skipped });
          else if (outcome.run.status === 'failed') result.failed.push(outcome.run);
          else result.profiled.push(outcome.run);
        } finally {
          release?.();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    return result;
  }

  /**
   * Whether a model needs profiling: no, when its last run finished on the same weights (digest and
   * size), the same prompt set and at least as many prompts per category, and `force` is off.
   */
  async needsProfiling(entry: ProfileEntry, options: { force?: boolean; promptsPerCategory: number }): Promise<{ needed: boolean; reason: string }> {
    if (!entry.info.capabilities.chat) return { needed: false, reason: 'not a chat model (embedding-only)' };
    if (options.force) return { needed: true, reason: 'forced' };
    if (!this.options.store) return { needed: true, reason: 'no store: every run profiles' };
    const state = await this.options.store.modelState(entry.key);
    if (state === undefined) return { needed: true, reason: 'never profiled' };
    if (state.digest !== (entry.info.digest ?? null) || state.sizeBytes !== (entry.info.sizeBytes ?? null)) return { needed: true, reason: 'the model changed (digest or size)' };
    if (state.promptSetVersion !== this.promptSetVersion) return { needed: true, reason: `profiled with prompt set ${state.promptSetVersion}, now ${this.promptSetVersion}` };
    if (state.finishedAt === null) return { needed: true, reason: 'an earlier run did not finish' };
    if (state.promptsPerCategory < options.promptsPerCategory) return { needed: true, reason: `profiled with ${state.promptsPerCategory} prompts per category, now ${options.promptsPerCategory}` };
    return { needed: false, reason: 'unchanged since the last profile' };
  }

  private async profileEntry(
    entry: ProfileEntry,
    options: ProfileAllOptions,
    alone: boolean,
    report: (outcome: ModelOutcome) => Promise<void>,
  ): Promise<{ run: ProfileRun } | { skipped: string }> {
    const store = this.options.store;
    const version = this.promptSetVersion;
    const digest = entry.info.digest ?? null;
    const sizeBytes = entry.info.sizeBytes ?? null;
    let resume: PromptOutcome[] = [];
    if (store) {
      const plan = await this.needsProfiling(entry, options);
      if (!plan.needed) {
        await report({ entry, status: 'skipped', reason: plan.reason });
        return { skipped: plan.reason };
      }
      const state = await store.modelState(entry.key);
      const sameWeights = state !== undefined && state.digest === digest && state.sizeBytes === sizeBytes;
      // Results measured on other weights, or a forced run, must not be reused; an interrupted run
      // (or a larger prompt budget) on the same weights and set continues where it stopped.
      if (options.force || !sameWeights) await store.clearResults(entry.key);
      else resume = await store.finishedPrompts(entry.key, version);
      await store.saveModelState({
        modelKey: entry.key,
        digest,
        sizeBytes,
        promptSetVersion: version,
        promptsPerCategory: options.promptsPerCategory,
        judge: options.judge.name,
        startedAt: new Date(),
        finishedAt: null,
      });
    }

    const target: ProfileTarget = {
      key: entry.key,
      backend: entry.backend,
      modelId: entry.info.id,
      parameterCountB: entry.info.parameterCountB,
      capabilities: entry.info.capabilities,
    };
    // The GPU before this model loads (the previous one was unloaded), for the nvidia-smi delta.
    const gpuBefore = alone ? await this.gpuUsed() : undefined;
    try {
      const run = await this.profileModel(target, {
        ...options,
        resume,
        onResult: store ? (outcome) => store.saveResult(entry.key, version, outcome) : undefined,
      });
      // Measured while the model is still in memory, before the unload below.
      const vramBytes = await this.measureVram(entry, gpuBefore);
      if (vramBytes !== undefined) run.vramBytes = vramBytes;
      if (store) {
        // A failed run measured the backend's trouble, not the model: its results would misjudge the
        // model, so nothing is stored (an earlier profile keeps serving) and the model stays
        // unfinished, so the next run tries it again (resuming at the prompts that failed).
        if (run.status === 'done') {
          await store.saveProfiles(entry.key, run.results, run.judge, version);
          await store.saveModelState({
            modelKey: entry.key,
            digest,
            sizeBytes,
            promptSetVersion: version,
            promptsPerCategory: options.promptsPerCategory,
            judge: run.judge,
            startedAt: new Date(),
            finishedAt: new Date(),
          });
        }
      }
      this.options.logger?.info({ model: entry.key, status: run.status, results: run.results, vramBytes }, 'model profiled');
      await report({ entry, status: run.status, run, reason: run.reason });
      return { run };
    } finally {
      await unload(entry.backend, entry.info.id, this.options.logger);
    }
  }

  private async gpuUsed(): Promise<number | undefined> {
    if (!this.options.gpuUsedBytes) return undefined;
    try {
      const used = await this.options.gpuUsedBytes();
      return used !== undefined && Number.isFinite(used) ? used : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The model's VRAM: what its backend reports for it (Ollama /api/ps size_vram), else the growth of
   * GPU memory since before it loaded. Undefined when neither can tell.
   */
  private async measureVram(entry: ProfileEntry, gpuBefore: number | undefined): Promise<number | undefined> {
    if (entry.backend.capabilities.loadedModels) {
      try {
        const loaded = await entry.backend.loadedModels({ signal: AbortSignal.timeout(UNLOAD_TIMEOUT_MS) });
        const self = loaded.find((m) => m.id === entry.info.id);
        if (self?.vramBytes !== undefined && self.vramBytes > 0) return self.vramBytes;
      } catch {
        // Fall through to the GPU delta.
      }
    }
    if (gpuBefore === undefined) return undefined;
    const after = await this.gpuUsed();
    return after !== undefined && after > gpuBefore ? after - gpuBefore : undefined;
  }

  /** Runs every turn of one prompt, then judges each answer. Never throws except on abort. */
  private async runPrompt(target: ProfileTarget, prompt: ProfilePrompt, timeoutMs: number, judge: JudgePlugin, signal: AbortSignal): Promise<PromptOutcome> {
    const base = { promptId: prompt.id, category: prompt.category };
    const failedOutcome = (timedOut: boolean, error: string): PromptOutcome => ({
      ...base,
      score: 0,
      ttftMs: null,
      tokensPerSecond: null,
      latencyMs: null,
      failed: true,
      timedOut,
      error,
    });

    const messages: ChatMessage[] = [];
    const turns: Array<{ conversation: ChatMessage[]; answer: string; timing: TurnTiming }> = [];
    for (const user of prompt.turns) {
      messages.push({ role: 'user', content: user });
      const conversation = [...messages];
      try {
        await this.options.whenQuiet?.(target.backend.name, signal);
      } catch {
        throw abortError(signal, target);
      }
      // One deadline for the load and the turn: a hung model costs one timeout per turn, not two.
      const timeout = AbortSignal.timeout(timeoutMs);
      // Load first where the backend can, so the timed turn measures the model answering, not the
      // model loading (a client may have had another model swapped in since the last prompt). A
      // failed load is left for the turn itself to report.
      if (target.backend.capabilities.load) {
        await target.backend.load(target.modelId, { signal: AbortSignal.any([signal, timeout]) }).catch(() => undefined);
        if (signal.aborted) throw abortError(signal, target);
      }
      try {
        const { answer, timing } = await this.timeTurn(target.backend, { model: target.modelId, messages: conversation, maxTokens: this.maxTokens, ...SAMPLING }, AbortSignal.any([signal, timeout]));
        turns.push({ conversation, answer, timing });
        messages.push({ role: 'assistant', content: answer });
      } catch (error) {
        if (signal.aborted) throw abortError(signal, target);
        const timedOut = timeout.aborted || (PluginError.isInstance(error) && error.code === 'timeout');
        return failedOutcome(timedOut, timedOut ? `timed out after ${timeoutMs} ms` : errorText(error));
      }
    }

    const scores: number[] = [];
    for (let i = 0; i < turns.length; i++) {
      const last = i === turns.length - 1;
      try {
        const verdict = await judge.judge(
          { category: prompt.category, prompt: turns[i].conversation, answer: turns[i].answer, reference: last ? prompt.reference : undefined },
          { signal },
        );
        scores.push(Math.min(1, Math.max(0, Number.isFinite(verdict.score) ? verdict.score : 0)));
      } catch (error) {
        if (signal.aborted) throw abortError(signal, target);
        // Without a verdict the answer cannot be scored; failed prompts are retried on the next run.
        return failedOutcome(false, `judge ${judge.name} failed: ${errorText(error)}`);
      }
    }

    const timings = turns.map((t) => t.timing);
    const ttfts = timings.flatMap((t) => (t.ttftMs === null ? [] : [t.ttftMs]));
    const generationMs = timings.reduce((n, t) => n + t.generationMs, 0);
    const tokens = timings.reduce((n, t) => n + t.completionTokens, 0);
    return {
      ...base,
      score: mean(scores) ?? 0,
      ttftMs: mean(ttfts),
      // Under a millisecond of generation (one chunk held the whole answer) there is no rate to measure.
      tokensPerSecond: generationMs >= 1 && tokens > 0 ? (tokens * 1000) / generationMs : null,
      latencyMs: mean(timings.map((t) => t.latencyMs)),
      failed: false,
      timedOut: false,
    };
  }

  /** Streams one answer, timing the first part and the generation after it. */
  private async timeTurn(backend: BackendPlugin, request: ChatRequest, signal: AbortSignal): Promise<{ answer: string; timing: TurnTiming }> {
    const start = performance.now();
    let first: number | undefined;
    let text = '';
    let completionTokens: number | undefined;
    for await (const part of backend.chat(request, { signal })) {
      // Thinking models stream reasoning first: that is still the model producing tokens.
      if (first === undefined && (part.type === 'text-delta' || part.type === 'reasoning-delta' || part.type === 'tool-call-delta')) first = performance.now();
      if (part.type === 'text-delta') text += part.delta;
      else if (part.type === 'finish') completionTokens = part.usage.completionTokens;
      else if (part.type === 'error') throw part.error;
    }
    const end = performance.now();
    // Some servers report no usage: about four characters a token is the usual estimate.
    const tokens = completionTokens && completionTokens > 0 ? completionTokens : Math.ceil(text.length / 4);
    return {
      answer: text,
      timing: {
        ttftMs: first === undefined ? null : first - start,
        generationMs: first === undefined ? 0 : end - first,
        completionTokens: first === undefined ? 0 : tokens,
        latencyMs: end - start,
      },
    };
  }
}

interface TurnTiming {
  ttftMs: number | null;
  generationMs: number;
  completionTokens: number;
  latencyMs: number;
}

/**
 * Most prompts (more than this share) must get a judged answer or time out: errors of the backend or
 * the judge beyond it fail the model's run, as its scores would rest on too few answers.
 */
export const MAX_ERROR_SHARE = 0.1;

/** A prompt without an answer for a reason other than the model's own slowness (backend or judge error). */
function erred(o: PromptOutcome): boolean {
  return o.failed && !o.timedOut;
}

/**
 * Why a model's outcomes cannot stand as its profile, or undefined when they can: every prompt
 * failed, a category has only errors (no judged answer and no timeout), or more than
 * MAX_ERROR_SHARE of the prompts erred.
 */
export function incompleteReason(outcomes: readonly PromptOutcome[]): string | undefined {
  if (outcomes.length === 0) return undefined;
  const lastError = (list: readonly PromptOutcome[]): string => [...list].reverse().find((o) => o.failed)?.error ?? 'no answer';
  if (outcomes.every((o) => o.failed)) return `every prompt failed (${lastError(outcomes)})`;
  const categories = [...new Set(outcomes.map((o) => o.category))];
  // A timeout measured the model (too slow for the budget); an error measured nothing.
  const empty = categories.filter((c) => outcomes.every((o) => o.category !== c || erred(o)));
  if (empty.length > 0) return `no prompt of ${empty.join(', ')} got an answer (${lastError(outcomes.filter((o) => empty.includes(o.category)))})`;
  const errors = outcomes.filter(erred);
  if (errors.length > outcomes.length * MAX_ERROR_SHARE) {
    return `${errors.length} of ${outcomes.length} prompts failed (${lastError(errors)}); the profile would misjudge the model`;
  }
  return undefined;
}

/**
 * Per-category results: score over the prompts that were judged, timeouts counting as 0 (a model too
 * slow for the budget); a backend or judge error says nothing about the model and is left out.
 * Timings over the ones that answered.
 */
export function aggregate(outcomes: readonly PromptOutcome[]): CategoryResults {
  const byCategory = new Map<Category, PromptOutcome[]>();
  for (const o of outcomes) byCategory.set(o.category, [...(byCategory.get(o.category) ?? []), o]);
  const results: CategoryResults = {};
  for (const [category, list] of byCategory) {
    const ok = list.filter((o) => !o.failed);
    const values = (pick: (o: PromptOutcome) => number | null): number[] => ok.flatMap((o) => (pick(o) === null ? [] : [pick(o) as number]));
    const result: CategoryResult = {
      score: mean(list.filter((o) => !erred(o)).map((o) => (o.failed ? 0 : o.score))) ?? 0,
      ttftMs: mean(values((o) => o.ttftMs)),
      tokensPerSecond: mean(values((o) => o.tokensPerSecond)),
      totalLatencyMs: mean(values((o) => o.latencyMs)),
      prompts: list.length,
      failures: list.filter((o) => o.failed).length,
      timeouts: list.filter((o) => o.timedOut).length,
    };
    results[category] = result;
  }
  return results;
}

function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function errorText(error: unknown): string {
  if (PluginError.isInstance(error)) return `${error.code}${error.status ? ` ${error.status}` : ''}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function abortError(signal: AbortSignal, target?: ProfileTarget): PluginError {
  return new PluginError({
    code: 'aborted',
    message: 'profiling aborted',
    retryable: false,
    backend: target?.backend.name,
    model: target?.modelId,
    cause: signal.reason,
  });
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

/** Frees the model's memory after profiling; a failure here is logged, never fatal. */
async function unload(backend: BackendPlugin, modelId: string, logger?: ProfilerLogger): Promise<void> {
  if (!backend.capabilities.unload) return;
  try {
    await backend.unload(modelId, { signal: AbortSignal.timeout(UNLOAD_TIMEOUT_MS) });
  } catch (error) {
    logger?.warn({ backend: backend.name, model: modelId, err: error }, 'cannot unload model after profiling');
  }
}
