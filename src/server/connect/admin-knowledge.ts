/**
 * AdminService.ListProfiles and ListBenchmarks: the stored profiles and the public benchmark
 * figures matched to known models, page by page. The listing itself (filter, whitelisted sort,
 * paging) is src/core/profiling/listing.ts, shared with GET /admin/profiles and /admin/benchmarks;
 * this file maps it to proto messages and ListingError to INVALID_ARGUMENT.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import {
  AdminService,
  BenchmarkRowSchema,
  BenchmarkSourceSchema,
  DeleteBenchmarkSourceResponseSchema,
  ListBenchmarkSourcesResponseSchema,
  ListBenchmarksResponseSchema,
  ListProfilesResponseSchema,
} from '../../../gen/smarterrouter/v1/admin_pb.js';
import { CategoryScoreSchema, ProfileSchema, type Profile } from '../../../gen/smarterrouter/v1/common_pb.js';
import {
  BENCHMARK_SORT_FIELDS,
  PROFILE_SORT_FIELDS,
  ListingError,
  benchmarkViews,
  decodePageToken,
  encodePageToken,
  listBenchmarks,
  listProfiles,
  parsePageSize,
  parseSort,
  type BenchmarkView,
  type ProfileView,
} from '../../core/profiling/listing.js';
import { SourceRemovalError } from '../../db/benchmark-store.js';
import type { KnowledgeServices } from '../wiring.js';
import { CATEGORIES } from './proto-mapping.js';

/** The proto Profile of one listing view (also ProfilerService.ProfileModel's answer). */
export function toProtoProfile(view: ProfileView): Profile {
  return create(ProfileSchema, {
    model: view.model,
    backend: view.backend,
    scores: view.categories.map((c) => create(CategoryScoreSchema, { category: CATEGORIES[c.category], score: c.score, promptCount: c.prompts })),
    ttftMs: view.ttftMs ?? 0,
    tokensPerSecond: view.tokensPerSecond ?? 0,
    totalLatencyMs: view.totalLatencyMs ?? 0,
    failures: view.failures,
    timeouts: view.timeouts,
    vramBytes: BigInt(Math.max(0, Math.round(view.vramBytes ?? 0))),
    profiledAt: view.profiledAt ? timestampFromDate(view.profiledAt) : undefined,
    promptSetVersion: view.promptSetVersion,
  });
}

function toProtoBenchmarkRow(view: BenchmarkView) {
  return create(BenchmarkRowSchema, {
    model: view.model,
    matchedEntry: view.matchedEntry,
    benchmark: view.benchmark,
    score: view.score,
    scale: view.scale,
    normalizedScore: view.normalizedScore,
    source: view.source,
    sourceUrl: view.sourceUrl ?? '',
    fetchedAt: view.fetchedAt ? timestampFromDate(view.fetchedAt) : undefined,
  });
}

/** Runs a listing step, turning bad input into INVALID_ARGUMENT that names the field. */
function validated<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ListingError) throw new ConnectError(error.message, Code.InvalidArgument);
    throw error;
  }
}

export function createKnowledgeAdmin(
  deps: Pick<KnowledgeServices, 'knowledge' | 'registry' | 'benchmarkSources' | 'deleteBenchmarkSource'>,
): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async listBenchmarkSources() {
      const sources = await deps.benchmarkSources();
      return create(ListBenchmarkSourcesResponseSchema, {
        sources: sources.map((s) =>
          create(BenchmarkSourceSchema, { source: s.source, sourceUrl: s.sourceUrl ?? '', rows: s.rows, entries: s.entries, fetchedAt: timestampFromDate(s.fetchedAt), bundled: s.bundled }),
        ),
      });
    },

    async deleteBenchmarkSource(request) {
      if (request.source.trim() === '') throw new ConnectError('source is required: the path or URL it was imported from, or its source id', Code.InvalidArgument);
      try {
        return create(DeleteBenchmarkSourceResponseSchema, { deleted: await deps.deleteBenchmarkSource(request.source) });
      } catch (error) {
        if (error instanceof SourceRemovalError) throw new ConnectError(error.message, error.code === 'bundled' ? Code.FailedPrecondition : Code.NotFound);
        throw error;
      }
    },

    listProfiles(request) {
      const { query, page } = validated(() => {
        const base = { model: request.model.trim(), sortBy: parseSort(request.sortBy, PROFILE_SORT_FIELDS, 'sort_by'), descending: request.descending };
        const query = { ...base, limit: parsePageSize(request.pageSize, 'page_size'), offset: decodePageToken(request.pageToken, base) };
        return { query, page: listProfiles(deps.knowledge.profiles(), query) };
      });
      return create(ListProfilesResponseSchema, {
        profiles: page.items.map(toProtoProfile),
        nextPageToken: page.nextOffset === undefined ? '' : encodePageToken(query, page.nextOffset),
      });
    },

    listBenchmarks(request) {
      const { query, page } = validated(() => {
        const base = {
          model: request.model.trim(),
          benchmark: request.benchmark.trim(),
          sortBy: parseSort(request.sortBy, BENCHMARK_SORT_FIELDS, 'sort_by'),
          descending: request.descending,
        };
        const query = { ...base, limit: parsePageSize(request.pageSize, 'page_size'), offset: decodePageToken(request.pageToken, base) };
        const models = deps.registry.entriesList().map((e) => ({ key: e.key, backend: e.backend.name, modelId: e.info.id }));
        return { query, page: listBenchmarks(benchmarkViews(models, deps.knowledge.benchmarks), query) };
      });
      return create(ListBenchmarksResponseSchema, {
        rows: page.items.map(toProtoBenchmarkRow),
        nextPageToken: page.nextOffset === undefined ? '' : encodePageToken(query, page.nextOffset),
      });
    },
  };
}
