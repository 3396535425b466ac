/**
 * The router's Prometheus metrics, in one prom-client registry per running router (tests start
 * several in one process). Names and labels of the original SmarterRouter are kept
 * (smarterrouter_requests_total, _request_duration_seconds, _errors_total, _model_selections_total,
 * _cache_hits_total / _cache_misses_total, _vram_* and _gpu_*), plus upstream latency, time to first
 * token, tokens per second, fallbacks, circuit state and Node's default process metrics (event-loop
 * lag among them).
 *
 * RouterMetrics implements the core's RouterEvents, so each counter moves where its event happens;
 * gauges of state that lives elsewhere (VRAM, circuits, cache sizes) are read at scrape time.
 * GetStats and /admin/stats read these same numbers (stats.ts): there is no second bookkeeping.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitInfo } from '../../core/circuit-breaker.js';
import type {
  AttemptEvent,
  CacheKind,
  CircuitEvent,
  CompletedEvent,
  FirstTokenEvent,
  RouteFailedEvent,
  RouterEvents,
  SelectionEvent,
} from '../../core/events.js';
import type { VramSnapshot } from '../../core/vram/index.js';

/** State the gauges read at scrape time; each source is optional (set once the owner exists). */
export interface MetricsSources {
  vram?: () => VramSnapshot | undefined;
  circuits?: () => CircuitInfo[];
  cacheEntries?: () => Partial<Record<CacheKind, number>>;
}

/** One finished request at a door (REST route or RPC). */
export interface RequestObservation {
  /** Route pattern ("/v1/chat/completions") or RPC path ("/smarterrouter.v1.RouterService/Chat"). */
  endpoint: string;
  method: string;
  /** HTTP status ("200") or Connect code name ("ok", "unavailable"). */
  status: string;
  protocol: 'rest' | 'connect' | 'grpc' | 'grpc-web';
  seconds: number;
  /** Set when the request ended with an error. */
  errorType?: string;
}

/** The original's request-duration buckets (seconds). */
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const TPS_BUCKETS = [1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000];
const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
export const CACHE_KINDS: readonly CacheKind[] = ['response', 'routing', 'semantic'];

export class RouterMetrics implements RouterEvents {
  readonly registry = new Registry();
  readonly startedAt: Date;
  private sources: MetricsSources = {};

  readonly requests: Counter<'endpoint' | 'method' | 'status' | 'protocol'>;
  readonly requestDuration: Histogram<'endpoint' | 'protocol'>;
  readonly errors: Counter<'endpoint' | 'error_type'>;
  readonly selections: Counter<'selected_model' | 'category'>;
  readonly cacheHits: Counter<'cache_type'>;
  readonly cacheMisses: Counter<'cache_type'>;
  private readonly attempts: Counter<'model' | 'backend' | 'outcome'>;
  private readonly fallbacks: Counter<'model' | 'backend'>;
  private readonly routingFailures: Counter<'reason'>;
  private readonly upstreamLatency: Histogram<'model' | 'backend'>;
  private readonly firstTokenLatency: Histogram<'model' | 'backend'>;
  private readonly tokensPerSecond: Histogram<'model' | 'backend'>;
  private readonly tokens: Counter<'model' | 'kind'>;
  private readonly circuitTransitions: Counter<'scope' | 'name' | 'to'>;

  constructor(options: { startedAt?: Date; defaultMetrics?: boolean } = {}) {
    this.startedAt = options.startedAt ?? new Date();
    const registers = [this.registry];
    const sources = () => this.sources;

    this.requests = new Counter({
      name: 'smarterrouter_requests_total',
      help: 'Requests received, by endpoint (route or RPC), method, status (HTTP status or RPC code) and protocol.',
      labelNames: ['endpoint', 'method', 'status', 'protocol'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'smarterrouter_request_duration_seconds',
      help: 'Time from request to the end of the response (streams: to the last byte).',
      labelNames: ['endpoint', 'protocol'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: 'smarterrouter_errors_total',
      help: 'Requests that ended with an error, by endpoint and error type (also streams that failed after their first token).',
      labelNames: ['endpoint', 'error_type'],
      registers,
    });
    this.selections = new Counter({
      name: 'smarterrouter_model_selections_total',
      help: 'Answers per selected model and request category (cached answers included).',
      labelNames: ['selected_model', 'category'],
      registers,
    });
    this.cacheHits = new Counter({ name: 'smarterrouter_cache_hits_total', help: 'Cache lookups that found an entry.', labelNames: ['cache_type'], registers });
    this.cacheMisses = new Counter({ name: 'smarterrouter_cache_misses_total', help: 'Cache lookups that found none.', labelNames: ['cache_type'], registers });
    new Gauge({
      name: 'smarterrouter_cache_entries',
      help: 'Entries held now per cache.',
      labelNames: ['cache_type'],
      registers,
      collect() {
        this.reset();
        const entries = sources().cacheEntries?.();
        if (entries) for (const kind of CACHE_KINDS) this.set({ cache_type: kind }, entries[kind] ?? 0);
      },
    });

    this.attempts = new Counter({
      name: 'smarterrouter_upstream_attempts_total',
      help: 'Tries of a model within requests, by outcome ("ok" or the failure code).',
      labelNames: ['model', 'backend', 'outcome'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'smarterrouter_fallbacks_total',
      help: 'Attempts that happened because an earlier candidate failed (cascade), by the model tried.',
      labelNames: ['model', 'backend'],
      registers,
    });
    this.routingFailures = new Counter({
      name: 'smarterrouter_routing_failures_total',
      help: 'Requests the router could not serve: no_candidates, all_candidates_failed, aborted (client left).',
      labelNames: ['reason'],
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: 'smarterrouter_upstream_latency_seconds',
      help: 'Upstream generation time per model, from dispatch to the last part (finished generations).',
      labelNames: ['model', 'backend'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.firstTokenLatency = new Histogram({
      name: 'smarterrouter_time_to_first_token_seconds',
      help: 'Time from dispatch to the first token per model.',
      labelNames: ['model', 'backend'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.tokensPerSecond = new Histogram({
      name: 'smarterrouter_tokens_per_second',
      help: 'Generation speed per model: completion tokens after the first, per second after the first token.',
      labelNames: ['model', 'backend'],
      buckets: TPS_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'smarterrouter_tokens_total',
      help: 'Tokens as the backends counted them, by model and kind (prompt, completion).',
      labelNames: ['model', 'kind'],
      registers,
    });

    new Gauge({
      name: 'smarterrouter_circuit_state',
      help: 'Circuit breaker state per backend or model: 0 closed, 1 half-open, 2 open (only circuits that ever failed).',
      labelNames: ['scope', 'name'],
      registers,
      collect() {
        this.reset();
        for (const c of sources().circuits?.() ?? []) this.set({ scope: c.scope, name: c.name }, CIRCUIT_VALUE[c.state]);
      },
    });
    this.circuitTransitions = new Counter({
      name: 'smarterrouter_circuit_transitions_total',
      help: 'Circuit breaker state changes, by the state entered.',
      labelNames: ['scope', 'name', 'to'],
      registers,
    });

    this.vramGauges(registers, sources);
    // Node's own: event-loop lag (nodejs_eventloop_lag_*), heap, GC, handles, CPU, RSS.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Gauges that read other components (VRAM monitor, circuits, caches) at scrape time. */
  setSources(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  observeRequest(o: RequestObservation): void {
    this.requests.inc({ endpoint: o.endpoint, method: o.method, status: o.status, protocol: o.protocol });
    this.requestDuration.observe({ endpoint: o.endpoint, protocol: o.protocol }, o.seconds);
    if (o.errorType) this.errors.inc({ endpoint: o.endpoint, error_type: o.errorType });
  }

  // RouterEvents -------------------------------------------------------------------------------

  selection(e: SelectionEvent): void {
    this.selections.inc({ selected_model: e.model, category: e.category });
  }

  attempt(e: AttemptEvent): void {
    this.attempts.inc({ model: e.model, backend: e.backend, outcome: e.ok ? 'ok' : (e.errorCode ?? 'error') });
    if (e.index > 0) this.fallbacks.inc({ model: e.model, backend: e.backend });
  }

  firstToken(e: FirstTokenEvent): void {
    this.firstTokenLatency.observe({ model: e.model, backend: e.backend }, e.ms / 1000);
  }

  completed(e: CompletedEvent): void {
    const labels = { model: e.model, backend: e.backend };
    if (e.outcome === 'ok') {
      this.upstreamLatency.observe(labels, e.durationMs / 1000);
      const after = (e.completionTokens ?? 0) - 1;
      if (after > 0 && e.generationMs > 0) this.tokensPerSecond.observe(labels, after / (e.generationMs / 1000));
      if (e.promptTokens) this.tokens.inc({ model: e.model, kind: 'prompt' }, e.promptTokens);
      if (e.completionTokens) this.tokens.inc({ model: e.model, kind: 'completion' }, e.completionTokens);
    }
    // A REST stream that fails after its first token still answered 200: this is the only place
    // that sees the error. The RPC door reports the same failure as the RPC's own status.
    if (e.outcome === 'error' && e.protocol === 'rest') this.errors.inc({ endpoint: '/v1/chat/completions', error_type: `stream_${e.errorCode ?? 'error'}` });
  }

  routeFailed(e: RouteFailedEvent): void {
    this.routingFailures.inc({ reason: e.reason });
  }

  cacheLookup(kind: CacheKind, hit: boolean): void {
    (hit ? this.cacheHits : this.cacheMisses).inc({ cache_type: kind });
  }

  circuitChanged(e: CircuitEvent): void {
    this.circuitTransitions.inc({ scope: e.scope, name: e.name, to: e.to });
  }

  // -------------------------------------------------------------------------------------------

  private vramGauges(registers: Registry[], sources: () => MetricsSources): void {
    // Latest sample only, and nothing while monitoring is off: a stale figure would pass for a current one.
    const gpus = () => {
      const snap = sources().vram?.();
      return snap?.enabled ? snap.gpus : [];
    };
    const total = (pick: (g: { totalGb: number; usedGb: number }) => number) => gpus().reduce((sum, g) => sum + pick(g), 0);
    const global = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          // An unlabelled gauge always shows a value (0 after reset); remove() leaves no sample at all.
          if (gpus().length) this.set(round(value()));
          else this.remove();
        },
      });
    global('smarterrouter_vram_total_gb', 'Total GPU memory of all GPUs in GB (from nvidia-smi).', () => total((g) => g.totalGb));
    global('smarterrouter_vram_used_gb', 'Used GPU memory of all GPUs in GB.', () => total((g) => g.usedGb));
    global('smarterrouter_vram_utilization_pct', 'Used share of all GPU memory in percent.', () => {
      const t = total((g) => g.totalGb);
      return t > 0 ? (100 * total((g) => g.usedGb)) / t : 0;
    });
    const perGpu = (name: string, help: string, pick: (g: { totalGb: number; usedGb: number; freeGb: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['gpu_index', 'vendor'],
        registers,
        collect() {
          this.reset();
          for (const g of gpus()) this.set({ gpu_index: String(g.index), vendor: 'nvidia' }, round(pick(g)));
        },
      });
    perGpu('smarterrouter_gpu_total_gb', 'Total memory per GPU in GB.', (g) => g.totalGb);
    perGpu('smarterrouter_gpu_used_gb', 'Used memory per GPU in GB.', (g) => g.usedGb);
    perGpu('smarterrouter_gpu_free_gb', 'Free memory per GPU in GB.', (g) => g.freeGb);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
