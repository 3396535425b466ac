/**
 * REST twins of the profiling and benchmark APIs:
 *   GET  /admin/profiles    ?model=&sort=&limit=&offset=           one entry per profiled model
 *   GET  /admin/benchmarks  ?model=&benchmark=&sort=&limit=&offset= public figures matched to known models
 *   POST /admin/benchmarks/sync    {"sources": [...]}              imports sources (SyncBenchmarks)
 *   GET  /admin/benchmarks/sources                                 every stored source with row counts
 *   DELETE /admin/benchmarks/sources?source=...                    deletes one imported source's rows
 *   POST /admin/reprofile   ?force=true&model=...                  starts a background run (202); the same
 *                           options may come as a JSON body {model, force} instead
 * `sort` is one whitelisted field, `-field` for descending; anything else is a 400 naming the
 * allowed fields. The listings are the same code as AdminService.ListProfiles / ListBenchmarks.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ProfilingBusyError } from '../../core/profiling/coordinator.js';
import {
  BENCHMARK_SORT_FIELDS,
  MAX_PAGE_SIZE,
  PROFILE_SORT_FIELDS,
  ListingError,
  benchmarkViews,
  listBenchmarks,
  listProfiles,
  parsePageSize,
  parseSort,
  type BenchmarkView,
  type ProfileView,
} from '../../core/profiling/listing.js';
import { selectProfileEntries } from '../../core/profiling/select.js';
import { SourceRemovalError } from '../../db/benchmark-store.js';
import { importBenchmarkSources, ImportRequestError, MAX_SOURCES_PER_CALL } from '../benchmark-import.js';
import type { KnowledgeServices } from '../wiring.js';
import { sendError } from './errors.js';
import { sortOf, whitelistedQuery, type QueryProperties } from './query.js';

const page = {
  sort: { type: 'string', maxLength: 64 },
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE },
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000 },
} satisfies QueryProperties;

/** POST /admin/reprofile's optional JSON body: the query string's options. */
interface ReprofileBody {
  model?: string | string[];
  force?: boolean;
}

interface ListQuerystring {
  model?: string;
  benchmark?: string;
  sort?: string;
  limit?: number;
  offset?: number;
}

export function profileJson(v: ProfileView) {
  return {
    model: v.model,
    backend: v.backend || null,
    model_id: v.modelId,
    available: v.available,
    scores: Object.fromEntries(v.categories.map((c) => [c.category, c.score])),
    categories: Object.fromEntries(
      v.categories.map((c) => [
        c.category,
        {
          score: c.score,
          prompts: c.prompts,
          failures: c.failures,
          timeouts: c.timeouts,
          ttft_ms: c.ttftMs ?? null,
          tokens_per_second: c.tokensPerSecond ?? null,
          total_latency_ms: c.totalLatencyMs ?? null,
        },
      ]),
    ),
    ttft_ms: v.ttftMs ?? null,
    tokens_per_second: v.tokensPerSecond ?? null,
    total_latency_ms: v.totalLatencyMs ?? null,
    failures: v.failures,
    timeouts: v.timeouts,
    vram_bytes: v.vramBytes ?? null,
    judge: v.judge,
    prompt_set_version: v.promptSetVersion,
    profiled_at: v.profiledAt?.toISOString() ?? null,
  };
}

function benchmarkJson(v: BenchmarkView) {
  return {
    model: v.model,
    backend: v.backend,
    matched_entry: v.matchedEntry,
    match_confidence: v.confidence,
    benchmark: v.benchmark,
    score: v.score,
    scale: v.scale,
    normalized_score: v.normalizedScore,
    source: v.source,
    source_url: v.sourceUrl ?? null,
    fetched_at: v.fetchedAt?.toISOString() ?? null,
  };
}

function listingError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof ListingError) return sendError(reply, 400, error.message, 'invalid_request_error', 'invalid_parameter', error.param);
  throw error;
}

/** `sort` as "field" or "-field", checked against the whitelist (the error lists the allowed values). */
function parseRestSort<S extends string>(sort: string | undefined, allowed: readonly S[]): { sortBy: S; descending: boolean } {
  const { field, descending } = sortOf(sort, allowed[0]);
  return { sortBy: parseSort(field, allowed, 'sort'), descending };
}

export function adminKnowledgeRoutes(deps: KnowledgeServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: ListQuerystring }>('/admin/profiles', whitelistedQuery({ model: { type: 'string', maxLength: 256 }, ...page }), async (request, reply) => {
      try {
        const q = request.query;
        const query = { model: q.model, ...parseRestSort(q.sort, PROFILE_SORT_FIELDS), limit: parsePageSize(q.limit, 'limit'), offset: q.offset ?? 0 };
        const result = listProfiles(deps.knowledge.profiles(), query);
        return { object: 'list', data: result.items.map(profileJson), total: result.total, limit: query.limit, offset: query.offset, has_more: result.nextOffset !== undefined };
      } catch (error) {
        return listingError(reply, error);
      }
    });

    app.get<{ Querystring: ListQuerystring }>(
      '/admin/benchmarks',
      whitelistedQuery({ model: { type: 'string', maxLength: 256 }, benchmark: { type: 'string', maxLength: 128 }, ...page }),
      async (request, reply) => {
        try {
          const q = request.query;
          const query = { model: q.model, benchmark: q.benchmark, ...parseRestSort(q.sort, BENCHMARK_SORT_FIELDS), limit: parsePageSize(q.limit, 'limit'), offset: q.offset ?? 0 };
          const models = deps.registry.entriesList().map((e) => ({ key: e.key, backend: e.backend.name, modelId: e.info.id }));
          const result = listBenchmarks(benchmarkViews(models, deps.knowledge.benchmarks), query);
          return { object: 'list', data: result.items.map(benchmarkJson), total: result.total, limit: query.limit, offset: query.offset, has_more: result.nextOffset !== undefined };
        } catch (error) {
          return listingError(reply, error);
        }
      },
    );

    /** The REST twin of ProfilerService.SyncBenchmarks: body {"sources": [paths or URLs]} (none: the configured ones). */
    app.post<{ Body: { sources?: string[] } | null }>(
      '/admin/benchmarks/sync',
      {
        preValidation: whitelistedQuery({}).preValidation,
        schema: { body: { anyOf: [{ type: 'null' }, { type: 'object', properties: { sources: { type: 'array', items: { type: 'string', maxLength: 2048 }, maxItems: MAX_SOURCES_PER_CALL } } }] } },
      },
      async (request, reply) => {
        const body = request.body ?? {};
        const unknownKey = Object.keys(body).find((k) => k !== 'sources');
        if (unknownKey !== undefined) return sendError(reply, 400, `Unknown parameter ${JSON.stringify(unknownKey.slice(0, 64))}: the body takes 'sources'.`, 'invalid_request_error', 'unknown_parameter', unknownKey.slice(0, 64));
        try {
          const outcome = await importBenchmarkSources(deps.syncBenchmarks, body.sources ?? []);
          return { results: outcome.results.map((r) => ({ source: r.source, ok: r.ok, rows: r.rows, error: r.error ?? null })), rows_total: outcome.rowsTotal };
        } catch (error) {
          if (error instanceof ImportRequestError) return sendError(reply, 400, `${error.message}.`, 'invalid_request_error', 'invalid_value', 'sources');
          throw error;
        }
      },
    );

    /** Every stored benchmark source: bundled reports and imported files or URLs, with counts. */
    app.get('/admin/benchmarks/sources', whitelistedQuery({}), async () => {
      const sources = await deps.benchmarkSources();
      return {
        object: 'list',
        data: sources.map((s) => ({ source: s.source, source_url: s.sourceUrl ?? null, rows: s.rows, entries: s.entries, fetched_at: s.fetchedAt.toISOString(), bundled: s.bundled })),
      };
    });

    /** Deletes one imported source (?source=<path, URL or source id>); routing stops using its rows at once. */
    app.delete<{ Querystring: { source: string } }>(
      '/admin/benchmarks/sources',
      whitelistedQuery({ source: { type: 'string', minLength: 1, maxLength: 2048 } }, ['source']),
      async (request, reply) => {
        try {
          return { deleted: await deps.deleteBenchmarkSource(request.query.source) };
        } catch (error) {
          if (!(error instanceof SourceRemovalError)) throw error;
          return error.code === 'bundled'
            ? sendError(reply, 409, error.message, 'invalid_request_error', 'bundled_source', 'source')
            : sendError(reply, 404, error.message, 'invalid_request_error', 'source_not_found', 'source');
        }
      },
    );

    /** What profiling is doing: the run in progress, its queue, totals since start-up. */
    app.get('/admin/profiling', whitelistedQuery({}), async () => {
      const status = deps.coordinator.status();
      return {
        running: status.running,
        current_models: status.currentModels,
        queued_models: status.queuedModels,
        completed_count: status.completedCount,
        prompt_set_version: status.promptSetVersion,
        last_run_at: status.lastRunAt?.toISOString() ?? null,
        judge_fallbacks: status.judgeFallbacks,
      };
    });

    /** Stops the run in progress and the queued background profiling (ProfilerService.CancelProfiling). */
    app.post('/admin/profiling/cancel', whitelistedQuery({}), async (request, reply) => {
      if (request.body !== undefined && request.body !== null && !(typeof request.body === 'object' && Object.keys(request.body).length === 0)) {
        return sendError(reply, 400, 'POST /admin/profiling/cancel takes no body.', 'invalid_request_error', 'invalid_value', null);
      }
      const stopped = await deps.coordinator.cancel();
      return { cancelled: stopped !== undefined, models: stopped?.models ?? [], profiled_count: stopped?.summary.profiled.length ?? 0 };
    });

    // Empty and blank ids pass the schema so that both get the handler's one answer naming 'model'.
    const modelId = { type: 'string', maxLength: 256 };
    const modelList = { type: 'array', items: modelId, maxItems: 500 };
    const reprofileQuery = whitelistedQuery({ force: { type: 'boolean' }, model: modelList });
    app.post<{ Querystring: { force?: boolean; model?: string[] }; Body: ReprofileBody | undefined }>(
      '/admin/reprofile',
      {
        preValidation: reprofileQuery.preValidation,
        // The options may come as a JSON body too (what RPC-minded clients send). A body key the route
        // does not know is a 400: ignoring `{"models": [...]}` would start a run of every model.
        schema: {
          ...reprofileQuery.schema,
          body: { anyOf: [{ type: 'null' }, { type: 'object', properties: { model: { anyOf: [modelId, modelList] }, force: { type: 'boolean' } } }] },
        },
      },
      async (request, reply) => {
        const body = request.body ?? {};
        const unknownKey = Object.keys(body).find((k) => k !== 'model' && k !== 'force');
        if (unknownKey !== undefined) {
          return sendError(reply, 400, `Unknown parameter ${JSON.stringify(unknownKey.slice(0, 64))}: the body takes 'model' (an id or a list of ids) and 'force'.`, 'invalid_request_error', 'unknown_parameter', unknownKey.slice(0, 64));
        }
        const fromBody = body.model !== undefined || body.force !== undefined;
        if (fromBody && (request.query.model !== undefined || request.query.force !== undefined)) {
          return sendError(reply, 400, 'Give the options in the query string or in the body, not both.', 'invalid_request_error', 'invalid_value', null);
        }
        const models = fromBody ? (typeof body.model === 'string' ? [body.model] : (body.model ?? [])) : (request.query.model ?? []);
        const force = (fromBody ? body.force : request.query.force) ?? false;
        const { entries, unknown, unavailable, blank } = selectProfileEntries(deps.registry, models);
        if (blank > 0) {
          return sendError(reply, 400, "Invalid 'model': a model id must not be empty or blank (leave 'model' out to profile every model).", 'invalid_request_error', 'invalid_value', 'model');
        }
        if (unknown.length) return sendError(reply, 404, `Unknown model: ${unknown.map((n) => JSON.stringify(n.slice(0, 256))).join(', ')}.`, 'invalid_request_error', 'model_not_found', 'model');
        if (unavailable.length) {
          return sendError(reply, 409, `Not available now (backend down or model removed): ${unavailable.join(', ')}.`, 'invalid_request_error', 'model_unavailable', 'model');
        }
        try {
          const run = deps.coordinator.start({ entries, force });
          const plan = await run.planned;
          return reply.code(202).send({
            run_id: run.id,
            status: 'started',
            force,
            models: plan.models,
            skipped: plan.skipped.map((s) => ({ model: s.model, reason: s.reason })),
            prompt_set_version: deps.coordinator.promptSetVersion,
          });
        } catch (error) {
          if (error instanceof ProfilingBusyError) {
            return sendError(reply, 409, `${error.message}.`, 'invalid_request_error', 'profiling_in_progress');
          }
          return sendError(reply, 503, (error as Error).message, 'server_error', 'unavailable');
        }
      },
    );
  };
}
