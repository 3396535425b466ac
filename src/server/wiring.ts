/**
 * Builds the routing core from the configuration: model registry, classifiers, decision store and
 * the Router, plus the discovery loop that keeps the registry fresh. Kept apart from start.ts so the
 * composition reads top to bottom.
 */
import { aliasId, type Config } from '../config/index.js';
import { WorkerSemanticIndex } from '../workers/worker-index.js';
import { ModelRegistry } from '../core/registry.js';
import { CircuitBreakers } from '../core/circuit-breaker.js';
import type { RouterEvents } from '../core/events.js';
import { planSelectedModel, Router, type Plan, type RouterSettings } from '../core/router.js';
import { createChatCache, Embedder, type ChatCache } from '../core/cache/index.js';
import type { Database } from '../db/index.js';
import { SqlDecisionStore } from '../db/decision-store.js';
import { dialectOf } from '../db/dialect.js';
import type { SharedStore } from '../core/cache/store.js';
import type { SharedState } from './replicas/shared-state.js';
import { ReplicaSync } from './replicas/sync.js';
import { PluginLoadError, type BackendPlugin, type ClassifierPlugin, type JudgePlugin, type PluginContext, type PluginDefinition } from '../plugin-api/index.js';
import type { LoadedPluginInfo, PluginRegistry } from '../plugins/loader.js';
import { embeddingClassifierDefinition } from '../plugins/classifiers/embedding/index.js';
import type { Logger } from './logger.js';
import type { VramManager } from '../core/vram-manager.js';
import { createVramManager } from './vram-wiring.js';
import { Discovery } from '../core/discovery.js';
import { BackendActivity } from '../core/backend-activity.js';
import type { JudgesInUse } from './plugins-info.js';
import { Profiler, ProfilingCoordinator } from '../core/profiling/index.js';
import { chooseJudge } from '../core/profiling/judge-choice.js';
import { KnowledgeBase } from '../core/profiling/knowledge.js';
import type { GpuReader } from '../core/vram-manager.js';
import { BYTES_PER_GB } from '../core/vram/index.js';
import { BenchmarkStore, syncBenchmarks, type StoredSource, type SyncResult } from '../db/benchmark-store.js';
import { workerSourceParser } from '../workers/benchmark-parser.js';
import { ModelStore, withModelFacts } from '../db/model-store.js';
import { ProfileStore } from '../db/profile-store.js';
import { createHeuristicJudge, createLlmJudge, guardJudge, withFallback } from '../plugins/judges/index.js';
import { checkEmbeddingClassifierConfig, embeddingClassifierFromConfig } from '../plugins/classifiers/embedding/from-config.js';

export interface Core {
  router: Router;
  registry: ModelRegistry;
  store: SqlDecisionStore;
  classifiers: ClassifierPlugin[];
  /** VRAM budget, LRU unloading before dispatch, the pinned model (start() it once GPU data is attached). */
  vram: VramManager;
  /** Response/routing/semantic caches; undefined when ROUTER_CACHE_ENABLED=false. */
  cache?: ChatCache<Plan>;
  /** Per-backend and per-model circuit breakers (ROUTER_CIRCUIT_*). */
  circuits: CircuitBreakers;
  /** Discovery, profiling and benchmarks (ProfilerService, ListProfiles/ListBenchmarks, /admin/profiles...). */
  knowledge: KnowledgeServices;
  /** Plugins the router created itself beside the loaded ones (the embedding classifier), for the admin listing. */
  createdPlugins: LoadedPluginInfo[];
  /** Which judges judge profiling answers (for the admin plugin listing). */
  judges: JudgesInUse;
  /** Stops the discovery loop, flushes queued decisions. */
  close(): Promise<void>;
}

/** What the profiling and benchmark APIs need. */
export interface KnowledgeServices {
  coordinator: ProfilingCoordinator;
  knowledge: KnowledgeBase;
  registry: ModelRegistry;
  discovery: Discovery;
  /** Stores the bundled figures, then `sources` (default ROUTER_BENCHMARK_SOURCES), and refreshes routing. Never throws. */
  syncBenchmarks(sources?: readonly string[]): Promise<SyncResult[]>;
  /** Lets profiling measure VRAM by nvidia-smi difference where a backend cannot report it. */
  attachGpu(gpu: GpuReader | undefined): void;
  /** Every stored benchmark source with its counts. */
  benchmarkSources(): Promise<StoredSource[]>;
  /** Deletes one imported source's rows and refreshes routing; throws SourceRemovalError. */
  deleteBenchmarkSource(source: string): Promise<number>;
}

export function routerSettings(config: Config): RouterSettings {
  return {
    externalModelName: config.externalModelName,
    aliases: config.modelAliases.map((a) => ({ id: aliasId(config.externalModelName, a.name), qualityPreference: a.qualityPreference })),
    qualityPreference: config.qualityPreference,
    weights: {
      capability: config.weightCapability,
      benchmark: config.weightBenchmark,
      speed: config.weightSpeed,
      recency: config.weightRecency,
    },
    cascadingEnabled: config.cascadingEnabled,
    cascadingMaxAttempts: config.cascadingMaxAttempts,
    feedbackEnabled: config.feedbackEnabled,
    firstTokenTimeoutMs: config.firstTokenTimeout * 1000,
    generationTimeoutMs: config.generationTimeout * 1000,
    signature: config.signatureEnabled ? config.signatureFormat.replaceAll('\\n', '\n') : undefined,
  };
}

/** The names the router answers itself: ROUTER_EXTERNAL_MODEL_NAME and its aliases. */
function routerModelNames(config: Config): string[] {
  const settings = routerSettings(config);
  return [settings.externalModelName, ...settings.aliases.map((a) => a.id)];
}

/** Embeddings for every door and the chat caches (ROUTER_CACHE_*, ROUTER_EMBED_MODEL). */
function buildCaches(config: Config, registry: ModelRegistry, logger: Logger, events?: RouterEvents, shared?: SharedStore): { embedder: Embedder; cache?: ChatCache<Plan> } {
  const settings = routerSettings(config);
  const embedder = new Embedder(registry, {
    embedModel: config.embedModel,
    routerNames: routerModelNames(config),
    timeoutMs: config.generationTimeout * 1000,
  });
  if (!config.cacheEnabled) return { embedder };
  const embedModel = config.embedModel;
  const cache = createChatCache<Plan>(
    {
      routingMaxSize: config.cacheMaxSize,
      responseMaxSize: config.cacheResponseMaxSize,
      ttlSeconds: config.cacheTtlSeconds,
      nondeterministic: config.cacheNondeterministic,
      similarityThreshold: config.cacheSimilarityThreshold,
      // The semantic cache is off without ROUTER_EMBED_MODEL, or when switched off on its own (the
      // embedding model still serves the embedding classifier and /v1/embeddings).
      embed: embedModel && config.cacheSemanticEnabled
        ? (text, signal) => embedder.embedText(embedModel, text, signal)
        : undefined,
      // Vectors in shared memory scanned by Piscina workers once the cache is large enough for a scan
      // to hold up the event loop; smaller ones are scanned inline (cheaper than a thread hop).
      index: () => new WorkerSemanticIndex({ threads: config.workerThreads || undefined }),
      embedTimeoutMs: config.firstTokenTimeout * 1000,
      logger: logger.child({ component: 'cache' }),
      onLookup: events ? (kind, hit) => events.cacheLookup(kind, hit) : undefined,
      // Answers shared by every replica (ROUTER_REDIS_URL); routing plans and vector indexes stay per replica.
      shared,
    },
    planSelectedModel,
  );
  return { embedder, cache };
}

/**
 * Creates a classifier or judge plugin instance; a create() that throws, or an object without the
 * method the kind needs, stops start-up with a PluginLoadError naming the plugin.
 */
async function createPluginInstance<K extends 'classifier' | 'judge'>(
  definition: PluginDefinition<K>,
  method: K extends 'classifier' ? 'classify' : 'judge',
  context: PluginContext,
  logger: Logger,
  /** ROUTER_PLUGIN_OPTIONS, by plugin name; `name` stays the plugin's own. */
  optionsByPlugin: Readonly<Record<string, Record<string, unknown>>>,
): Promise<K extends 'classifier' ? ClassifierPlugin : JudgePlugin> {
  const name = definition.manifest.name;
  const kind = definition.manifest.kind;
  let instance: unknown;
  try {
    instance = await definition.create({ ...optionsByPlugin[name], name }, { ...context, logger: logger.child({ plugin: name }) });
  } catch (error) {
    throw new PluginLoadError(name, `create() failed for the ${kind}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (!instance || typeof instance !== 'object' || typeof (instance as Record<string, unknown>)[method] !== 'function') {
    throw new PluginLoadError(name, `create() returned ${instance === null || typeof instance !== 'object' ? String(instance) : 'an object'} without ${method}(): not a ${kind}`);
  }
  return instance as K extends 'classifier' ? ClassifierPlugin : JudgePlugin;
}

/** How long start-up waits for the first model listing before serving (the rest finishes in the background). */
const FIRST_DISCOVERY_WAIT_MS = 3000;
/** Longest a profiling prompt waits for its backend to have no client request (then it runs anyway). */
const PROFILE_QUIET_WAIT_MS = 30_000;
/** How long core.close() waits for streams cut by the shutdown to end and record their decisions. */
const STREAMS_END_MS = 1000;

export async function buildCore(options: {
  config: Config;
  db: Database;
  logger: Logger;
  plugins: PluginRegistry;
  backends: BackendPlugin[];
  context: PluginContext;
  /** Observers of the core (the Prometheus metrics). */
  events?: RouterEvents;
  /** What replicas share through Redis (ROUTER_REDIS_URL); absent = everything in process. */
  shared?: SharedState;
}): Promise<Core> {
  const { config, db, logger, plugins, backends, context } = options;
  checkEmbeddingClassifierConfig(config);
  const classifiers: ClassifierPlugin[] = [];
  for (const definition of plugins.classifiers()) {
    classifiers.push(await createPluginInstance(definition, 'classify', context, logger, config.pluginOptions));
  }
  // Third-party judges (ROUTER_PLUGINS) judge profiling answers: the first one loaded, the heuristic
  // standing in whenever it fails or takes longer than a profiling prompt may.
  const builtinJudges = new Set(plugins.list().filter((p) => p.kind === 'judge' && p.source === 'builtin').map((p) => p.name));
  const judgeDefinitions = plugins.judges().filter((d) => !builtinJudges.has(d.manifest.name));
  let judgePlugin: JudgePlugin | undefined;
  if (judgeDefinitions.length > 0) {
    const [first, ...others] = judgeDefinitions;
    judgePlugin = guardJudge(await createPluginInstance(first, 'judge', context, logger, config.pluginOptions), config.profileTimeout * 1000);
    logger.info({ judge: first.manifest.name }, 'judge plugin loaded: it judges profiling answers');
    if (others.length) logger.warn({ judge: first.manifest.name, unused: others.map((d) => d.manifest.name) }, 'several judge plugins are loaded; only the first judges');
  }
  const optionTargets = new Set([...plugins.classifiers(), ...plugins.judges()].map((d) => d.manifest.name));
  for (const name of Object.keys(config.pluginOptions)) {
    if (!optionTargets.has(name)) logger.warn({ plugin: name, loaded: [...optionTargets] }, 'ROUTER_PLUGIN_OPTIONS names no loaded classifier or judge plugin: its options are unused');
  }
  const registry = new ModelRegistry(backends, { prefix: config.modelPrefix, logger });
  // What routing knows of each model: profiles measured here (by router-wide key) and public
  // benchmark scores (bundled, then imported; matched by the backend's own model id), in memory.
  const profileStore = new ProfileStore(db);
  const modelStore = new ModelStore(db);
  const benchmarkStore = new BenchmarkStore(db);
  const knowledge = new KnowledgeBase(
    {
      loadProfiles: async () => {
        const [profiles, models] = await Promise.all([profileStore.allProfiles(), modelStore.all()]);
        return new Map([...profiles].map(([key, p]) => [key, withModelFacts(p, models.get(key))]));
      },
      loadProfile: async (key) => {
        const [profile, model] = await Promise.all([profileStore.profileFor(key), modelStore.get(key)]);
        return profile && withModelFacts(profile, model);
      },
      loadBenchmarkRows: () => benchmarkStore.all(),
    },
    logger,
  );
  knowledge.onChange(() => registry.invalidate());
  registry.setKnowledge((key, entry) => knowledge.knowledgeFor(key, entry.info));
  await knowledge.load();
  const store = new SqlDecisionStore(db, { onError: (err) => logger.error({ err }, 'cannot write routing decisions; will retry') });
  const vram = await createVramManager(config, registry, db, logger);
  // The score prefers models that are loaded or would fit the VRAM budget.
  registry.setVramState((entry) => vram.vramState(entry) ?? (entry.loaded ? { loaded: true, fits: true } : undefined));
  const { embedder, cache } = buildCaches(config, registry, logger, options.events, options.shared?.cacheStore);
  // ROUTER_CLASSIFIER_EMBEDDINGS: asked just before the built-in (always last), whose opinion it blends in.
  const embeddingClassifier = await embeddingClassifierFromConfig(config, { embedder, db, context: { ...context, logger: logger.child({ plugin: 'embedding-classifier' }) } });
  if (embeddingClassifier) classifiers.splice(Math.max(0, classifiers.length - 1), 0, embeddingClassifier);
  // Replicas: semantic entries reach every replica's own vector index; their answers are read from
  // the shared response cache.
  if (cache?.semantic && config.embedModel && config.cacheSemanticEnabled && options.shared?.shareSemantic) {
    await options.shared.shareSemantic(cache.semantic, {
      embedModel: config.embedModel,
      answer: (id) => cache.responses.lookup(id),
      maxEntries: config.cacheResponseMaxSize,
      ttlMs: config.cacheTtlSeconds * 1000,
    });
  }
  const circuits = new CircuitBreakers(
    { failureThreshold: config.circuitFailureThreshold, cooldownMs: config.circuitCooldown * 1000 },
    {
      onChange: (change) => {
        options.events?.circuitChanged(change);
        options.shared?.circuitChanged(change);
        logger[change.to === 'open' ? 'warn' : 'info'](change, `circuit of ${change.scope} ${change.name} is now ${change.to.replace('_', '-')}`);
      },
    },
  );
  // Client requests in flight per backend: profiling waits for quiet before each prompt.
  const activity = new BackendActivity();
  const router = new Router({
    settings: routerSettings(config),
    registry,
    classifiers,
    store,
    logger,
    beforeDispatch: (entry, ctx) => vram.beforeDispatch(entry, ctx),
    cache,
    embedder,
    events: options.events,
    circuits,
    activity,
    // Plugin classifiers get 2 s; the embedding classifier keeps its own configured wait, plus a margin.
    classifierTimeoutMs: Math.max(2000, (config.classifierEmbeddings ? config.classifierEmbeddingsTimeoutMs : 0) + 250),
  });
  options.shared?.attachCircuits(circuits);
  await router.loadFeedback();
  // Replicas on one PostgreSQL database: feedback and profiles stored by the others reach this
  // replica's scorer within ROUTER_FEEDBACK_SYNC_INTERVAL (a SQLite file has one router).
  const replicaSync =
    dialectOf(db) === 'postgresql' && config.feedbackSyncInterval > 0
      ? new ReplicaSync({
          pullFeedback: () => store.pullFeedback(),
          addFeedback: (f) => router.feedbackBook.add(f.responseId, f.modelKey, f.category, f.score),
          lastProfiledAt: () => profileStore.lastFinishedAt(),
          reloadProfiles: () => knowledge.reloadProfiles(),
          invalidate: () => registry.invalidate(),
          intervalMs: config.feedbackSyncInterval * 1000,
          logger,
        })
      : undefined;
  await replicaSync?.start();

  // Profiling runs in the background, one run at a time, and aborts on close.
  let gpu: GpuReader | undefined;
  const profilingLogger = logger.child({ component: 'profiler' });
  const judgeSettings = { enabled: config.judgeEnabled, model: config.judgeModel, baseUrl: config.judgeBaseUrl, apiKey: config.judgeApiKey, plugin: judgePlugin };
  const coordinator = new ProfilingCoordinator({
    profiler: new Profiler({
      store: profileStore,
      logger: profilingLogger,
      whenQuiet: (backend, signal) => activity.whenQuiet(backend, signal, PROFILE_QUIET_WAIT_MS),
      gpuUsedBytes: async () => {
        if (!gpu) return undefined;
        await gpu.sampleNow();
        const { totalGb, usedGb } = gpu.totals();
        return totalGb > 0 ? usedGb * BYTES_PER_GB : undefined;
      },
    }),
    promptsPerCategory: config.profilePromptsPerCategory,
    timeoutMs: config.profileTimeout * 1000,
    concurrency: config.profileConcurrency,
    vramBudgetBytes: () => vram.budgetBytes(),
    // Several replicas: one profiles a model while the others wait, then read its stored result.
    lock: options.shared?.profileLock
      ? async (entry, signal) => {
          const held = await options.shared!.profileLock!.acquire(`profile:${entry.key}`, signal);
          if (held.waited) await knowledge.refreshProfile(entry.key);
          return held.release;
        }
      : undefined,
    createJudge: (onFallback) =>
      chooseJudge(judgeSettings, registry, { heuristic: createHeuristicJudge, llm: (o) => createLlmJudge({ ...o, fetch: globalThis.fetch }), withFallback }, onFallback, profilingLogger),
    onModel: async ({ entry, run }) => {
      if (run?.vramBytes) await modelStore.setVram(entry.key, run.vramBytes).catch((err: unknown) => profilingLogger.warn({ err }, 'cannot store measured VRAM'));
      await knowledge.refreshProfile(entry.key);
    },
    lastRunAt: await profileStore.lastFinishedAt().catch(() => undefined),
    signal: context.signal,
    logger: profilingLogger,
  });

  // Benchmarks: bundled figures at once, configured sources in the background (a source that
  // cannot be read only logs a warning: the bundled figures serve).
  const syncing = new Set<Promise<unknown>>();
  // Parsing and name matching run in a worker thread: a leaderboard of thousands of models must not stall requests.
  const parseInWorker = workerSourceParser();
  const runSync = (sources: readonly string[] = config.benchmarkSources): Promise<SyncResult[]> => {
    const job = syncBenchmarks(benchmarkStore, sources, globalThis.fetch, logger, { signal: context.signal, parse: parseInWorker }).then(async (results) => {
      await knowledge.reloadBenchmarks();
      return results;
    });
    syncing.add(job);
    void job.finally(() => syncing.delete(job)).catch(() => undefined);
    return job;
  };
  void runSync().catch((err: unknown) => logger.warn({ err }, 'benchmark sync failed'));

  // Discovery: at start-up and every ROUTER_POLLING_INTERVAL; records models, queues profiling.
  const discovery = new Discovery({
    registry,
    models: modelStore,
    onProfileCandidates: config.profileOnStartup ? (entries) => coordinator.enqueue(entries) : undefined,
    routerNames: routerModelNames(config),
    logger,
  });
  const first = discovery.round(context.signal);
  await Promise.race([first, new Promise((resolve) => setTimeout(resolve, FIRST_DISCOVERY_WAIT_MS).unref())]);
  discovery.startPolling(config.pollingInterval * 1000, context.signal);

  const createdPlugins: LoadedPluginInfo[] = embeddingClassifier ? [routerCreatedInfo(embeddingClassifierDefinition)] : [];

  return {
    router,
    registry,
    store,
    classifiers,
    createdPlugins,
    judges: { plugin: judgePlugin ? judgeDefinitions[0]?.manifest.name : undefined, llm: config.judgeEnabled },
    vram,
    cache,
    circuits,
    knowledge: {
      coordinator,
      knowledge,
      registry,
      discovery,
      syncBenchmarks: runSync,
      benchmarkSources: () => benchmarkStore.sources(),
      deleteBenchmarkSource: async (source) => {
        const deleted = await benchmarkStore.deleteSource(source);
        await knowledge.reloadBenchmarks();
        return deleted;
      },
      attachGpu: (reader) => {
        gpu = reader;
      },
    },
    async close() {
      await discovery.stop();
      await coordinator.close();
      await Promise.allSettled([...syncing]);
      await cache?.close();
      vram.stop();
      await replicaSync?.stop();
      // Streams cut by the shutdown record their decisions before the store closes.
      router.beginShutdown();
      await router.streamsEnded(STREAMS_END_MS);
      await store.close();
      await Promise.allSettled([...classifiers.map((c) => c.dispose?.()), judgePlugin?.dispose?.()]);
    },
  };
}

/** How the admin API lists a built-in plugin the router created itself (see Core.createdPlugins). */
function routerCreatedInfo(definition: { manifest: { name: string; version: string; kind: LoadedPluginInfo['kind']; specificationVersion: string; description?: string } }): LoadedPluginInfo {
  const m = definition.manifest;
  return {
    name: m.name,
    version: m.version,
    kind: m.kind,
    specificationVersion: m.specificationVersion,
    source: 'builtin',
    location: 'builtin',
    ...(m.description ? { description: m.description } : {}),
  };
}
