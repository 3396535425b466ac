/**
 * Small typed builders for configuration variables. Each spec knows its environment name, default,
 * one line of meaning and how to parse (and reject) a raw string.
 */
import { parseKeepAlive } from '../plugins/backends/ollama/options.js';

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export interface VariableSpec<T> {
  env: string;
  /** Default as it appears in ENV_DEFAULT ('' = unset). */
  defaultText: string;
  description: string;
  /** Config group for docs. */
  group: string;
  /** Parses a raw value (already trimmed, never empty). Throws ConfigError with what is allowed. */
  parse(raw: string): T;
  /** Value when the variable is unset or empty. */
  fallback: T;
}

type Common = { group: string };

export function str(env: string, fallback: string, description: string, o: Common): VariableSpec<string> {
  return { env, defaultText: fallback, description, group: o.group, fallback, parse: (raw) => raw };
}

/**
 * A model keep-alive as Ollama reads it: a Go duration ("5m", "1h30m") or a number of seconds
 * (-1 = forever). Checked here so a typo stops start-up with the variable's name, not later as a
 * plugin error about "keepAlive".
 */
export function keepAlive(env: string, fallback: string, description: string, o: Common): VariableSpec<string> {
  return {
    ...str(env, fallback, description, o),
    parse(raw) {
      // The Ollama plugin's own reading, so the two can never disagree.
      try {
        parseKeepAlive(raw, 'config');
      } catch {
        throw new ConfigError(env, `"${raw}" is not a Go duration ("5m", "1h30m"), a number of seconds, or -1 (forever)`);
      }
      return raw;
    },
  };
}

/** CORS origins: `*`, or origins as browsers send them (`https://chat.example.com`, no path). */
export function originList(env: string, fallback: string[], description: string, o: Common): VariableSpec<string[]> {
  return {
    ...list(env, fallback, description, o),
    parse: (raw) =>
      list(env, fallback, description, o)
        .parse(raw)
        .map((origin) => {
          if (origin === '*') return origin;
          let url: URL | undefined;
          try {
            url = new URL(origin);
          } catch {
            url = undefined;
          }
          // A browser's Origin header is exactly scheme://host[:port]: anything else never matches.
          if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '')) {
            throw new ConfigError(env, `"${origin}" is not an origin (expected * or scheme://host[:port], e.g. https://chat.example.com)`);
          }
          return url.origin;
        }),
  };
}

/**
 * ROUTER_DATABASE_URL: sqlite:// URLs and plain file paths select SQLite, postgres:// and
 * postgresql:// select PostgreSQL. The shape is checked here, with the other variables, so a wrong
 * scheme stops start-up with one "configuration error" line before anything is opened; src/db keeps
 * the same checks for callers that open a database directly. A password never reaches the message.
 */
export function databaseUrl(env: string, fallback: string, description: string, o: Common): VariableSpec<string> {
  const example = 'postgresql://user:password@host:5432/router';
  // Everything between "://" and the last "@" of the authority is hidden: a password may itself
  // contain "/" or "@", so no pattern over it can tell where it ends.
  const shown = (url: string) => {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
    if (!scheme) return url;
    const rest = url.slice(scheme.length);
    const at = rest.lastIndexOf('@');
    return at < 0 ? url : `${scheme}***@${rest.slice(at + 1)}`;
  };
  return {
    ...str(env, fallback, description, o),
    parse(raw) {
      if (/^(postgres|postgresql):\/\//i.test(raw)) {
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          throw new ConfigError(env, `"${shown(raw)}" is not a valid URL (e.g. ${example})`);
        }
        if (url.pathname.replace(/^\//, '') === '') throw new ConfigError(env, `no database name in the PostgreSQL URL (e.g. ${example})`);
        return raw;
      }
      const sqlite = /^sqlite:\/\/(.*)$/i.exec(raw);
      if (sqlite) {
        if (sqlite[1]!.replace(/^\//, '') === '') throw new ConfigError(env, 'no file path given (e.g. sqlite:///data/router.db)');
        return raw;
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
        throw new ConfigError(env, `unsupported scheme in "${shown(raw)}" (use sqlite:///path.db, a file path, or ${example})`);
      }
      return raw;
    },
  };
}

/** A string that may be unset (undefined). */
export function optionalStr(env: string, description: string, o: Common & { secret?: boolean }): VariableSpec<string | undefined> {
  return { env, defaultText: '', description, group: o.group, fallback: undefined, parse: (raw) => raw };
}

/**
 * A key clients send as `Authorization: Bearer <key>`: printable ASCII without spaces. A key with a
 * space or a control character could never be sent in that header, locking the CLI and SDKs out;
 * the error never repeats the value (it is a secret).
 */
function checkKey(env: string, key: string, which = 'the key'): string {
  if (!/^[\x21-\x7e]+$/.test(key)) {
    throw new ConfigError(env, `${which} contains a space, a control or a non-ASCII character, which no client can send as "Authorization: Bearer <key>" (the value is not shown)`);
  }
  return key;
}

/** One optional API key (see checkKey). */
export function optionalKey(env: string, description: string, o: Common): VariableSpec<string | undefined> {
  return { env, defaultText: '', description, group: o.group, fallback: undefined, parse: (raw) => checkKey(env, raw) };
}

/** Comma-separated API keys (see checkKey). */
export function keyList(env: string, description: string, o: Common): VariableSpec<string[]> {
  return {
    ...list(env, [], description, o),
    parse: (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((key, i) => checkKey(env, key, `key ${i + 1}`)),
  };
}

export function int(
  env: string,
  fallback: number,
  description: string,
  o: Common & { min?: number; max?: number },
): VariableSpec<number> {
  return {
    env,
    defaultText: String(fallback),
    description,
    group: o.group,
    fallback,
    parse(raw) {
      if (!/^[+-]?\d+$/.test(raw)) throw new ConfigError(env, `"${raw}" is not an integer${range(o.min, o.max)}`);
      const n = Number(raw);
      checkRange(env, raw, n, o.min, o.max);
      return n;
    },
  };
}

/** A plain decimal number: optional sign, digits, optional fraction (5, -2, 0.25, .5). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$/;

export function num(
  env: string,
  fallback: number,
  description: string,
  o: Common & { min?: number; max?: number },
): VariableSpec<number> {
  return {
    env,
    defaultText: String(fallback),
    description,
    group: o.group,
    fallback,
    parse(raw) {
      // Plain decimal only: Number() would also take 0x10, 1e3, 0b1, Infinity or "1_000".
      const n = DECIMAL.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new ConfigError(env, `"${raw}" is not a number (plain decimal digits, e.g. 2 or 0.5)${range(o.min, o.max)}`);
      checkRange(env, raw, n, o.min, o.max);
      return n;
    },
  };
}

/** A number that may be unset (undefined = derive it, e.g. from detected hardware). */
export function optionalNum(
  env: string,
  description: string,
  o: Common & { min?: number; max?: number },
): VariableSpec<number | undefined> {
  const inner = num(env, 0, description, o);
  return { ...inner, defaultText: '', fallback: undefined, parse: inner.parse };
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

export function bool(env: string, fallback: boolean, description: string, o: Common): VariableSpec<boolean> {
  return {
    env,
    defaultText: String(fallback),
    description,
    group: o.group,
    fallback,
    parse(raw) {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new ConfigError(env, `"${raw}" is not a boolean (allowed: true, false, 1, 0, yes, no, on, off)`);
    },
  };
}

export function oneOf<const T extends string>(
  env: string,
  values: readonly T[],
  fallback: T,
  description: string,
  o: Common,
): VariableSpec<T> {
  return {
    env,
    defaultText: fallback,
    description,
    group: o.group,
    fallback,
    parse(raw) {
      const v = raw.toLowerCase();
      const hit = values.find((x) => x === v);
      if (!hit) throw new ConfigError(env, `"${raw}" is not allowed (allowed: ${values.join(', ')})`);
      return hit;
    },
  };
}

/** A JSON object; anything else (an array, a string, bad JSON) stops start-up naming the variable. */
export function parseJsonObject(env: string, raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(env, `is not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(env, 'must be a JSON object ({"key": value, ...})');
  return value as Record<string, unknown>;
}

/**
 * Options for plugins, by plugin (manifest) name: a JSON object whose every value is an object,
 * e.g. {"smarterrouter-judge-acme": {"strictness": 0.8}}.
 */
export function pluginOptions(env: string, description: string, o: Common): VariableSpec<Record<string, Record<string, unknown>>> {
  return {
    env,
    defaultText: '',
    description,
    group: o.group,
    fallback: {},
    parse(raw) {
      const all = parseJsonObject(env, raw);
      for (const [name, value] of Object.entries(all)) {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(env, `the options of "${name}" must be a JSON object`);
      }
      return all as Record<string, Record<string, unknown>>;
    },
  };
}

/** Comma-separated list; empty items dropped. */
export function list(env: string, fallback: string[], description: string, o: Common): VariableSpec<string[]> {
  return {
    env,
    defaultText: fallback.join(','),
    description,
    group: o.group,
    fallback,
    parse: (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
  };
}

/** An http(s) URL, trailing slash removed. */
export function url(env: string, fallback: string | undefined, description: string, o: Common): VariableSpec<string | undefined> {
  return {
    env,
    defaultText: fallback ?? '',
    description,
    group: o.group,
    fallback,
    parse(raw) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new ConfigError(env, `"${raw}" is not a URL (expected e.g. http://host:port)`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        throw new ConfigError(env, `"${raw}" must be an http:// or https:// URL`);
      }
      return raw.replace(/\/+$/, '');
    },
  };
}

function range(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` (allowed: ${min} to ${max})`;
  if (min !== undefined) return ` (allowed: >= ${min})`;
  if (max !== undefined) return ` (allowed: <= ${max})`;
  return '';
}

function checkRange(env: string, raw: string, n: number, min?: number, max?: number): void {
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    throw new ConfigError(env, `${raw} is out of range${range(min, max)}`);
  }
}

/** name=preference pairs, e.g. "fast=0.2,best=0.9" (preference 0..1). */
export function preferenceAliases(
  env: string,
  fallback: Array<{ name: string; qualityPreference: number }>,
  description: string,
  o: Common,
): VariableSpec<Array<{ name: string; qualityPreference: number }>> {
  return {
    env,
    defaultText: fallback.map((a) => `${a.name}=${a.qualityPreference}`).join(','),
    description,
    group: o.group,
    fallback,
    parse(raw) {
      const out: Array<{ name: string; qualityPreference: number }> = [];
      for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = /^([a-z0-9][a-z0-9_.-]*)=(\S+)$/i.exec(item);
        const pref = m && DECIMAL.test(m[2]!) ? Number(m[2]) : NaN;
        if (!m || !Number.isFinite(pref) || pref < 0 || pref > 1) {
          throw new ConfigError(env, `"${item}" is not name=preference with a preference from 0 to 1 (e.g. fast=0.2)`);
        }
        if (out.some((a) => a.name === m[1])) throw new ConfigError(env, `alias "${m[1]}" is listed twice`);
        out.push({ name: m[1]!, qualityPreference: pref });
      }
      return out;
    },
  };
}
