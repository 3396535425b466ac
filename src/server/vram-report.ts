/**
 * What GET /admin/vram and AdminService.GetVram answer: the monitor's GPUs, history and warnings,
 * plus the models each backend holds in memory now (listed fresh by the VRAM manager) with their
 * sizes, measured or estimated. One implementation for both doors.
 */
import type { Config } from '../config/index.js';
import type { VramManager } from '../core/vram-manager.js';
import { BYTES_PER_GB, type VramMonitor, type VramSnapshot } from '../core/vram/index.js';

export interface LoadedModelReport {
  model: string;
  backend: string;
  sizeBytes: number;
  vramBytes: number;
  /**
   * Reported by the backend (Ollama size_vram, GGUF; vramBytes 0 for a model on the CPU) or measured
   * by nvidia-smi, rather than estimated.
   */
  measured: boolean;
  pinned: boolean;
  /** When the router last dispatched to the model (absent: not since start-up). */
  lastUsedAt?: Date;
}

export interface VramReport {
  snapshot: VramSnapshot;
  loadedModels: LoadedModelReport[];
  /** 0 when no budget is known (no ROUTER_VRAM_MAX_TOTAL_GB and no nvidia-smi total). */
  budgetGb: number;
}

const LOADED_TIMEOUT_MS = 2000;

export async function vramReport(monitor: VramMonitor | undefined, manager: VramManager, config: Pick<Config, 'vramMonitorEnabled'>): Promise<VramReport> {
  const snapshot: VramSnapshot = monitor?.snapshot() ?? {
    enabled: false,
    reason: config.vramMonitorEnabled ? 'not started' : 'disabled by ROUTER_VRAM_MONITOR_ENABLED=false',
    gpus: [],
    history: [],
    warnings: [],
  };
  // A backend that cannot answer keeps its last known models (the manager logs it).
  const loaded = await manager.loadedModels(AbortSignal.timeout(LOADED_TIMEOUT_MS)).catch(() => manager.loadedModelSizes());
  const loadedModels: LoadedModelReport[] = loaded.map((m) => {
    const report: LoadedModelReport = { model: m.key, backend: m.backend, sizeBytes: m.sizeBytes, vramBytes: m.vramBytes, measured: m.measured, pinned: m.pinned };
    if (m.lastUsedAt) report.lastUsedAt = m.lastUsedAt;
    return report;
  });
  return { snapshot, loadedModels, budgetGb: (manager.budgetBytes() ?? 0) / BYTES_PER_GB };
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
      last_used: m.lastUsedAt?.toISOString() ?? null,
    })),
  };
}
