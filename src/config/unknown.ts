/**
 * Warnings for ROUTER_* variables the router does not read: a misspelt name would otherwise be
 * ignored without a word. Warnings, not errors, so a setting meant for a newer version does not stop
 * an older router.
 */
import { apiKeyVariable, optionsVariable } from './backends.js';
import { VARIABLES } from './variables.js';

/**
 * ROUTER_* names read outside the config module: the CLI's client key (`smarterrouter --api-key`)
 * and the test suite's log switch. They may share an environment with the router.
 */
const OTHER_KNOWN = ['ROUTER_API_KEY', 'ROUTER_TEST_LOGS'];

const BACKEND_KEY = /^ROUTER_BACKEND_(.+)_(API_KEY|OPTIONS)$/;

/**
 * One message per unknown variable of `env` whose name starts with ROUTER_ (any case), naming the
 * closest known name. `backendNames` are the instance names of ROUTER_BACKENDS (their
 * ROUTER_BACKEND_<NAME>_API_KEY variables are known).
 */
export function unknownVariableWarnings(env: Record<string, string | undefined>, backendNames: readonly string[]): string[] {
  const fixed = Object.values(VARIABLES).map((v) => v.env);
  const backendKeys = backendNames.flatMap((name) => [apiKeyVariable(name), optionsVariable(name)]);
  const known = new Set([...fixed, ...backendKeys, ...OTHER_KNOWN]);
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (env[name] === undefined || !name.toUpperCase().startsWith('ROUTER_') || known.has(name)) continue;
    if (BACKEND_KEY.test(name.toUpperCase())) {
      const why =
        backendKeys.length === 0
          ? 'ROUTER_BACKENDS is unset, so no per-backend API key or options are read'
          : `no backend in ROUTER_BACKENDS is named like that (${backendKeys.join(', ')} would be read)`;
      const hint = closest(name, backendKeys);
      warnings.push(`${name} is not used: ${why}${hint ? `; did you mean ${hint}?` : ''}`);
      continue;
    }
    const hint = closest(name, [...fixed, ...backendKeys]);
    warnings.push(`${name} is not a known variable and is ignored${hint ? `; did you mean ${hint}?` : ''}`);
  }
  return warnings;
}

/** The candidate with the smallest edit distance to `name` (case-insensitive), if any. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const upper = name.toUpperCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(upper, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
