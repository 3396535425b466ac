/**
 * Builds the routing core from the configuration: model registry, classifiers, decision store and
 * the Router, plus the discovery loop that keeps the registry fresh. Kept apart from start.ts so the
 * composition reads top to bottom.
 */
import type { Config } from '../config/index.js';
import { BenchmarkKnowledge } from '../core/benchmarks/index.js';
import { ModelRegistry } from '../core/registry.js';
import { Router, type RouterSettings } from '../core/router.js';
import type { Database } from '../db/index.js';
import { SqlDecisionStore } from '../db/decision-store.js';
import type { BackendPlugin, ClassifierPlugin, PluginContext } from '../plugin-api/index.js';
import type { PluginRegistry } from '../plugins/loader.js';
import type { Logger } from './logger.js';

export interface Core {
  router: Router;
  registry: ModelRegistry;
  store: SqlDecisionStore;
  classifiers: ClassifierPlugin[];
  /** Stops the discovery loop, flushes queued decisions. */
  close(): Promise<void>;
}

/** Router aliases derive from the external name: "smarterrouter/main" + fast -> "smarterrouter/fast". */
export function aliasId(externalModelName: string, alias: string): string {
  const slash = externalModelName.lastIndexOf('/');
  return slash >= 0 ? `${externalModelName.slice(0, slash + 1)}${alias}` : `${externalModelName}-${alias}`;
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

/** How long start-up waits for the first model listing before serving (the rest finishes in the background). */
const FIRST_DISCOVERY_WAIT_MS = 3000;

export async function buildCore(options: {
  config: Config;
  db: Database;
  logger: Logger;
  plugins: PluginRegistry;
  backends: BackendPlugin[];
  context: PluginContext;
}): Promise<Core> {
  const { config, db, logger, plugins, backends, context } = options;
  const classifiers: ClassifierPlugin[] = [];
  for (const definition of plugins.classifiers()) {
    classifiers.push(await definition.create({ name: definition.manifest.name }, { ...context, logger: logger.child({ plugin: definition.manifest.name }) }));
  }
  const registry = new ModelRegistry(backends, { prefix: config.modelPrefix, logger });
  // Public benchmark scores (bundled, offline) feed the benchmark factor: matched by family, size
  // and variant of the backend's own model id.
  const benchmarks = BenchmarkKnowledge.bundled();
  registry.setKnowledge((_key, entry) => {
    const found = benchmarks.forModel(entry.info.id);
    return found ? { benchmark: { overall: found.overall, byCategory: found.byCategory } } : undefined;
  });
  const store = new SqlDecisionStore(db, { onError: (err) => logger.error({ err }, 'cannot write routing decisions; will retry') });
  const router = new Router({ settings: routerSettings(config), registry, classifiers, store, logger });
  await router.loadFeedback();

  const discover = async () => {
    const result = await registry.refresh(context.signal);
    if (result.added.length || result.removed.length) {
      logger.info({ added: result.added, removed: result.removed, failed: result.failedBackends }, 'models discovered');
    }
  };
  const first = discover().catch((err: unknown) => logger.warn({ err }, 'model discovery failed'));
  await Promise.race([first, new Promise((resolve) => setTimeout(resolve, FIRST_DISCOVERY_WAIT_MS).unref())]);
  let timer: NodeJS.Timeout | undefined;
  if (config.pollingInterval > 0) {
    timer = setInterval(() => void discover().catch((err: unknown) => logger.warn({ err }, 'model discovery failed')), config.pollingInterval * 1000);
    timer.unref();
  }

  return {
    router,
    registry,
    store,
    classifiers,
    async close() {
      clearInterval(timer);
      await store.close();
      await Promise.allSettled(classifiers.map((c) => c.dispose?.()));
    },
  };
}
