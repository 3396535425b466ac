/**
 * `npm start`: reads the configuration, starts the router and shuts it down gracefully on
 * SIGTERM/SIGINT. Any start-up problem ends the process with one clear line and a non-zero exit.
 */
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { DatabaseConfigError } from './db/index.js';
import { PluginLoadError } from './plugin-api/index.js';
import { createLogger } from './server/logger.js';
import { StartupError, startRouter } from './server/start.js';

async function main(): Promise<void> {
  let config: Config;
  // Warnings (an unknown ROUTER_* variable...) wait for the logger, which needs the finished config,
  // so they reach the same log stream as everything else instead of a bare stderr line.
  const warnings: string[] = [];
  try {
    config = loadConfig({ onWarning: (message) => warnings.push(message) });
  } catch (error) {
    if (error instanceof ConfigError) return fail(`configuration error: ${error.message}`);
    throw error;
  }
  const logger = createLogger(config);
  for (const message of warnings) logger.warn(message);
  let router;
  try {
    router = await startRouter(config, { logger });
  } catch (error) {
    if (error instanceof DatabaseConfigError || error instanceof StartupError || PluginLoadError.isInstance(error) || error instanceof ConfigError) {
      logger.fatal(error.message);
      return fail(`cannot start: ${error.message}`);
    }
    logger.fatal({ err: error }, 'cannot start');
    return fail(`cannot start: ${(error as Error).message}`);
  }
  logger.info(
    { url: router.url, backends: router.backends.map((b) => `${b.name}=${b.provider}`) },
    `SmarterRouter listening on ${config.host}:${new URL(router.url).port} — point OpenAI clients at ${router.url}/v1 with model ${config.externalModelName}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    router.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * Prints the one line and ends the process now. Waiting for the event loop to drain is not enough:
 * after a failed start the cleanups have run, but @connectrpc/connect-fastify's preClose hook arms a
 * ref'd timer of ROUTER_SHUTDOWN_TIMEOUT that nothing clears, so the process used to linger ~10 s
 * after its FATAL line. stderr and the logger write synchronously, so nothing is lost by exiting.
 */
function fail(line: string): never {
  process.stderr.write(`smarterrouter: ${line}\n`);
  process.exit(1);
}

await main();
