/**
 * What the routing core reports while it works, for whoever watches (the Prometheus metrics in
 * src/server/metrics, tests). The core calls these methods where each event happens; it never
 * counts anything itself, so /metrics and GetStats read one set of numbers.
 *
 * Kept free of any metrics library: the core depends on this interface only.
 */
import type { Category } from '../plugin-api/index.js';
import type { Protocol } from './types.js';

export type CacheKind = 'response' | 'routing' | 'semantic';
export type CircuitScope = 'backend' | 'model';
export type CircuitState = 'closed' | 'open' | 'half_open';

/** A model was chosen and produced its first token (or a cached answer was served for it). */
export interface SelectionEvent {
  model: string;
  backend: string;
  category: Category;
  /** False when the client named the model (routing bypassed). */
  routed: boolean;
}

/** One try of one model within a request; index 0 is the first choice, higher ones are fallbacks. */
export interface AttemptEvent {
  model: string;
  backend: string;
  index: number;
  ok: boolean;
  /** Dispatch to first token (streaming) or to the whole answer (buffered), or to the failure. */
  durationMs: number;
  /** PluginError code of a failed attempt. */
  errorCode?: string;
}

export interface FirstTokenEvent {
  model: string;
  backend: string;
  /** Dispatch to first part. */
  ms: number;
}

/** A generation that had started ended: finished, failed after its first token, or abandoned. */
export interface CompletedEvent {
  model: string;
  backend: string;
  protocol: Protocol;
  outcome: 'ok' | 'error' | 'aborted';
  /** Dispatch to the end. */
  durationMs: number;
  /** First token to the end (the generation proper, for tokens per second). */
  generationMs: number;
  promptTokens?: number;
  completionTokens?: number;
  /** PluginError code when outcome is 'error'. */
  errorCode?: string;
}

/** A request the core could not serve. */
export interface RouteFailedEvent {
  reason: 'no_candidates' | 'all_candidates_failed' | 'aborted';
  category: Category;
}

export interface CircuitEvent {
  scope: CircuitScope;
  /** Backend instance name or router-wide model id. */
  name: string;
  from: CircuitState;
  to: CircuitState;
}

export interface RouterEvents {
  selection(event: SelectionEvent): void;
  attempt(event: AttemptEvent): void;
  firstToken(event: FirstTokenEvent): void;
  completed(event: CompletedEvent): void;
  routeFailed(event: RouteFailedEvent): void;
  /** One lookup in a cache (the response, routing and semantic caches call this). */
  cacheLookup(kind: CacheKind, hit: boolean): void;
  circuitChanged(event: CircuitEvent): void;
}

const noop = (): void => {};

/** For a core built without observers (unit tests, tools). */
export const NO_EVENTS: RouterEvents = {
  selection: noop,
  attempt: noop,
  firstToken: noop,
  completed: noop,
  routeFailed: noop,
  cacheLookup: noop,
  circuitChanged: noop,
};

/**
 * Fills in what an observer leaves out and contains what it throws: watching a request must never
 * be able to fail it. The failure is reported once per method so a broken observer is noticed.
 */
export function safeEvents(observer: Partial<RouterEvents>, onError?: (method: string, error: unknown) => void): RouterEvents {
  const reported = new Set<string>();
  const out = { ...NO_EVENTS } as Record<keyof RouterEvents, (...args: never[]) => void>;
  for (const name of Object.keys(NO_EVENTS) as Array<keyof RouterEvents>) {
    const method = observer[name] as ((...args: unknown[]) => void) | undefined;
    if (!method) continue;
    out[name] = (...args: unknown[]) => {
      try {
        method.apply(observer, args);
      } catch (error) {
        if (!reported.has(name)) {
          reported.add(name);
          onError?.(name, error);
        }
      }
    };
  }
  return out as unknown as RouterEvents;
}

/** Sends each event to several observers in order (e.g. metrics and a test probe). */
export function fanOut(...observers: RouterEvents[]): RouterEvents {
  const out = {} as Record<keyof RouterEvents, (...args: unknown[]) => void>;
  for (const name of Object.keys(NO_EVENTS) as Array<keyof RouterEvents>) {
    out[name] = (...args: unknown[]) => {
      for (const o of observers) (o[name] as (...a: unknown[]) => void)(...args);
    };
  }
  return out as unknown as RouterEvents;
}
