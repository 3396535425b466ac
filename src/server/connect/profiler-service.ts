/**
 * ProfilerService: starts and watches profiling runs (Reprofile streams progress; cancelling the
 * RPC stops watching, not the run: CancelProfiling stops it), profiles one model, reports status,
 * imports benchmarks. All of
 * it goes through the coordinator, so an RPC, the REST trigger and discovery never run two
 * profiling runs at once: a second one is ABORTED.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import {
  CancelProfilingResponseSchema,
  GetStatusResponseSchema,
  ProfileModelResponseSchema,
  ProfilerService,
  ReprofileResponseSchema,
  ReprofileState,
  SourceResultSchema,
  SyncBenchmarksResponseSchema,
} from '../../../gen/smarterrouter/v1/profiler_pb.js';
import { ProfilingBusyError, type RunEvent, type RunState } from '../../core/profiling/coordinator.js';
import { profileView } from '../../core/profiling/listing.js';
import type { RegistryEntry } from '../../core/registry.js';
import { selectProfileEntries } from '../../core/profiling/select.js';
import { importBenchmarkSources, ImportRequestError } from '../benchmark-import.js';
import type { KnowledgeServices } from '../wiring.js';
import { toProtoProfile } from './admin-knowledge.js';
import { CATEGORIES } from './proto-mapping.js';

const STATES: Record<RunState, ReprofileState> = {
  started: ReprofileState.STARTED,
  prompt_done: ReprofileState.PROMPT_DONE,
  model_done: ReprofileState.MODEL_DONE,
  model_skipped: ReprofileState.MODEL_SKIPPED,
  model_failed: ReprofileState.MODEL_FAILED,
  finished: ReprofileState.FINISHED,
};

/** Most sources one SyncBenchmarks call may name. */

export function toReprofileResponse(event: RunEvent) {
  return create(ReprofileResponseSchema, {
    model: event.model,
    category: event.category ? CATEGORIES[event.category] : undefined,
    promptIndex: event.promptIndex,
    promptCount: event.promptCount,
    modelIndex: event.modelIndex,
    modelCount: event.modelCount,
    elapsedSeconds: event.elapsedMs / 1000,
    etaSeconds: event.etaMs === undefined ? undefined : event.etaMs / 1000,
    state: STATES[event.state],
    message: event.message,
  });
}

/** The named models (all available chat models when none), or NOT_FOUND / FAILED_PRECONDITION naming the rest. */
export function selectEntries(registry: KnowledgeServices['registry'], names: readonly string[]): RegistryEntry[] {
  const { entries, unknown, unavailable } = selectProfileEntries(registry, names);
  if (unknown.length) throw new ConnectError(`unknown model${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (see RouterService.ListModels)`, Code.NotFound);
  if (unavailable.length) {
    throw new ConnectError(`model${unavailable.length > 1 ? 's' : ''} not available now (backend down or model removed): ${unavailable.join(', ')}`, Code.FailedPrecondition);
  }
  return entries;
}

function startRun(deps: KnowledgeServices, entries: RegistryEntry[], force: boolean) {
  try {
    return deps.coordinator.start({ entries, force });
  } catch (error) {
    if (error instanceof ProfilingBusyError) throw new ConnectError(error.message, Code.Aborted);
    throw new ConnectError((error as Error).message, Code.Unavailable);
  }
}

export function createProfilerService(deps: KnowledgeServices): Partial<ServiceImpl<typeof ProfilerService>> {
  return {
    async *reprofile(request, ctx) {
      const models = request.models.map((m) => m.trim());
      // An empty list means every model; an empty id inside it is a mistake, never "all models".
      if (models.some((m) => m === '')) {
        throw new ConnectError('models must not contain empty ids (leave models empty to profile every model)', Code.InvalidArgument);
      }
      const handle = startRun(deps, selectEntries(deps.registry, models), request.force);
      for await (const event of handle.events(ctx.signal)) yield toReprofileResponse(event);
    },

    async profileModel(request) {
      const name = request.model.trim();
      if (!name) throw new ConnectError('model is required (a model id as RouterService.ListModels returns it)', Code.InvalidArgument);
      const [entry] = selectEntries(deps.registry, [name]);
      if (!entry.info.capabilities.chat) throw new ConnectError(`${entry.key} is not a chat model (embedding-only): there is nothing to profile`, Code.FailedPrecondition);
      // The run goes on if the client leaves; its result is stored either way.
      const summary = await startRun(deps, [entry], request.force).done;
      if (summary.cancelled) throw new ConnectError('profiling was cancelled by an admin (ProfilerService.CancelProfiling); prompts answered so far are stored', Code.Aborted);
      if (summary.aborted) throw new ConnectError('profiling was aborted: the router is shutting down', Code.Unavailable);
      if (summary.error) throw new ConnectError(`profiling stopped: ${summary.error}`, Code.Internal);
      const stored = deps.knowledge.profile(entry.key);
      const skipped = summary.skipped.some((s) => s.model === entry.key);
      return create(ProfileModelResponseSchema, { profile: stored ? toProtoProfile(profileView(entry.key, stored)) : undefined, skipped });
    },

    async cancelProfiling() {
      const stopped = await deps.coordinator.cancel();
      return create(CancelProfilingResponseSchema, {
        cancelled: stopped !== undefined,
        models: stopped?.models ?? [],
        profiledCount: stopped?.summary.profiled.length ?? 0,
      });
    },

    getStatus() {
      const status = deps.coordinator.status();
      return create(GetStatusResponseSchema, {
        running: status.running,
        currentModel: status.currentModels.join(', '),
        queuedModels: status.queuedModels,
        completedCount: status.completedCount,
        promptSetVersion: status.promptSetVersion,
        lastRunAt: status.lastRunAt ? timestampFromDate(status.lastRunAt) : undefined,
      });
    },

    async syncBenchmarks(request) {
      let outcome;
      try {
        outcome = await importBenchmarkSources(deps.syncBenchmarks, request.sources);
      } catch (error) {
        if (error instanceof ImportRequestError) throw new ConnectError(error.message, Code.InvalidArgument);
        throw error;
      }
      return create(SyncBenchmarksResponseSchema, {
        results: outcome.results.map((r) => create(SourceResultSchema, { source: r.source, ok: r.ok, rows: r.rows, error: r.error ?? '' })),
        rowsTotal: outcome.rowsTotal,
      });
    },
  };
}
