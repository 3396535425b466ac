/**
 * What GET /admin/vram and AdminService.GetVram answer: the monitor's GPUs, history and warnings,
 * plus the models each backend reports in memory. One implementation for both doors.
 */
import type { Config } from '../config/index.js';
import type { ModelRegistry } from '../core/registry.js';
import { defaultBudgetGb, type VramMonitor, type VramSnapshot } from '../core/vram/index.js';

export interface LoadedModelReport {
  model: string;
  backend: string;
  sizeBytes: number;
  vramBytes: number;
  /** Reported by the backend (Ollama size_vram) rather than estimated. */
  measured: boolean;
  pinned: boolean;
}

export interface VramReport {
  snapshot: VramSnapshot;
  loadedModels: LoadedModelReport[];
  budgetGb: number;
}

const LOADED_TIMEOUT_MS = 2000;

export async function vramReport(monitor: VramMonitor | undefined, registry: ModelRegistry, config: Config): Promise<VramReport> {
  const snapshot: VramSnapshot = monitor?.snapshot() ?? {
    enabled: false,
    reason: 'disabled by ROUTER_VRAM_MONITOR_ENABLED=false',
    gpus: [],
    history: [],
    warnings: [],
  };
  const entries = registry.entriesList();
  const loadedModels: LoadedModelReport[] = [];
  await Promise.all(
    registry.backends
      .filter((b) => b.capabilities.loadedModels)
      .map(async (backend) => {
        try {
          const loaded = await backend.loadedModels({ signal: AbortSignal.timeout(LOADED_TIMEOUT_MS) });
          for (const m of loaded) {
            const key = entries.find((e) => e.backend === backend && e.info.id === m.id)?.key ?? m.id;
            loadedModels.push({
              model: key,
              backend: backend.name,
              sizeBytes: m.sizeBytes,
              vramBytes: m.vramBytes,
              measured: m.vramBytes > 0,
              pinned: config.pinnedModel !== undefined && (key === config.pinnedModel || m.id === config.pinnedModel),
            });
          }
        } catch {
          // A backend that cannot answer simply contributes no loaded models to the report.
        }
      }),
  );
  loadedModels.sort((a, b) => a.model.localeCompare(b.model));
  const totalGb = snapshot.gpus.reduce((sum, g) => sum + g.totalGb, 0);
  return { snapshot, loadedModels, budgetGb: config.vramMaxTotalGb ?? defaultBudgetGb(totalGb) };
}

/** snake_case JSON for REST. */
export function vramReportJson(r: VramReport) {
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    monitoring_enabled: r.snapshot.enabled,
    reason: r.snapshot.reason ?? null,
    sampled_at: r.snapshot.sampledAt?.toISOString() ?? null,
    budget_gb: round(r.budgetGb),
    gpus: r.snapshot.gpus.map((g) => ({
      index: g.index,
      name: g.name,
      total_gb: round(g.totalGb),
      used_gb: round(g.usedGb),
      free_gb: round(g.freeGb),
      utilization_pct: round(g.memoryUtilizationPct),
    })),
    warnings: r.snapshot.warnings.map((w) => ({ gpu: w.gpu, level: w.level, message: w.message })),
    history: r.snapshot.history.map((h) => ({ at: h.at.toISOString(), gpus: h.gpus.map((g) => ({ index: g.index, used_gb: round(g.usedGb) })) })),
    loaded_models: r.loadedModels.map((m) => ({
      model: m.model,
      backend: m.backend,
      size_bytes: m.sizeBytes,
      vram_bytes: m.vramBytes,
      measured: m.measured,
      pinned: m.pinned,
    })),
  };
}
