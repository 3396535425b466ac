/**
 * The one configuration module: reads ROUTER_* from the environment and a .env file (the environment
 * wins), validates every value and returns a frozen, typed Config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, type VariableSpec } from './spec.js';
import { VARIABLES, type Variables } from './variables.js';
import { backendSpecsFrom, type BackendSpec } from './backends.js';

export { ConfigError } from './spec.js';
export { VARIABLES } from './variables.js';
export type { BackendSpec } from './backends.js';

type ValueOf<S> = S extends VariableSpec<infer T> ? T : never;

export type Config = { readonly [K in keyof Variables]: ValueOf<Variables[K]> } & {
  /** The backends to start: ROUTER_BACKENDS, or the single-backend variables when it is unset. */
  readonly backendSpecs: readonly BackendSpec[];
};

export interface LoadConfigOptions {
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** .env file to read under the environment; defaults to ./.env; false = none. */
  envFile?: string | false;
}

/** Names of every fixed variable, in table order. */
export function variableNames(): string[] {
  return Object.values(VARIABLES).map((v) => v.env);
}

/** Reads and validates. Throws ConfigError naming the first bad variable. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = mergedEnv(options);
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(VARIABLES) as [string, VariableSpec<unknown>][]) {
    const raw = env[spec.env]?.trim();
    out[key] = raw === undefined || raw === '' ? spec.fallback : spec.parse(raw);
  }
  const config = out as Omit<Config, 'backendSpecs'>;
  const weights = config.weightCapability + config.weightBenchmark + config.weightSpeed + config.weightRecency;
  if (weights <= 0) {
    throw new ConfigError('ROUTER_WEIGHT_CAPABILITY', 'the four ROUTER_WEIGHT_* variables must not all be 0');
  }
  return Object.freeze({ ...config, backendSpecs: Object.freeze(backendSpecsFrom(config, env)) });
}

/** Builds a Config from defaults plus overrides, for tests and embedding (no .env, no process.env). */
export function configFrom(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({ env: overrides, envFile: false });
}

function mergedEnv(options: LoadConfigOptions): Record<string, string | undefined> {
  const env = options.env ?? process.env;
  const file = options.envFile === undefined ? '.env' : options.envFile;
  if (file === false || !existsSync(file)) return env;
  let fromFile: Record<string, string>;
  try {
    fromFile = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ConfigError(file, `cannot read .env file: ${(error as Error).message}`);
  }
  return { ...fromFile, ...dropUndefined(env) };
}

function dropUndefined(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
