/**
 * Starts a whole router from a Config: store, plugins and backends, background loops, the server on
 * one port. Used by `npm start` (src/main.ts) and by tests that need a real router on a real port.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { BackendHealthMonitor } from '../core/backend-health.js';
import { openDatabase, type Database } from '../db/index.js';
import { createBackends, loadPlugins, type PluginRegistry } from '../plugins/loader.js';
import type { BackendPlugin } from '../plugin-api/index.js';
import { buildApp } from './app.js';
import { securityOptionsFrom } from './security/index.js';
import { VramMonitor } from '../core/vram/index.js';
import { vramReport } from './vram-report.js';
import { createHttpFetch } from '../plugins/backends/node-fetch.js';
import { connectRoutes } from './connect/routes.js';
import { createLogger, type Logger } from './logger.js';
import { adminRoutes } from './rest/admin.js';
import { adminModelRoutes } from './rest/admin-models.js';
import { adminCacheRoutes } from './rest/admin-cache.js';
import { createAdminCacheService } from './connect/admin-cache.js';
import { createAdminModelsService } from './connect/admin-models.js';
import { healthRoutes } from './rest/health.js';
import { dashboardRoutes } from './dashboard/plugin.js';
import { openaiRoutes } from './rest/openai/plugin.js';
import { createAdminService } from './connect/admin-service.js';
import { createDecisionAdmin } from './connect/admin-decisions.js';
import { scoringWeights } from './connect/proto-mapping.js';
import { adminDecisionRoutes } from './rest/admin-decisions.js';
import { adminKnowledgeRoutes } from './rest/admin-knowledge.js';
import { createKnowledgeAdmin } from './connect/admin-knowledge.js';
import { createProfilerService } from './connect/profiler-service.js';
import { createRouterService } from './connect/router-service.js';
import { buildCore, type Core } from './wiring.js';
import { InFlightCalls } from './in-flight.js';
import { openSharedState, withSharedRateLimit } from './replicas/shared-state.js';
import { safeEvents } from '../core/events.js';
import { metricsRoutes, requestObserver, RouterMetrics, type StatsDeps } from './metrics/index.js';
import { createAdminStats } from './connect/admin-stats.js';
import { VERSION } from './version.js';
import { withRouterCreated } from './plugins-info.js';

export interface RunningRouter {
  app: FastifyInstance;
  /** http://host:port actually bound (port 0 resolved). */
  url: string;
  config: Config;
  logger: Logger;
  db: Database;
  backends: BackendPlugin[];
  plugins: PluginRegistry;
  core: Core;
  /** Drains in-flight requests (up to ROUTER_SHUTDOWN_TIMEOUT), then closes everything. Idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Working directory for relative paths (database, plugins). */
  cwd?: string;
}

export class StartupError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StartupError';
  }
}

export async function startRouter(config: Config, options: StartOptions = {}): Promise<RunningRouter> {
  const logger = options.logger ?? createLogger(config);
  const cwd = options.cwd ?? process.cwd();
  const shutdown = new AbortController();

  const db = await openDatabase(config.databaseUrl, cwd, logger);
  const cleanups: Array<() => Promise<void> | void> = [() => db.close()];
  try {
    // Redis for what replicas share (ROUTER_REDIS_URL); without it everything stays in process.
    const shared = await openSharedState(config, logger).catch((error: unknown) => {
      throw new StartupError((error as Error).message, error);
    });
    cleanups.push(() => shared.close());
    const plugins = await loadPlugins({ specs: config.plugins, logger, cwd });
    // Backends talk HTTP through a keep-alive node:http fetch: several times cheaper per call than
    // undici's fetch (see docs/performance.md).
    const backendFetch = createHttpFetch();
    cleanups.push(() => backendFetch.destroy());
    const context = { logger, fetch: backendFetch as typeof fetch, signal: shutdown.signal };
    const backends = await createBackends(plugins, config.backendSpecs, context, {
      // Router-wide settings for the built-in kinds that read them; a third-party plugin gets its
      // own options (ROUTER_BACKEND_<NAME>_OPTIONS), not the router's internals.
      optionsFor: (spec) =>
        spec.kind === 'ollama' ? { keepAlive: config.modelKeepAlive } : spec.kind === 'gguf' ? { threads: config.ggufThreads || undefined } : {},
    });
    cleanups.push(() => Promise.allSettled(backends.map((b) => b.dispose?.())).then(() => {}));

    // One metric registry per router; the core reports into it through RouterEvents.
    const metrics = new RouterMetrics();
    const events = safeEvents(metrics, (method, err) => logger.error({ err, method }, 'metrics observer failed'));
    const core = await buildCore({ config, db, logger, plugins, backends, context, events, shared });
    cleanups.push(() => core.close());

    // nvidia-smi sampling; disables itself with one warning where there is no NVIDIA GPU.
    const vram = config.vramMonitorEnabled
      ? new VramMonitor({ intervalMs: config.vramMonitorInterval * 1000, logger: logger.child({ component: 'vram' }) })
      : undefined;
    void vram?.start();
    cleanups.push(() => vram?.stop());
    // The VRAM manager reads the monitor's figures; each sample may unload idle models above the
    // threshold. start() loads the pinned model and keeps it warm.
    core.vram.attachGpu(vram);
    core.knowledge.attachGpu(vram);
    const stopRelief = vram?.onSample(() => void core.vram.relieve().catch((err: unknown) => logger.warn({ err }, 'VRAM threshold check failed')));
    core.vram.start();
    cleanups.push(() => {
      stopRelief?.();
      core.vram.stop();
    });

    // A backend that fails its health checks (two in a row) is skipped by routing and listed
    // unavailable until a check passes; a model listing that succeeds meanwhile asks for that check
    // at once. The circuit breakers cover the requests in between.
    const health = new BackendHealthMonitor(backends, {
      intervalMs: config.healthCheckInterval * 1000,
      onVerdict: (h, down, changed) => {
        core.registry.setBackendDown(h.name, down);
        if (!changed) return;
        if (down) logger.warn({ backend: h.name, reason: h.message }, 'backend failed its health checks: its models are skipped until one passes');
        else logger.info({ backend: h.name }, 'backend healthy again: its models are routed');
      },
    });
    const stopListened = core.registry.onListed((name) => {
      if (health.isDown(name)) void health.checkBackend(name);
    });
    cleanups.push(stopListened);
    void health.start();
    cleanups.push(() => health.stop());

    const cacheEntries = () => Object.fromEntries((core.cache?.stats().caches ?? []).map((c) => [c.kind, c.entries]));
    metrics.setSources({ vram: () => vram?.snapshot(), circuits: () => core.circuits.snapshot(), cacheEntries });
    const stats: StatsDeps = { metrics, health: () => health.snapshot(), circuits: core.circuits, cacheEntries };

    // The admin listing also names the plugins the router created itself (the embedding classifier).
    const listedPlugins = withRouterCreated(plugins, core.createdPlugins);
    const startedAt = Date.now();
    // The handlers' calls into the core, so shutdown can abort them and wait for them (closeApp).
    const inFlight = new InFlightCalls();
    const app = await buildApp({
      logger,
      shutdownTimeoutMs: config.shutdownTimeout * 1000,
      security: withSharedRateLimit(securityOptionsFrom(config), shared),
      observer: requestObserver(metrics),
      restPlugins: [
        healthRoutes({ db, health, chatModels: () => core.registry.availableChatModels(), startedAt, version: VERSION }),
        adminRoutes({ router: core.router, plugins: listedPlugins, backendSpecs: config.backendSpecs, judges: core.judges, limits: config, vram: () => vramReport(vram, core.vram, config) }),
        openaiRoutes({ router: core.router, config, calls: inFlight }),
        adminDecisionRoutes({ store: core.store, weights: core.router.weights }),
        adminModelRoutes(core.vram),
        adminKnowledgeRoutes(core.knowledge),
        metricsRoutes(stats),
        adminCacheRoutes({ cache: core.cache, resolveModel: (name) => core.registry.resolve(name)?.key ?? name }),
        dashboardRoutes(),
      ],
      connectRoutes: connectRoutes({
        router: createRouterService(inFlight.wrap(core.router), config),
        // AdminService is assembled from one partial implementation per capability.
        admin: {
          ...createAdminService({ plugins: listedPlugins, backendSpecs: config.backendSpecs, judges: core.judges, vram: () => vramReport(vram, core.vram, config), vramMonitor: vram }),
          ...createDecisionAdmin({ store: core.store, weights: scoringWeights(config) }),
          ...createAdminModelsService(core.vram),
          ...createAdminCacheService({ cache: core.cache, resolveModel: (name) => core.registry.resolve(name)?.key ?? name }),
          ...createKnowledgeAdmin(core.knowledge),
          ...createAdminStats(stats),
        },
        profiler: createProfilerService(core.knowledge),
      }),
    });
    // Reversed below: the app drains first, then plugins' background work stops, then the rest.
    cleanups.push(() => {
      // Past the drain: streams still answering are cut now and recorded as aborted, whatever cuts them.
      core.router.beginShutdown();
      shutdown.abort();
    });
    cleanups.push(() => closeApp(app, config.shutdownTimeout * 1000, inFlight));

    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new StartupError(`port ${config.port} on ${config.host} is already in use: stop the other process or set ROUTER_PORT`, error);
      }
      if (code === 'EACCES') throw new StartupError(`no permission to listen on ${config.host}:${config.port}: choose ROUTER_PORT above 1024`, error);
      if (code === 'EADDRNOTAVAIL') throw new StartupError(`ROUTER_HOST ${config.host} is not an address of this machine`, error);
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
        throw new StartupError(`ROUTER_HOST ${config.host} does not resolve to an address (${code}): set it to an IP address or a resolvable host name`, error);
      }
      // Any other listen failure: still one line that names the setting and its value.
      const reason = (error as Error).message || String(error);
      throw new StartupError(`cannot listen on ROUTER_HOST ${config.host} ROUTER_PORT ${config.port}: ${reason}`, error);
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

    let closing: Promise<void> | undefined;
    return {
      app,
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      config,
      logger,
      db,
      backends,
      plugins,
      core,
      close: () => (closing ??= runCleanups(cleanups).finally(() => shutdown.abort())),
    };
  } catch (error) {
    shutdown.abort();
    await runCleanups(cleanups);
    throw error;
  }
}

/** Closes in reverse order of creation; one failing cleanup does not stop the others. */
async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup();
    } catch {
      // Keep closing the rest: a half-closed router is worse than a noisy one.
    }
  }
}

/** How long closing waits for the handlers' aborted core calls to settle before closing the core anyway. */
const SETTLE_MS = 5_000;

/**
 * fastify waits for in-flight requests on close. At the drain deadline the handlers' core calls are
 * aborted first — the core records them as `aborted` decisions and, as for a client that went away,
 * counts nothing against the backends — then the open sockets are cut; closing returns once those
 * calls have settled (bounded), so the core and the database close after their decisions are queued.
 */
async function closeApp(app: FastifyInstance, drainMs: number, inFlight: InFlightCalls): Promise<void> {
  const timer = setTimeout(() => {
    inFlight.abort();
    const server = app.server as unknown as { closeAllConnections?: () => void };
    server.closeAllConnections?.();
  }, drainMs);
  timer.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  await inFlight.settled(SETTLE_MS);
}
