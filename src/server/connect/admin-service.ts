/**
 * AdminService: the methods built so far (ListPlugins); the rest answer UNIMPLEMENTED naming their
 * capability (see routes.ts).
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import type { BackendSpec } from '../../config/index.js';
import {
  AdminService,
  GetVramResponseSchema,
  GpuInfoSchema,
  GpuUsageSchema,
  LoadedModelSchema,
  VramSampleSchema,
  VramWarningSchema,
  WatchVramResponseSchema,
  ListPluginsResponseSchema,
  PluginInfoSchema,
  PluginKind,
  PluginSource,
} from '../../../gen/smarterrouter/v1/admin_pb.js';
import type { PluginRegistry } from '../../plugins/loader.js';
import { describePlugins, type JudgesInUse } from '../plugins-info.js';
import type { GpuMemory, VramMonitor, VramSample, VramWarning } from '../../core/vram/index.js';
import type { VramReport } from '../vram-report.js';

const KIND = { backend: PluginKind.BACKEND, classifier: PluginKind.CLASSIFIER, judge: PluginKind.JUDGE } as const;
const SOURCE = { builtin: PluginSource.BUILTIN, package: PluginSource.PACKAGE, path: PluginSource.PATH } as const;

export interface AdminServiceDeps {
  plugins: PluginRegistry;
  backendSpecs: readonly BackendSpec[];
  /** Which judges are in use (the plugin listing marks them). */
  judges?: JudgesInUse;
  vram: () => Promise<VramReport>;
  vramMonitor?: VramMonitor;
}

const gpuInfo = (g: GpuMemory) =>
  create(GpuInfoSchema, { index: g.index, name: g.name, totalGb: g.totalGb, usedGb: g.usedGb, freeGb: g.freeGb, utilizationPct: g.memoryUtilizationPct });
const warning = (w: VramWarning) => create(VramWarningSchema, { level: w.level, message: w.message });

export function createAdminService(deps: AdminServiceDeps): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async getVram() {
      const r = await deps.vram();
      return create(GetVramResponseSchema, {
        gpus: r.snapshot.gpus.map(gpuInfo),
        history: r.snapshot.history.map((h) =>
          create(VramSampleSchema, {
            timestamp: timestampFromDate(h.at),
            gpus: h.gpus.map((g) => create(GpuUsageSchema, { index: g.index, usedGb: g.usedGb })),
          }),
        ),
        loadedModels: r.loadedModels.map((m) =>
          create(LoadedModelSchema, {
            model: m.model,
            backend: m.backend,
            sizeBytes: BigInt(Math.max(0, Math.round(m.sizeBytes))),
            vramBytes: BigInt(Math.max(0, Math.round(m.vramBytes))),
            measured: m.measured,
            pinned: m.pinned,
            lastUsed: m.lastUsedAt ? timestampFromDate(m.lastUsedAt) : undefined,
          }),
        ),
        warnings: r.snapshot.warnings.map(warning),
        monitoringEnabled: r.snapshot.enabled,
        budgetGb: r.budgetGb,
      });
    },

    /** One message per monitor sample until the client cancels. */
    async *watchVram(_request, ctx) {
      const monitor = deps.vramMonitor;
      if (!monitor || !monitor.snapshot().enabled) {
        throw new ConnectError(
          `VRAM monitoring is off: ${monitor?.snapshot().reason ?? 'disabled by ROUTER_VRAM_MONITOR_ENABLED=false'}`,
          Code.FailedPrecondition,
        );
      }
      const queue: VramSample[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = monitor.onSample((sample) => {
        queue.push(sample);
        if (queue.length > 16) queue.shift(); // a slow client sees the newest samples, not a growing backlog
        wake?.();
      });
      const onAbort = () => wake?.();
      ctx.signal.addEventListener('abort', onAbort);
      try {
        while (!ctx.signal.aborted) {
          const sample = queue.shift();
          if (!sample) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          yield create(WatchVramResponseSchema, { timestamp: timestampFromDate(sample.at), gpus: sample.gpus.map(gpuInfo), warnings: sample.warnings.map(warning) });
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },

    listPlugins() {
      return create(ListPluginsResponseSchema, {
        plugins: describePlugins(deps.plugins, deps.backendSpecs, deps.judges).map((p) =>
          create(PluginInfoSchema, {
            name: p.name,
            version: p.version,
            kind: KIND[p.kind],
            specificationVersion: p.specificationVersion,
            source: SOURCE[p.source],
            location: p.source === 'builtin' ? '' : p.location,
            instances: p.instances,
            description: p.description ?? '',
          }),
        ),
      });
    },
  };
}
