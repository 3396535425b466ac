/**
 * The one configuration module: reads ROUTER_* from the environment and a .env file (the environment
 * wins), validates every value and returns a frozen, typed Config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, type VariableSpec } from './spec.js';
import { VARIABLES, type Variables } from './variables.js';
import { backendSpecsFrom, type BackendSpec } from './backends.js';
import { parseDotenv } from './dotenv.js';
import { unknownVariableWarnings } from './unknown.js';

export { ConfigError } from './spec.js';
export { VARIABLES } from './variables.js';
export { parseDotenv } from './dotenv.js';
export { unknownVariableWarnings } from './unknown.js';
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
  /**
   * Receives each start-up warning (e.g. an unknown ROUTER_* variable, with the closest known name).
   * Defaults to one "smarterrouter: warning: ..." line on stderr, like main's start-up errors, since
   * the logger is only built from the finished Config.
   */
  onWarning?: (message: string) => void;
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
  checkAliasCollision(config, env);
  const backendSpecs = backendSpecsFrom(config, env);
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`smarterrouter: warning: ${message}\n`));
  const backendNames = config.backends.length > 0 ? backendSpecs.map((b) => b.name) : [];
  for (const warning of unknownVariableWarnings(env, backendNames)) warn(warning);
  return Object.freeze({ ...config, backendSpecs: Object.freeze(backendSpecs) });
}

/** Router aliases derive from the external name: "smarterrouter/main" + fast -> "smarterrouter/fast". */
export function aliasId(externalModelName: string, alias: string): string {
  const slash = externalModelName.lastIndexOf('/');
  return slash >= 0 ? `${externalModelName.slice(0, slash + 1)}${alias}` : `${externalModelName}-${alias}`;
}

/**
 * An external name equal to one of the alias ids would be listed twice in /v1/models and hide the
 * alias, so it is refused.
 */
function checkAliasCollision(config: Omit<Config, 'backendSpecs'>, env: Record<string, string | undefined>): void {
  const name = config.externalModelName;
  const alias = config.modelAliases.find((a) => aliasId(name, a.name) === name);
  if (!alias) return;
  const aliasesSet = (env[VARIABLES.modelAliases.env]?.trim() ?? '') !== '';
  throw new ConfigError(
    VARIABLES.externalModelName.env,
    `"${name}" is also the id of the alias "${alias.name}" (quality preference ${alias.qualityPreference}) of ${VARIABLES.modelAliases.env}` +
      `${aliasesSet ? '' : ' (its default)'}; choose another ${VARIABLES.externalModelName.env} or rename or remove that alias in ${VARIABLES.modelAliases.env}`,
  );
}

/** Builds a Config from defaults plus overrides, for tests and embedding (no .env, no process.env, no warnings). */
export function configFrom(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({ env: overrides, envFile: false, onWarning: () => {} });
}

function mergedEnv(options: LoadConfigOptions): Record<string, string | undefined> {
  const env = options.env ?? process.env;
  const file = options.envFile === undefined ? '.env' : options.envFile;
  if (file === false || !existsSync(file)) return env;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, `cannot read .env file: ${(error as Error).message}`);
  }
  const fromFile = parseDotenv(text, file);
  return { ...fromFile, ...dropUndefined(env) };
}

function dropUndefined(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
