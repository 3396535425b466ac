/**
 * Every ROUTER_* variable of the product, in one table. ENV_DEFAULT and docs/configuration.md are
 * generated from it (`npm run config:docs`), and a test checks they match.
 *
 * Besides these fixed names, ROUTER_BACKEND_<NAME>_API_KEY carries the API key of the backend named
 * <NAME> in ROUTER_BACKENDS (upper-cased, non-alphanumerics as "_").
 */
import { bool, databaseUrl, int, keepAlive, keyList, list, num, oneOf, originList, optionalKey, optionalNum, optionalStr, pluginOptions, preferenceAliases, str, url } from './spec.js';
import { trustProxy } from './trust-proxy.js';

export const PROVIDERS = ['ollama', 'llama.cpp', 'openai', 'gguf'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const server = { group: 'Server' };
const backends = { group: 'Backends' };
const routing = { group: 'Routing' };
const profiling = { group: 'Profiling and benchmarks' };
const judge = { group: 'Judges' };
const cache = { group: 'Caching' };
const vram = { group: 'GPU memory' };
const security = { group: 'Security and limits' };

export const VARIABLES = {
  // Server
  host: str('ROUTER_HOST', '0.0.0.0', 'Address to listen on (REST, Connect, gRPC-Web and gRPC share one port).', server),
  port: int('ROUTER_PORT', 11436, 'TCP port to listen on (0 = any free port, printed at start-up).', { ...server, min: 0, max: 65535 }),
  logLevel: oneOf('ROUTER_LOG_LEVEL', LOG_LEVELS, 'info', 'Log level.', server),
  logFormat: oneOf('ROUTER_LOG_FORMAT', ['text', 'json'] as const, 'text', 'Log format: text (human-readable) or json (one JSON object per line).', server),
  databaseUrl: databaseUrl(
    'ROUTER_DATABASE_URL',
    'sqlite:///data/router.db',
    'Database: sqlite:///relative/path.db (three slashes), sqlite:////absolute/path.db (four) or a plain file path; postgresql://user:password@host:5432/db for PostgreSQL, shared by several replicas (docs/deployment.md).',
    server,
  ),
  shutdownTimeout: num('ROUTER_SHUTDOWN_TIMEOUT', 10, 'Seconds to drain in-flight requests on SIGTERM/SIGINT before closing connections.', {
    ...server,
    min: 0,
    max: 3600,
  }),
  redisUrl: optionalStr(
    'ROUTER_REDIS_URL',
    'Redis shared by several replicas, e.g. redis://host:6379/0: response cache, rate-limit counters, circuit-breaker states, the profiling lock; unset = all in-process (docs/deployment.md).',
    { ...server, secret: true },
  ),
  redisPrefix: str('ROUTER_REDIS_PREFIX', 'smarterrouter:', 'Prefix of every Redis key, so several router fleets can share one Redis.', server),
  feedbackSyncInterval: num(
    'ROUTER_FEEDBACK_SYNC_INTERVAL',
    5,
    'Seconds between reloads of feedback other replicas stored in a shared PostgreSQL database (0 = off; unused with SQLite).',
    { ...server, min: 0, max: 3600 },
  ),

  // Backends
  provider: oneOf('ROUTER_PROVIDER', PROVIDERS, 'ollama', 'Single-backend mode (used when ROUTER_BACKENDS is unset): ollama, llama.cpp, openai or gguf.', backends),
  ollamaUrl: url('ROUTER_OLLAMA_URL', 'http://localhost:11434', 'Ollama base URL (single-backend mode).', backends),
  llamaCppUrl: url('ROUTER_LLAMA_CPP_URL', 'http://localhost:8080', 'llama.cpp server or llama-swap base URL (single-backend mode).', backends),
  openaiBaseUrl: url('ROUTER_OPENAI_BASE_URL', undefined, 'OpenAI-compatible base URL including /v1 (single-backend mode).', backends),
  openaiApiKey: optionalStr('ROUTER_OPENAI_API_KEY', 'API key for ROUTER_OPENAI_BASE_URL.', { ...backends, secret: true }),
  ggufDir: str('ROUTER_GGUF_DIR', './models', 'Folder of .gguf files for the embedded backend (single-backend mode with ROUTER_PROVIDER=gguf).', backends),
  backends: list(
    'ROUTER_BACKENDS',
    [],
    'Several backends at once: name=kind:location,... e.g. gpu=ollama:http://10.0.0.5:11434,local=gguf:/models.',
    backends,
  ),
  plugins: list('ROUTER_PLUGINS', [], 'Third-party plugins: npm package names or file paths, comma-separated.', backends),
  pluginOptions: pluginOptions(
    'ROUTER_PLUGIN_OPTIONS',
    'Options for classifier and judge plugins: a JSON object from plugin name to the options its create() receives, e.g. {"smarterrouter-judge-acme": {"strictness": 0.8}}.',
    backends,
  ),
  healthCheckInterval: num(
    'ROUTER_HEALTH_CHECK_INTERVAL',
    15,
    'Seconds between backend health checks; a backend that fails two in a row is skipped by routing and listed unavailable until one passes (a successful model listing asks for that check at once).',
    { ...backends, min: 0.1, max: 3600 },
  ),
  modelPrefix: str('ROUTER_MODEL_PREFIX', '', 'Prefix added to every backend model id the router exposes.', backends),
  modelKeepAlive: keepAlive('ROUTER_MODEL_KEEP_ALIVE', '5m', 'Ollama keep_alive for loaded models (Go duration, seconds, or -1 for forever).', backends),
  ggufThreads: int('ROUTER_GGUF_THREADS', 0, 'CPU threads per embedded GGUF context (0 = chosen from the core count).', { ...backends, min: 0, max: 256 }),
  generationTimeout: num('ROUTER_GENERATION_TIMEOUT', 300, 'Seconds an upstream generation may take in total.', { ...backends, min: 1, max: 86400 }),
  firstTokenTimeout: num('ROUTER_FIRST_TOKEN_TIMEOUT', 60, 'Seconds to wait for the first token before trying the next model.', {
    ...backends,
    min: 1,
    max: 3600,
  }),
  streamKeepalive: num(
    'ROUTER_STREAM_KEEPALIVE',
    10,
    'Seconds a streaming REST client waits for the first token before the router starts the SSE stream and sends keep-alive comments at this interval (so proxies with a 60 s read timeout keep the connection); 0 = wait silently.',
    { ...backends, min: 0, max: 3600 },
  ),
  circuitFailureThreshold: int('ROUTER_CIRCUIT_FAILURE_THRESHOLD', 3, 'Failures in a row that open the circuit of a backend (unreachable) or a model (timeouts, bad answers); an open circuit is skipped.', {
    ...backends,
    min: 1,
    max: 1000,
  }),
  circuitCooldown: num('ROUTER_CIRCUIT_COOLDOWN', 5, 'Seconds an open circuit is skipped before one request probes it again (half-open; closed again on success).', {
    ...backends,
    min: 0.1,
    max: 3600,
  }),

  // Routing
  externalModelName: str('ROUTER_EXTERNAL_MODEL_NAME', 'smarterrouter/main', 'The model name clients use to get routed answers. The aliases of ROUTER_MODEL_ALIASES are renamed with it: each replaces the part after the last /, or is appended with - when there is none (homelab/auto also lists homelab/fast and homelab/best; auto lists auto-fast and auto-best). Must not equal one of those alias ids.', routing),
  modelAliases: preferenceAliases(
    'ROUTER_MODEL_ALIASES',
    [
      { name: 'fast', qualityPreference: 0.2 },
      { name: 'best', qualityPreference: 0.9 },
    ],
    'Extra router model ids with their own quality preference, listed in /v1/models: name=preference,... Each id is derived from ROUTER_EXTERNAL_MODEL_NAME (smarterrouter/fast, smarterrouter/best by default; auto-fast, auto-best for the name auto).',
    routing,
  ),
  qualityPreference: num('ROUTER_QUALITY_PREFERENCE', 0.5, 'Balance of speed (0.0) against quality (1.0).', { ...routing, min: 0, max: 1 }),
  weightCapability: num('ROUTER_WEIGHT_CAPABILITY', 0.4, 'Score weight of the measured per-category capability.', { ...routing, min: 0, max: 1 }),
  weightBenchmark: num('ROUTER_WEIGHT_BENCHMARK', 0.3, 'Score weight of public benchmark scores.', { ...routing, min: 0, max: 1 }),
  weightSpeed: num('ROUTER_WEIGHT_SPEED', 0.2, 'Score weight of measured speed.', { ...routing, min: 0, max: 1 }),
  weightRecency: num('ROUTER_WEIGHT_RECENCY', 0.1, 'Score weight of the penalty against overusing one model.', { ...routing, min: 0, max: 1 }),
  cascadingEnabled: bool('ROUTER_CASCADING_ENABLED', true, 'Retry with the next-best model when the chosen one fails before its first token (a non-streaming request: before its answer is complete, since the client has seen nothing yet; each attempt has its own ROUTER_GENERATION_TIMEOUT).', routing),
  cascadingMaxAttempts: int('ROUTER_CASCADING_MAX_ATTEMPTS', 3, 'Most models tried for one request.', { ...routing, min: 1, max: 20 }),
  feedbackEnabled: bool('ROUTER_FEEDBACK_ENABLED', true, 'Accept POST /v1/feedback and let it shift routing scores.', routing),
  exposeModels: bool('ROUTER_EXPOSE_MODELS', false, 'List backend models in GET /v1/models besides the router models.', routing),
  signatureEnabled: bool('ROUTER_SIGNATURE_ENABLED', false, 'Append a signature naming the model to each answer.', routing),
  signatureFormat: str('ROUTER_SIGNATURE_FORMAT', '\\n\\n— answered by {model}', 'Signature text; {model} is replaced by the model id, \\n by a newline.', routing),
  corsOrigins: originList('ROUTER_CORS_ORIGINS', ['*'], 'Origins allowed by CORS on /v1 (never on /admin); * = any.', routing),
  embedModel: optionalStr('ROUTER_EMBED_MODEL', 'Embedding model for the semantic cache and for /v1/embeddings requests naming the router model (unset: semantic cache off, embeddings go to the first embedding-capable model).', routing),
  classifierEmbeddings: bool(
    'ROUTER_CLASSIFIER_EMBEDDINGS',
    false,
    'Second classifier: nearest labelled examples in the ROUTER_EMBED_MODEL embedding space, blended with the built-in classifier (needs ROUTER_EMBED_MODEL; docs/classification.md).',
    routing,
  ),
  classifierEmbeddingsTimeoutMs: int('ROUTER_CLASSIFIER_EMBEDDINGS_TIMEOUT_MS', 250, 'Milliseconds a request waits for its embedding before the built-in classifier decides alone.', {
    ...routing,
    min: 10,
    max: 10_000,
  }),
  classifierEmbeddingsWeight: num('ROUTER_CLASSIFIER_EMBEDDINGS_WEIGHT', 0.4, 'Share of the embedding classifier in the blended category probabilities (0 = built-in only, 1 = embeddings only).', {
    ...routing,
    min: 0,
    max: 1,
  }),
  classifierEmbeddingsFile: optionalStr(
    'ROUTER_CLASSIFIER_EMBEDDINGS_FILE',
    'File keeping the embedded examples across restarts (unset: classifier-embeddings.bin next to the SQLite database, data/classifier-embeddings.bin with PostgreSQL).',
    routing,
  ),

  // Profiling and benchmarks
  pollingInterval: int('ROUTER_POLLING_INTERVAL', 60, 'Seconds between model discovery rounds (0 = only at start-up; a backend whose listing failed is retried until it answers).', { ...profiling, min: 0, max: 86400 }),
  profileOnStartup: bool('ROUTER_PROFILE_ON_STARTUP', true, 'Profile new or changed models automatically.', profiling),
  profileTimeout: num('ROUTER_PROFILE_TIMEOUT', 90, 'Seconds per profiling prompt (scaled up for large models).', { ...profiling, min: 1, max: 3600 }),
  profilePromptsPerCategory: int('ROUTER_PROFILE_PROMPTS_PER_CATEGORY', 3, 'Profiling prompts per category.', { ...profiling, min: 1, max: 50 }),
  profileConcurrency: int('ROUTER_PROFILE_CONCURRENCY', 1, 'Models profiled at once (1 keeps a single GPU safe).', { ...profiling, min: 1, max: 16 }),
  benchmarkSources: list('ROUTER_BENCHMARK_SOURCES', [], 'Extra benchmark files or URLs (Open LLM Leaderboard JSON, LMArena-style CSV).', profiling),

  // Judges
  judgeEnabled: bool('ROUTER_JUDGE_ENABLED', false, 'Score profiling answers with an LLM judge (else the heuristic judge).', judge),
  judgeModel: optionalStr('ROUTER_JUDGE_MODEL', 'Judge model id (a backend model, or a model at ROUTER_JUDGE_BASE_URL).', judge),
  judgeBaseUrl: url('ROUTER_JUDGE_BASE_URL', undefined, 'OpenAI-compatible base URL of the judge (unset = use a configured backend).', judge),
  judgeApiKey: optionalStr('ROUTER_JUDGE_API_KEY', 'API key for ROUTER_JUDGE_BASE_URL.', { ...judge, secret: true }),

  // Caching
  cacheEnabled: bool('ROUTER_CACHE_ENABLED', true, 'Routing-decision, response and semantic caches, and coalescing of identical requests in flight (see docs/caching.md).', cache),
  cacheMaxSize: int('ROUTER_CACHE_MAX_SIZE', 500, 'Entries in the routing-decision cache.', { ...cache, min: 1, max: 10_000_000 }),
  cacheResponseMaxSize: int('ROUTER_CACHE_RESPONSE_MAX_SIZE', 200, 'Entries in the response cache.', { ...cache, min: 1, max: 10_000_000 }),
  cacheTtlSeconds: int('ROUTER_CACHE_TTL_SECONDS', 3600, 'Lifetime of a cache entry in seconds.', { ...cache, min: 1, max: 31_536_000 }),
  cacheNondeterministic: bool('ROUTER_CACHE_NONDETERMINISTIC', false, 'Also serve requests without temperature 0 (sampled answers) from the response cache and coalesce them.', cache),
  cacheSemanticEnabled: bool('ROUTER_CACHE_SEMANTIC_ENABLED', true, 'The semantic cache (answers of similar prompts) when ROUTER_EMBED_MODEL is set; false keeps the exact cache only.', cache),
  cacheSimilarityThreshold: num('ROUTER_CACHE_SIMILARITY_THRESHOLD', 0.85, 'Cosine similarity for a semantic cache hit.', { ...cache, min: 0, max: 1 }),
  workerThreads: int('ROUTER_WORKER_THREADS', 0, 'Piscina worker threads for similarity and scoring (0 = cores - 1, at least 1).', { ...cache, min: 0, max: 64 }),

  // GPU memory
  vramMonitorEnabled: bool('ROUTER_VRAM_MONITOR_ENABLED', true, 'Sample nvidia-smi (disabled with one warning when it is missing).', vram),
  vramMonitorInterval: num('ROUTER_VRAM_MONITOR_INTERVAL', 30, 'Seconds between VRAM samples.', { ...vram, min: 1, max: 3600 }),
  vramMaxTotalGb: optionalNum('ROUTER_VRAM_MAX_TOTAL_GB', 'VRAM budget in GB (unset or 0 = 90% of the detected total; no GPU and unset = no budget, nothing is unloaded).', { ...vram, min: 0, max: 100_000 }),
  vramAutoUnloadEnabled: bool('ROUTER_VRAM_AUTO_UNLOAD_ENABLED', true, 'Unload least-recently-used models to make room before dispatch.', vram),
  vramUnloadThresholdPct: num('ROUTER_VRAM_UNLOAD_THRESHOLD_PCT', 85, 'Share of the VRAM budget (%), as nvidia-smi reports it, above which idle models are unloaded.', { ...vram, min: 1, max: 100 }),
  pinnedModel: optionalStr('ROUTER_PINNED_MODEL', 'Model loaded at start-up, kept warm and never unloaded.', vram),

  // Security and limits
  adminApiKey: optionalKey('ROUTER_ADMIN_API_KEY', 'Bearer key for /admin and the Admin/Profiler services (unset = loopback clients only).', security),
  apiKeys: keyList('ROUTER_API_KEYS', 'Client keys accepted on /v1 and RouterService (empty = open).', security),
  rateLimitEnabled: bool('ROUTER_RATE_LIMIT_ENABLED', false, 'Per-client rate limiting (key, else IP).', security),
  trustProxy: trustProxy(
    'ROUTER_TRUST_PROXY',
    'Which peers may set the client address with X-Forwarded-For (rate limits, the admin loopback rule): false = none, true = all, a hop count, or comma-separated addresses/CIDRs (docs/security.md).',
    security,
  ),
  rateLimitRequestsPerMinute: int('ROUTER_RATE_LIMIT_REQUESTS_PER_MINUTE', 60, 'Requests per minute per client on /v1 and RouterService.', {
    ...security,
    min: 1,
    max: 1_000_000,
  }),
  rateLimitAdminRequestsPerMinute: int('ROUTER_RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE', 120, 'Requests per minute per client on /admin and admin RPCs (the dashboard alone polls about 80 a minute).', {
    ...security,
    min: 1,
    max: 1_000_000,
  }),
  backpressureEnabled: bool('ROUTER_BACKPRESSURE_ENABLED', true, 'Answer 503 (UNAVAILABLE) with Retry-After while the process is overloaded; /health always answers.', security),
  backpressureMaxEventLoopDelay: int('ROUTER_BACKPRESSURE_MAX_EVENT_LOOP_DELAY', 1000, 'Mean event-loop delay (ms, sampled every second) above which requests are refused (0 = no check).', {
    ...security,
    min: 0,
    max: 600_000,
  }),
  backpressureStartupGrace: num('ROUTER_BACKPRESSURE_STARTUP_GRACE', 5, 'Seconds after the router starts listening during which event-loop delay does not shed load (its own start-up stalls); heap is still checked.', {
    ...security,
    min: 0,
    max: 3600,
  }),
  backpressureMaxHeapMb: int('ROUTER_BACKPRESSURE_MAX_HEAP_MB', 0, 'Used V8 heap (MB) above which requests are refused (0 = 90% of the V8 heap limit).', {
    ...security,
    min: 0,
    max: 1_000_000,
  }),
  maxMessages: int('ROUTER_MAX_MESSAGES', 1000, 'Most messages in one chat request.', { ...security, min: 1, max: 1_000_000 }),
  maxPromptChars: int('ROUTER_MAX_PROMPT_CHARS', 1_000_000, 'Most characters in one message.', { ...security, min: 1, max: 100_000_000 }),
} as const;

export type Variables = typeof VARIABLES;
