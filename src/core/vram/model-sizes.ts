/**
 * How much VRAM each model takes: measured when a backend reports it (Ollama size_vram) or when the
 * nvidia-smi reading grew by it during a load, else estimated from parameter count and
 * quantisation (or the file size). Measurements are kept in memory and persisted through a tiny
 * store interface, so a restart knows them before the model loads again.
 */
import type { BackendModelInfo } from '../../plugin-api/index.js';
import { estimateModelVramBytes, estimateVramFromFileBytes } from './budget.js';

export interface MeasuredVram {
  /** Router-wide model id (registry key). */
  modelKey: string;
  vramBytes: number;
  measuredAt: Date;
}

/** Where measurements live between runs (src/db/model-vram-store.ts on SQLite). */
export interface ModelVramStore {
  /** Every stored measurement (read once at start-up). */
  loadAll(): Promise<MeasuredVram[]>;
  /** Stores or replaces one model's measurement; `model` describes it for stores that keep a model row. */
  save(measurement: MeasuredVram, model: { backend: string; info: BackendModelInfo }): Promise<void>;
}

export interface ModelSize {
  bytes: number;
  /** False when `bytes` is an estimate (or 0 when nothing is known). */
  measured: boolean;
}

/** A new reading within this fraction of the stored one is not worth a write. */
const REWRITE_TOLERANCE = 0.02;

export class ModelSizes {
  private readonly measurements = new Map<string, MeasuredVram>();

  constructor(
    private readonly store: ModelVramStore | undefined,
    private readonly onStoreError: (error: unknown) => void = () => {},
  ) {}

  /** Reads the stored measurements; a store that fails costs only the head start. */
  async init(): Promise<void> {
    if (!this.store) return;
    try {
      for (const m of await this.store.loadAll()) if (m.vramBytes > 0) this.measurements.set(m.modelKey, m);
    } catch (error) {
      this.onStoreError(error);
    }
  }

  measured(key: string): MeasuredVram | undefined {
    return this.measurements.get(key);
  }

  /** Measured size when known, else the estimate from what the backend says about the model. */
  sizeOf(key: string, info: BackendModelInfo | undefined): ModelSize {
    const measured = this.measurements.get(key);
    if (measured) return { bytes: measured.vramBytes, measured: true };
    return { bytes: info ? estimate(info) : 0, measured: false };
  }

  /** Records a measurement; persisted (in the background) when it is new or changed. */
  record(key: string, vramBytes: number, model: { backend: string; info: BackendModelInfo } | undefined, at = new Date()): void {
    if (!Number.isFinite(vramBytes) || vramBytes <= 0) return;
    const previous = this.measurements.get(key);
    const measurement: MeasuredVram = { modelKey: key, vramBytes: Math.round(vramBytes), measuredAt: at };
    this.measurements.set(key, measurement);
    if (previous && Math.abs(previous.vramBytes - vramBytes) <= previous.vramBytes * REWRITE_TOLERANCE) return;
    // A model the registry does not know (yet) has no row to describe: keep it in memory only.
    if (!this.store || !model) return;
    this.store.save(measurement, model).catch(this.onStoreError);
  }
}

export function estimate(info: BackendModelInfo): number {
  if (info.parameterCountB !== undefined && info.parameterCountB > 0) return estimateModelVramBytes(info.parameterCountB, info.quantization);
  return estimateVramFromFileBytes(info.sizeBytes ?? 0);
}
