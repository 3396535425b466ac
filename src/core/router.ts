/**
 * The routing core: one implementation behind the REST facade and the RouterService RPCs.
 *
 *   classify -> candidates (capable, available) -> score -> dispatch with cascade -> record
 *
 * chat() resolves only once the chosen model produced its first part, so the adapters know the
 * model before writing a byte, and a failure before the first token can still move to the next
 * candidate. After that, failures travel in-band as an `error` part.
 */
import { randomUUID } from 'node:crypto';
import {
  CATEGORIES,
  COMPLEXITIES,
  PluginError,
  type ChatRequest,
  type ChatStreamPart,
  type Classification,
  type ClassifierPlugin,
} from '../plugin-api/index.js';
import type { CachedAnswer } from './cache/answer.js';
import { replay } from './cache/answer.js';
import type { ChatCache, ChatEngine } from './cache/chat-cache.js';
import type { EmbedInput, EmbedOutput, Embedder } from './cache/embedder.js';
import type { CircuitBreakers } from './circuit-breaker.js';
import type { BackendActivity } from './backend-activity.js';
import type { DecisionStore } from './decisions.js';
import type { CompletedEvent, RouterEvents } from './events.js';
import { FeedbackBook, RecentSelections } from './history.js';
import { detectNeeds } from './needs.js';
import type { ModelRegistry, RegistryEntry } from './registry.js';
import { capabilityGap, scoreCandidates, type RouteNeeds, type ScoringResult, type ScoringWeights } from './scoring.js';
import { classificationMessages } from './validate.js';
import {
  RouterError,
  type Attempt,
  type CandidateExplanation,
  type Explanation,
  type FeedbackInput,
  type ModelListing,
  type RoutedStream,
  type RouteInfo,
  type RouteRequest,
} from './types.js';

export interface RouterSettings {
  externalModelName: string;
  /** Extra router model ids with their own quality preference (e.g. smarterrouter/fast). */
  aliases: ReadonlyArray<{ id: string; qualityPreference: number }>;
  qualityPreference: number;
  weights: ScoringWeights;
  cascadingEnabled: boolean;
  cascadingMaxAttempts: number;
  feedbackEnabled: boolean;
  firstTokenTimeoutMs: number;
  generationTimeoutMs: number;
  signature?: string;
}

export interface CoreLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RouterDeps {
  settings: RouterSettings;
  registry: ModelRegistry;
  /** Tried in order; the first non-null answer wins (the built-in classifier goes last). */
  classifiers: readonly ClassifierPlugin[];
  store: DecisionStore;
  logger: CoreLogger;
  /**
   * Runs before each attempt (the VRAM manager makes room for a model that is not loaded). A
   * retryable PluginError skips to the next candidate.
   */
  beforeDispatch?: (entry: RegistryEntry, context: { signal: AbortSignal; lastCandidate: boolean }) => Promise<void>;
  /** Response, routing and semantic caches and coalescing (absent when ROUTER_CACHE_ENABLED=false). */
  cache?: ChatCache<Plan>;
  /** Embeddings (/v1/embeddings, RouterService.Embed). */
  embedder?: Embedder;
  /** Observers of what happens (metrics); optional so a bare core needs none. */
  events?: RouterEvents;
  /**
   * How long a plugin classifier may take before the next one decides (default 2 s; the built-in
   * classifier is never timed). A hung plugin must not hang every request.
   */
  classifierTimeoutMs?: number;
  /** Skips backends and models whose circuit is open; optional so a bare core has none. */
  circuits?: CircuitBreakers;
  /** Counts client requests in flight per backend (profiling waits for quiet); optional. */
  activity?: BackendActivity;
}

export interface Plan {
  classification: Classification;
  classifier: string;
  needs: RouteNeeds;
  qualityPreference: number;
  /** Set when the client named a concrete model. */
  bypass?: RegistryEntry;
  scoring?: ScoringResult;
  /**
   * A bypass needs its classification only for the record and the X-Router-Category header, not to
   * choose a model: it runs once the request has gone to the model, while the model works (see
   * start), instead of in front of it. Until this settles, `classification` and `classifier` hold
   * the no-opinion defaults. Absent on routed plans, which are classified before scoring.
   */
  classifyLater?: () => Promise<void>;
}

export class Router {
  readonly recent = new RecentSelections();
  readonly feedbackBook = new FeedbackBook();
  private readonly settings: RouterSettings;
  private readonly reportedClassifierTrouble = new Set<string>();
  /** Streams past their first token and not ended: shutdown stops them and waits for their records. */
  private readonly live = new Set<Relay>();
  private liveEmpty: (() => void) | undefined;
  /** Set by beginShutdown: a stream cut from now on is recorded as aborted, whatever cut it. */
  private stopping = false;

  constructor(private readonly deps: RouterDeps) {
    this.settings = deps.settings;
  }

  /** The configured score weights (explanations weigh their factors with them, see weightedFactors). */
  get weights(): ScoringWeights {
    return this.settings.weights;
  }

  /** Rebuilds the in-memory feedback means from the store (start-up). */
  async loadFeedback(): Promise<void> {
    for (const f of await this.deps.store.loadFeedback()) this.feedbackBook.add(f.responseId, f.modelKey, f.category, f.score);
  }

  async chat(request: RouteRequest, signal: AbortSignal): Promise<RoutedStream> {
    const startedAt = performance.now();
    const cache = this.deps.cache;
    if (cache) return cache.chat(request, signal, this.engine(startedAt));
    return this.dispatch(request, await this.plan(request, signal), signal, startedAt);
  }

  async embed(request: EmbedInput, signal: AbortSignal): Promise<EmbedOutput> {
    if (!this.deps.embedder) throw new RouterError('disabled', 'embeddings are not configured on this router');
    return this.deps.embedder.embed(request, signal);
  }

  /** The caches' view of the router: how to plan, dispatch and present a cached answer. */
  private engine(startedAt: number): ChatEngine<Plan> {
    return {
      plan: (request, signal) => this.plan(request, signal),
      registryVersion: () => this.deps.registry.snapshot(),
      dispatch: (request, plan, signal) => this.dispatch(request, plan, signal, startedAt),
      served: (request, answer, status) => {
        const info = this.servedInfo(request, answer, status);
        this.recordServed(request, info, startedAt);
        return { info, parts: replay(answer) };
      },
      joined: (request, leader, parts) => {
        const info: RouteInfo = {
          ...leader,
          responseId: newResponseId(),
          requestedModel: request.model,
          attempts: [],
          cache: leader.cache === 'miss' ? 'hit' : leader.cache,
        };
        this.recordServed(request, info, startedAt);
        return { info, parts: this.settledOnEnd(parts, info.responseId) };
      },
    };
  }

  private servedInfo(request: RouteRequest, answer: CachedAnswer, status: 'hit' | 'semantic'): RouteInfo {
    const alias = this.aliasPreference(request.model);
    return {
      responseId: newResponseId(),
      created: Math.floor(Date.now() / 1000),
      requestedModel: request.model,
      selectedModel: answer.model,
      backend: answer.backend,
      category: answer.category,
      complexity: answer.complexity,
      complexityScore: answer.complexityScore,
      qualityPreference: request.qualityPreference ?? alias ?? this.settings.qualityPreference,
      routed: alias !== undefined,
      attempts: [],
      cache: status,
    };
  }

  private async dispatch(request: RouteRequest, plan: Plan, signal: AbortSignal, startedAt: number): Promise<RoutedStream> {
    // Open circuits are skipped before they are tried, so they cost no attempt of the cascade.
    const ranked: RegistryEntry[] = plan.bypass ? [plan.bypass] : plan.scoring!.ranked.map((c) => this.deps.registry.get(c.key)!);
    const candidates = ranked
      .filter((e) => !this.deps.circuits?.blocked(e.backend.name, e.key))
      .slice(0, this.settings.cascadingEnabled ? this.settings.cascadingMaxAttempts : 1);
    const info: RouteInfo = {
      responseId: newResponseId(),
      created: Math.floor(Date.now() / 1000),
      requestedModel: request.model,
      selectedModel: '',
      backend: '',
      category: plan.classification.category,
      complexity: plan.classification.complexity,
      complexityScore: plan.classification.complexityScore,
      qualityPreference: plan.qualityPreference,
      routed: !plan.bypass,
      attempts: [],
      cache: 'miss',
    };
    // A bypass's classification (Plan.classifyLater) is known by the time anything is recorded.
    const classified = async (): Promise<void> => {
      if (!plan.classifyLater) return;
      await plan.classifyLater();
      info.category = plan.classification.category;
      info.complexity = plan.classification.complexity;
      info.complexityScore = plan.classification.complexityScore;
    };
    if (candidates.length === 0) {
      await classified();
      this.record(request, plan, info, 'no_candidates', startedAt);
      const scoring = plan.scoring;
      if (scoring && scoring.chatModels > 0 && scoring.capable === 0) {
        // Images for a fleet without vision, tools for one without tool calling: retrying will not
        // help, so this is the client's 400, not a 503 that SDKs retry.
        const gaps = new Set<string>();
        for (const model of this.deps.registry.snapshot()) {
          const gap = model.capabilities.chat ? capabilityGap(model, plan.needs) : undefined;
          if (gap !== undefined) gaps.add(gap);
        }
        const why = [...gaps].slice(0, 3).join('; ');
        throw new RouterError('invalid_request', `No model on this router can answer this request${why ? ` (${why})` : ''}.`, { param: plan.needs.tools ? 'tools' : 'messages' });
      }
      const first = ranked[0];
      const open = first ? this.deps.circuits?.blocked(first.backend.name, first.key) : undefined;
      if (open) {
        const retryAfterSeconds = this.deps.circuits?.retryAfterSeconds(first!.backend.name, first!.key);
        throw new RouterError('no_candidates', `every capable model is skipped for now (${withoutUrls(open)})`, retryAfterSeconds ? { retryAfterSeconds } : {});
      }
      throw new RouterError('no_candidates', noCandidateMessage(plan));
    }

    // The longest wait a busy backend asked for (its Retry-After), passed on when every model was busy.
    let retryAfterSeconds: number | undefined;
    for (const entry of candidates) {
      const attemptStart = performance.now();
      this.deps.circuits?.begin(entry.backend.name, entry.key);
      try {
        await this.deps.beforeDispatch?.(entry, { signal, lastCandidate: entry === candidates[candidates.length - 1] });
        const started = await this.start(entry, request, signal, plan.classifyLater);
        await classified();
        info.attempts.push({ model: entry.key, backend: entry.backend.name, ok: true, durationMs: elapsed(attemptStart) });
        info.selectedModel = entry.key;
        info.backend = entry.backend.name;
        this.recent.add(entry.key);
        this.deps.registry.markLoaded(entry.key);
        this.record(request, plan, info, 'ok', startedAt);
        return { info, parts: this.relay(started, entry, info) };
      } catch (error) {
        const failure = PluginError.from(error, { backend: entry.backend.name, model: entry.info.id });
        if (failure.code === 'overloaded' && typeof failure.retryAfterSeconds === 'number' && Number.isFinite(failure.retryAfterSeconds)) {
          retryAfterSeconds = Math.max(retryAfterSeconds ?? 0, failure.retryAfterSeconds);
        }
        info.attempts.push({
          model: entry.key,
          backend: entry.backend.name,
          ok: false,
          durationMs: elapsed(attemptStart),
          error: { code: failure.code, message: failure.message },
        });
        if (signal.aborted) {
          await classified();
          this.record(request, plan, info, 'aborted', startedAt);
          throw new RouterError('aborted', 'the client went away', { attempts: info.attempts });
        }
        // A buffered (non-streaming) answer may fail mid-way: nothing reached the client either way.
        this.deps.logger.warn({ model: entry.key, code: failure.code, err: failure.message }, request.stream === false ? 'model failed before its answer was complete' : 'model failed before its first token');
        // A conversation too long for this model's context is this model's limit, not a bad request:
        // a routed request moves on to a model that may have a larger context.
        // A backend refusing the router's credentials says nothing about the request either: the
        // models of other backends may well answer it.
        if (!failure.retryable && !(plan.bypass === undefined && (isContextOverflow(failure) || failure.code === 'unauthorized'))) break;
      }
    }
    await classified();
    this.record(request, plan, info, 'all_candidates_failed', startedAt);
    const last = info.attempts[info.attempts.length - 1]?.error;
    if (plan.bypass && (last?.code === 'bad_request' || last?.code === 'unsupported')) {
      // The client chose the model and its backend refused the request as invalid or beyond the
      // model (an image for a text-only model, a parameter it rejects): the request is at fault.
      throw new RouterError('invalid_request', `The model "${plan.bypass.key}" rejected the request: ${withoutUrls(last.message)}`, { attempts: info.attempts });
    }
    const lastAttempt = info.attempts[info.attempts.length - 1];
    if (!plan.bypass && lastAttempt && last?.code === 'bad_request') {
      // A routed request the last model refused as invalid (a parameter no model takes, a
      // conversation longer than every context tried) is the client's to fix: a 400 that says why,
      // not a 502 that SDKs retry.
      throw new RouterError('invalid_request', `The request was refused by ${lastAttempt.model}: ${withoutUrls(last.message)}`, { attempts: info.attempts });
    }
    // The client learns which models failed and how; the backends' own messages (URLs, raw stream
    // text, runner internals) stay in the log and the decision record.
    const tried = info.attempts.map((a) => `${a.model} (${a.error?.code})`).join('; ');
    if (info.attempts.length > 0 && info.attempts.every((a) => a.error?.code === 'overloaded')) {
      // A backend's own Retry-After (bounded: a rate-limited API may say an hour) or our default.
      const wait = retryAfterSeconds === undefined ? OVERLOADED_RETRY_AFTER_S : Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(retryAfterSeconds)));
      throw new RouterError('overloaded', `every model tried is busy (rate limited or overloaded): ${tried}; try again shortly`, { attempts: info.attempts, retryAfterSeconds: wait });
    }
    throw new RouterError('all_candidates_failed', `every model tried failed: ${tried}`, { attempts: info.attempts });
  }

  async explain(request: RouteRequest): Promise<Explanation> {
    const plan = await this.plan(request, AbortSignal.timeout(10_000));
    await plan.classifyLater?.();
    const candidates: CandidateExplanation[] = [];
    let selected: string | null = null;
    if (plan.bypass) {
      selected = plan.bypass.key;
      candidates.push({ model: plan.bypass.key, backend: plan.bypass.backend.name, excluded: false, reason: 'named by the client: routing bypassed' });
    } else {
      const scoring = plan.scoring!;
      selected = scoring.ranked[0]?.key ?? null;
      for (const c of scoring.ranked) {
        const open = this.deps.circuits?.blocked(c.backend, c.key);
        if (open) candidates.push({ model: c.key, backend: c.backend, total: c.total, factors: c.factors, excluded: true, reason: open });
        else candidates.push({ model: c.key, backend: c.backend, total: c.total, factors: c.factors, estimated: c.estimated, excluded: false });
      }
      if (selected) selected = candidates.find((c) => !c.excluded)?.model ?? null;
      for (const x of scoring.excluded) candidates.push({ model: x.key, backend: x.backend, excluded: true, reason: x.reason });
    }
    return {
      category: plan.classification.category,
      complexity: plan.classification.complexity,
      complexityScore: plan.classification.complexityScore,
      confidence: plan.classification.confidence,
      classifier: plan.classifier,
      needs: plan.needs,
      qualityPreference: plan.qualityPreference,
      selectedModel: selected,
      candidates,
    };
  }

  /**
   * The listing of a model a client may name in a chat: a router model, or the backend model the
   * name resolves to (its router-wide id, a backend-local id, an Ollama name without its tag).
   */
  findModel(name: string): ModelListing | undefined {
    const all = this.listModels();
    const direct = all.find((m) => m.id === name);
    if (direct) return direct;
    const entry = this.deps.registry.resolve(name);
    return entry ? all.find((m) => m.id === entry.key) : undefined;
  }

  listModels(options: { includeUnavailable?: boolean } = {}): ModelListing[] {
    const routerModels: ModelListing[] = [
      { id: this.settings.externalModelName, qualityPreference: this.settings.qualityPreference },
      ...this.settings.aliases.map((a) => ({ id: a.id, qualityPreference: a.qualityPreference })),
    ].map((m) => ({
      id: m.id,
      backend: 'smarterrouter',
      provider: 'smarterrouter',
      // The union of what the chat models behind the name can do.
      capabilities: {
        chat: true,
        vision: this.anyModel((e) => e.info.capabilities.chat && e.info.capabilities.vision),
        tools: this.anyModel((e) => e.info.capabilities.chat && e.info.capabilities.tools),
        embeddings: false,
        thinking: this.anyModel((e) => e.info.capabilities.chat && e.info.capabilities.thinking === true),
      },
      available: this.anyModel((e) => this.deps.registry.isAvailable(e) && e.info.capabilities.chat),
      routerAlias: true,
      qualityPreference: m.qualityPreference,
    }));
    const backendModels: ModelListing[] = [];
    for (const entry of this.deps.registry.entriesList()) {
      const available = this.deps.registry.isAvailable(entry);
      if (!available && !options.includeUnavailable) continue;
      backendModels.push({
        id: entry.key,
        backend: entry.backend.name,
        provider: entry.backend.provider,
        family: entry.info.family,
        parameterCountB: entry.info.parameterCountB,
        quantization: entry.info.quantization,
        contextLength: entry.info.contextLength,
        capabilities: entry.info.capabilities,
        available,
        routerAlias: false,
      });
    }
    return [...routerModels, ...backendModels];
  }

  async submitFeedback(input: FeedbackInput): Promise<{ model: string }> {
    if (!this.settings.feedbackEnabled) throw new RouterError('disabled', 'feedback is disabled on this router (ROUTER_FEEDBACK_ENABLED=false)');
    if (typeof input.score !== 'number' || !Number.isFinite(input.score) || input.score < -1 || input.score > 1) {
      throw new RouterError('invalid_request', 'score must be a number from -1 to 1', { param: 'score' });
    }
    if (!input.responseId) throw new RouterError('invalid_request', 'response_id is required', { param: 'response_id' });
    const decision = await this.deps.store.find(input.responseId);
    if (!decision || !decision.selectedModel) {
      throw new RouterError('not_found', `no routed answer with response id "${input.responseId}"`, { param: 'response_id' });
    }
    await this.deps.store.saveFeedback({
      responseId: input.responseId,
      modelKey: decision.selectedModel,
      category: decision.category,
      score: input.score,
      comment: input.comment,
      createdAt: new Date(),
    });
    this.feedbackBook.add(input.responseId, decision.selectedModel, decision.category, input.score);
    this.deps.registry.invalidate();
    return { model: decision.selectedModel };
  }

  // -------------------------------------------------------------------------------------------

  private async plan(request: RouteRequest, signal: AbortSignal): Promise<Plan> {
    if (!request.messages.length) throw new RouterError('invalid_request', 'messages must not be empty', { param: 'messages' });
    const alias = this.aliasPreference(request.model);
    let bypass: RegistryEntry | undefined;
    if (alias === undefined) {
      bypass = this.deps.registry.resolve(request.model);
      if (!bypass) {
        throw new RouterError(
          'model_not_found',
          `The model "${request.model}" does not exist. Use "${this.settings.externalModelName}" to let the router choose, or one of GET /v1/models.`,
          { param: 'model' },
        );
      }
      if (!bypass.info.capabilities.chat) {
        throw new RouterError('invalid_request', `The model "${bypass.key}" cannot chat (it is an embedding model).`, { param: 'model' });
      }
    }
    const qualityPreference = request.qualityPreference ?? alias ?? this.settings.qualityPreference;
    const needs = detectNeeds(request);
    if (bypass) {
      const plan: Plan = { ...UNCLASSIFIED, needs, qualityPreference, bypass };
      let classified: Promise<void> | undefined;
      plan.classifyLater = () =>
        (classified ??= this.classify(request, signal).then((result) => {
          plan.classification = result.classification;
          plan.classifier = result.classifier;
        }));
      return plan;
    }
    const { classification, classifier } = await this.classify(request, signal);
    const scoring = scoreCandidates({
      models: this.deps.registry.snapshot(),
      category: classification.category,
      complexity: classification.complexity,
      complexityScore: classification.complexityScore,
      needs,
      qualityPreference,
      weights: this.settings.weights,
      recentShare: this.recent.share,
      // Feedback switched off no longer moves scores, even when earlier feedback is stored.
      ...(this.settings.feedbackEnabled ? { feedback: this.feedbackBook.mean } : {}),
    });
    return { classification, classifier, needs, qualityPreference, scoring };
  }

  /** The alias's own preference, the configured one for the main name, undefined for other names. */
  private aliasPreference(model: string): number | undefined {
    if (!model || model === this.settings.externalModelName) return this.settings.qualityPreference;
    return this.settings.aliases.find((a) => a.id === model)?.qualityPreference;
  }

  private async classify(request: RouteRequest, signal: AbortSignal): Promise<{ classification: Classification; classifier: string }> {
    for (const classifier of this.deps.classifiers) {
      try {
        // Classifiers read a control-character-free copy; the request itself goes upstream untouched.
        const input = { messages: classificationMessages(request.messages), tools: request.tools };
        // The built-in classifier is local and synchronous: no deadline (and no timer) for it.
        const result = classifier.name === BUILTIN_CLASSIFIER ? await classifier.classify(input, { signal }) : await this.withDeadline(classifier, input, signal);
        if (result === null || result === undefined) continue;
        const problem = classificationProblem(result);
        if (!problem) return { classification: result, classifier: classifier.name };
        this.classifierTrouble(classifier.name, `answered an invalid classification (${problem})`);
      } catch (error) {
        // A broken classifier plugin costs its opinion, never the request.
        this.classifierTrouble(classifier.name, (error as Error)?.message ?? String(error));
      }
    }
    return { classification: UNCLASSIFIED.classification, classifier: UNCLASSIFIED.classifier };
  }

  /** A plugin classifier's answer, or a failure once its deadline passes (it is asked to stop). */
  private async withDeadline(classifier: ClassifierPlugin, input: Parameters<ClassifierPlugin['classify']>[0], signal: AbortSignal): Promise<Classification | null> {
    const timeoutMs = this.deps.classifierTimeoutMs ?? DEFAULT_CLASSIFIER_TIMEOUT_MS;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError');
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([classifier.classify(input, { signal: controller.signal }), deadline]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Warns once per classifier and cause (a broken plugin would otherwise warn on every request). */
  private classifierTrouble(name: string, reason: string): void {
    const key = `${name}\u0000${reason}`;
    if (this.reportedClassifierTrouble.has(key) || this.reportedClassifierTrouble.size > 100) {
      this.deps.logger.debug({ classifier: name, err: reason }, 'classifier failed; trying the next');
      return;
    }
    this.reportedClassifierTrouble.add(key);
    this.deps.logger.warn({ classifier: name, err: reason }, 'classifier failed; trying the next (reported once per cause)');
  }

  /** Starts one model and waits for its first part, under the first-token deadline. */
  private async start(entry: RegistryEntry, request: RouteRequest, signal: AbortSignal, whileWaiting?: () => Promise<void>): Promise<Started> {
    const dispatchedAt = performance.now();
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
    const firstTokenTimer = setTimeout(
      () => controller.abort(new DOMException(`no first token within ${this.settings.firstTokenTimeoutMs} ms`, 'TimeoutError')),
      this.settings.firstTokenTimeoutMs,
    );
    const activity = this.deps.activity;
    const backendName = entry.backend.name;
    activity?.enter(backendName);
    let released = false;
    const release = () => {
      clearTimeout(firstTokenTimer);
      signal.removeEventListener('abort', onAbort);
      if (released) return;
      released = true;
      activity?.leave(backendName);
    };
    let iterator: AsyncIterator<ChatStreamPart> | undefined;
    try {
      iterator = entry.backend.chat(toBackendRequest(request, entry.info.id), { signal: controller.signal })[Symbol.asyncIterator]();
      const pending = iterator.next();
      if (whileWaiting) {
        // The request is on its way to the model: work that need not delay it runs now. The
        // answer's failure is kept for the await below, never reported as unhandled meanwhile.
        Promise.resolve(pending).catch(() => {});
        await whileWaiting();
      }
      const first = await pending;
      clearTimeout(firstTokenTimer);
      if (first.done) throw new PluginError({ code: 'bad_response', message: 'the stream ended without any output', backend: entry.backend.name, model: entry.info.id });
      if (first.value.type === 'error') throw first.value.error;
      const firstAt = performance.now();
      this.deps.events?.firstToken({ model: entry.key, backend: entry.backend.name, ms: firstAt - dispatchedAt });
      const generationTimer = setTimeout(
        () => controller.abort(new DOMException(`generation exceeded ${this.settings.generationTimeoutMs} ms`, 'TimeoutError')),
        this.settings.generationTimeoutMs,
      );
      const started: Started = {
        first: first.value,
        iterator,
        controller,
        protocol: request.protocol,
        dispatchedAt,
        firstAt,
        release: () => {
          release();
          clearTimeout(generationTimer);
        },
      };
      if (request.stream === false) return await this.buffer(started, entry);
      return started;
    } catch (error) {
      release();
      controller.abort();
      void iterator?.return?.().catch(() => {});
      if (controller.signal.reason instanceof DOMException && controller.signal.reason.name === 'TimeoutError' && !signal.aborted) {
        throw new PluginError({ code: 'timeout', message: controller.signal.reason.message, backend: entry.backend.name, model: entry.info.id, cause: error });
      }
      throw error;
    }
  }

  /**
   * For a client that waits for the whole answer: reads the stream to its end before anything is
   * sent, so a failure mid-generation throws here and the caller can still try the next model.
   */
  private async buffer(started: Started, entry: RegistryEntry): Promise<Started> {
    const parts: ChatStreamPart[] = [started.first];
    try {
      for (;;) {
        const last = parts[parts.length - 1]!;
        if (last.type === 'error') throw last.error;
        if (last.type === 'finish') break;
        const next = await started.iterator.next();
        if (next.done) throw new PluginError({ code: 'bad_response', message: 'the stream ended without a finish', backend: entry.backend.name, model: entry.info.id });
        parts.push(next.value);
      }
      // Let the backend's stream finish (releases its connection to the keep-alive pool).
      void started.iterator.return?.().catch(() => {});
    } catch (error) {
      started.release();
      started.controller.abort();
      void started.iterator.return?.().catch(() => {});
      throw error;
    }
    return { ...started, buffered: parts.slice(1) };
  }

  /** The first part and the rest; guarantees one final finish or error part. */
  private relay(started: Started, entry: RegistryEntry, info: RouteInfo): AsyncIterableIterator<ChatStreamPart> {
    const relay: Relay = new Relay(started, entry, this.settings.signature, (end) => {
      this.live.delete(relay);
      if (this.live.size === 0) this.liveEmpty?.();
      this.finished(started, entry, info, end);
    });
    this.live.add(relay);
    return relay;
  }

  /**
   * Shutdown, past the drain: every stream still answering is stopped (its backend call aborted) and
   * recorded as `aborted`, like a client that left, whatever ends it now (the cut socket, the
   * backend's aborted fetch). Idempotent.
   */
  beginShutdown(): void {
    this.stopping = true;
    const reason = new DOMException('the router is shutting down', 'AbortError');
    for (const relay of this.live) relay.stop(reason);
  }

  /**
   * Resolves once every stream has ended and so recorded its decision, or after `ms`; streams still
   * open then are closed here (their consumer is gone), so their records are queued before the store
   * closes.
   */
  async streamsEnded(ms: number): Promise<void> {
    if (this.live.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.liveEmpty = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
      ]);
      clearTimeout(timer);
      this.liveEmpty = undefined;
    }
    for (const relay of [...this.live]) void relay.return();
  }

  private record(request: RouteRequest, plan: Plan, info: RouteInfo, status: string, startedAt: number): void {
    const candidates: CandidateExplanation[] = plan.scoring
      ? [
          ...plan.scoring.ranked.map((c) => ({ model: c.key, backend: c.backend, total: round(c.total), factors: c.factors, excluded: false })),
          ...plan.scoring.excluded.map((x) => ({ model: x.key, backend: x.backend, excluded: true, reason: x.reason })),
        ]
      : plan.bypass
        ? [{ model: plan.bypass.key, backend: plan.bypass.backend.name, excluded: false, reason: 'named by the client' }]
        : [];
    this.store(request, info, status, candidates, info.attempts, startedAt);
  }

  /** Queues the decision row (written in batches off the request path) and tells the observers. */
  private store(request: RouteRequest, info: RouteInfo, status: string, candidates: CandidateExplanation[], attempts: Attempt[], startedAt: number): void {
    this.deps.store.record({
      responseId: info.responseId,
      requestId: request.requestId,
      createdAt: new Date(),
      protocol: request.protocol,
      category: info.category,
      complexity: info.complexity,
      complexityScore: info.complexityScore,
      selectedModel: info.selectedModel || null,
      qualityPreference: info.qualityPreference,
      routed: info.routed,
      candidates,
      attempts,
      cache: info.cache,
      status,
      latencyMs: elapsed(startedAt),
    });
    this.observe(info, status);
  }

  /** Tells the circuits and the observers how a request's attempts went. */
  private observe(info: RouteInfo, status: string): void {
    info.attempts.forEach((a, index) => {
      this.deps.circuits?.result(a.backend, a.model, a.ok ? undefined : (a.error?.code ?? 'internal'));
      this.deps.events?.attempt({ model: a.model, backend: a.backend, index, ok: a.ok, durationMs: a.durationMs, errorCode: a.error?.code });
    });
    if (status === 'ok') this.deps.events?.selection({ model: info.selectedModel, backend: info.backend, category: info.category, routed: info.routed });
    else if (status === 'no_candidates' || status === 'all_candidates_failed' || status === 'aborted') this.deps.events?.routeFailed({ reason: status, category: info.category });
  }

  /** A started generation ended: a failure after its first token also counts against the model. */
  private finished(started: Started, entry: RegistryEntry, info: RouteInfo, end: ChatStreamPart | undefined): void {
    const now = performance.now();
    this.settleCut(info.responseId, end);
    const event: CompletedEvent = {
      model: entry.key,
      backend: entry.backend.name,
      protocol: started.protocol,
      outcome: end?.type === 'finish' ? 'ok' : end?.type === 'error' && end.error.code !== 'aborted' ? 'error' : 'aborted',
      durationMs: now - started.dispatchedAt,
      generationMs: now - started.firstAt,
    };
    if (end?.type === 'finish') {
      event.promptTokens = end.usage.promptTokens;
      event.completionTokens = end.usage.completionTokens;
    } else if (end?.type === 'error') {
      event.errorCode = end.error.code;
      if (event.outcome === 'error') this.deps.circuits?.result(entry.backend.name, entry.key, end.error.code);
    }
    this.deps.events?.completed(event);
  }

  /**
   * A shared (coalesced) stream as one follower sees it: recorded ok when it joined, its decision
   * settles like a relay's when its stream ends without the finish (the shared generation failed,
   * or this client left).
   */
  private async *settledOnEnd(parts: AsyncIterable<ChatStreamPart>, responseId: string): AsyncGenerator<ChatStreamPart> {
    let end: ChatStreamPart | undefined;
    try {
      for await (const part of parts) {
        if (part.type === 'finish' || part.type === 'error') end = part;
        yield part;
      }
    } finally {
      this.settleCut(responseId, end);
    }
  }

  /**
   * A decision is recorded as ok at the first token; a stream that then ends without its finish
   * says how: `aborted` (the client left, or shutdown) or `failed_after_first_token`.
   */
  private settleCut(responseId: string, end: ChatStreamPart | undefined): void {
    if (end?.type === 'finish') return;
    const aborted = this.stopping || end === undefined || (end.type === 'error' && end.error.code === 'aborted');
    this.deps.store.settle(responseId, aborted ? 'aborted' : 'failed_after_first_token');
  }

  /** A decision answered without a model run (cache hit, coalesced), so feedback on it still works. */
  private recordServed(request: RouteRequest, info: RouteInfo, startedAt: number): void {
    this.store(request, info, 'ok', [], [], startedAt);
  }

  private anyModel(test: (entry: RegistryEntry) => boolean): boolean {
    return this.deps.registry.entriesList().some(test);
  }
}

interface Started {
  first: ChatStreamPart;
  iterator: AsyncIterator<ChatStreamPart>;
  /** The parts after `first` of an answer read to its end already (stream: false); the iterator is spent. */
  buffered?: ChatStreamPart[];
  controller: AbortController;
  release: () => void;
  protocol: RouteRequest['protocol'];
  /** performance.now() at dispatch and at the first part (latency, time to first token, tokens/s). */
  dispatchedAt: number;
  firstAt: number;
}

/** The built-in classifier's plugin name: local, synchronous, and trusted to answer in shape. */
const BUILTIN_CLASSIFIER = 'builtin';
const DEFAULT_CLASSIFIER_TIMEOUT_MS = 2_000;

/** Why a classifier's answer cannot be used (a plugin may return anything), or undefined. */
function classificationProblem(c: Classification): string | undefined {
  if (typeof c !== 'object' || c === null) return 'not an object';
  if (!(CATEGORIES as readonly string[]).includes(c.category)) return `category ${JSON.stringify(c.category)}`;
  if (!(COMPLEXITIES as readonly string[]).includes(c.complexity)) return `complexity ${JSON.stringify(c.complexity)}`;
  if (typeof c.complexityScore !== 'number' || !(c.complexityScore >= 0 && c.complexityScore <= 1)) return `complexityScore ${JSON.stringify(c.complexityScore)}`;
  if (typeof c.confidence !== 'number' || !(c.confidence >= 0 && c.confidence <= 1)) return `confidence ${JSON.stringify(c.confidence)}`;
  return undefined;
}

/** What a plan says before (or without) any classifier's opinion. */
const UNCLASSIFIED: Pick<Plan, 'classification' | 'classifier'> = {
  classification: { category: 'general', complexity: 'medium', complexityScore: 0.5, confidence: 0 },
  classifier: 'none',
};

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The stream a door reads: the first part, then the rest from the backend (or from the buffered
 * answer), ending with exactly one finish or error part. When it ends, or the door stops reading
 * early, `onEnd` hears how it ended, the attempt's timers are released, an unfinished generation is
 * aborted and the backend's stream is closed.
 *
 * A hand-written iterator rather than an async generator: a generator layer costs a few promises
 * and a resumption per part, on every part of every answer.
 */
class Relay implements AsyncIterableIterator<ChatStreamPart> {
  private first: ChatStreamPart | undefined;
  private index = 0;
  /** The finish part, held back while the signature goes out before it. */
  private held: ChatStreamPart | undefined;
  /** A terminal part (finish or error) was handed out or is held. */
  private ended = false;
  private closed = false;
  /** What the observers hear (undefined: the consumer left before the end). */
  private end: ChatStreamPart | undefined;

  constructor(
    private readonly started: Started,
    private readonly entry: RegistryEntry,
    private readonly signature: string | undefined,
    private readonly onEnd: (end: ChatStreamPart | undefined) => void,
  ) {
    this.first = started.first;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ChatStreamPart>> {
    if (this.held) {
      const part = this.held;
      this.held = undefined;
      return Promise.resolve({ done: false, value: part });
    }
    if (this.ended || this.closed) {
      this.close();
      return Promise.resolve(DONE);
    }
    if (this.first) {
      const part = this.first;
      this.first = undefined;
      return Promise.resolve(this.take(part));
    }
    const buffered = this.started.buffered;
    if (buffered) return Promise.resolve(this.take(buffered[this.index++]));
    return this.started.iterator.next().then(
      (next) => this.take(next.done ? undefined : next.value),
      (error: unknown) => this.take({ type: 'error', error: PluginError.from(error, { backend: this.entry.backend.name, model: this.entry.info.id, code: 'bad_response' }) }),
    );
  }

  return(): Promise<IteratorResult<ChatStreamPart>> {
    this.close();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<ChatStreamPart>> {
    this.close();
    return Promise.reject(error);
  }

  /** The result for one part from upstream (undefined: its stream ended). */
  private take(part: ChatStreamPart | undefined): IteratorResult<ChatStreamPart> {
    if (part === undefined) {
      part = {
        type: 'error',
        error: new PluginError({ code: 'bad_response', message: 'the stream ended without a finish', backend: this.entry.backend.name, model: this.entry.info.id }),
      };
    }
    if (part.type === 'finish' || part.type === 'error') {
      this.ended = true;
      this.end = part;
      if (part.type === 'finish' && this.signature && part.finishReason !== 'tool_calls') {
        this.held = part;
        return { done: false, value: { type: 'text-delta', delta: this.signature.replaceAll('{model}', this.entry.key) } };
      }
    }
    return { done: false, value: part };
  }

  /** Aborts the backend's generation (shutdown); the consumer sees the stream end with an error part. */
  stop(reason: unknown): void {
    if (!this.closed && !this.ended) this.started.controller.abort(reason);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    const { started } = this;
    this.onEnd(this.end);
    started.release();
    // The consumer stopped early (client gone): stop the upstream generation too.
    if (!this.ended) started.controller.abort();
    // Either way, close the backend's stream: a generator left suspended after its finish part
    // holds its HTTP body, so the keep-alive connection never returns to the pool.
    if (!started.buffered) void started.iterator.return?.().catch(() => {});
  }
}

function toBackendRequest(request: RouteRequest, modelId: string): ChatRequest {
  return {
    model: modelId,
    messages: request.messages,
    tools: request.tools,
    toolChoice: request.toolChoice,
    parallelToolCalls: request.parallelToolCalls,
    responseFormat: request.responseFormat,
    temperature: request.temperature,
    topP: request.topP,
    maxTokens: request.maxTokens,
    seed: request.seed,
    stop: request.stop,
    presencePenalty: request.presencePenalty,
    frequencyPenalty: request.frequencyPenalty,
    providerOptions: request.providerOptions,
  };
}

// randomUUID draws from a pooled entropy buffer; randomBytes made a syscall per request.
function newResponseId(): string {
  return `chatcmpl-${randomUUID().replaceAll('-', '')}`;
}

/** The model a plan selected (bypass or best ranked): the routing cache drops plans by it. */
export function planSelectedModel(plan: Plan): string | undefined {
  return plan.bypass?.key ?? plan.scoring?.ranked[0]?.key;
}

/** Seconds a client is told to wait when every model was busy and no backend said how long. */
const OVERLOADED_RETRY_AFTER_S = 5;
/** The longest wait passed on from a backend's Retry-After. */
const MAX_RETRY_AFTER_S = 300;

/**
 * A refusal because the prompt does not fit the model's context, as llama.cpp
 * (exceed_context_size_error), OpenAI and vLLM (context_length_exceeded, "maximum context length")
 * and most OpenAI-compatible servers word it.
 */
const CONTEXT_OVERFLOW = /context[_ ](length|size|window)|exceed\w*[_ ](the )?(available )?context|maximum context|too many tokens|prompt is too long/i;

function isContextOverflow(failure: PluginError): boolean {
  return failure.code === 'bad_request' && CONTEXT_OVERFLOW.test(failure.message);
}

/** A backend message as a client may read it: backend addresses replaced (they are the operator's business). */
function withoutUrls(message: string): string {
  return message.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, '<backend>');
}

function noCandidateMessage(plan: Plan): string {
  const excluded = plan.scoring?.excluded ?? [];
  if (excluded.length === 0) return 'no model is available: no backend has listed a chat model yet (check GET /health)';
  const reasons = [...new Set(excluded.map((x) => x.reason))].slice(0, 5).join('; ');
  return `no available model can answer this request (${reasons})`;
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 100) / 100;
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

export type { Attempt };
