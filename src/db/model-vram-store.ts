/**
 * Per-model VRAM measurements on SQLite, in the `models` table's vram_bytes / vram_measured_at
 * columns (created by migration 0001). The one place that stores them: the VRAM manager writes here
 * when a backend reports a model's VRAM or nvidia-smi measured it during a load.
 *
 * A model may not have a row yet (rows are written by discovery), so a save inserts a minimal row
 * from what the backend says and, when the row exists, updates only the two VRAM columns: whoever
 * else upserts `models` must likewise leave those columns alone.
 */
import type { BackendModelInfo } from '../plugin-api/index.js';
import type { MeasuredVram, ModelVramStore } from '../core/vram/model-sizes.js';
import type { Database } from './index.js';
import { dbTime, readTime } from './dialect.js';

interface Row {
  key: string;
  vram_bytes: number | string | null;
  vram_measured_at: number | string | Date | null;
}

export class SqlModelVramStore implements ModelVramStore {
  constructor(private readonly db: Database) {}

  async loadAll(): Promise<MeasuredVram[]> {
    const rows: Row[] = await this.db.em.getKnex()('models').select('key', 'vram_bytes', 'vram_measured_at').whereNotNull('vram_bytes');
    return rows
      .map((r) => ({ modelKey: r.key, vramBytes: Number(r.vram_bytes), measuredAt: toDate(r.vram_measured_at) }))
      .filter((m) => Number.isFinite(m.vramBytes) && m.vramBytes > 0);
  }

  async save(measurement: MeasuredVram, model: { backend: string; info: BackendModelInfo }): Promise<void> {
    // As MikroORM stores datetimes on this engine, so entity reads agree (dialect.ts).
    const at = dbTime(this.db, measurement.measuredAt);
    const info = model.info;
    await this.db.em
      .getKnex()('models')
      .insert({
        key: measurement.modelKey,
        backend: model.backend,
        model_id: info.id,
        family: info.family ?? null,
        parameter_count_b: info.parameterCountB ?? null,
        quantization: info.quantization ?? null,
        context_length: info.contextLength ?? null,
        capabilities: JSON.stringify(info.capabilities),
        size_bytes: info.sizeBytes ?? null,
        digest: info.digest ?? null,
        available: true,
        vram_bytes: Math.round(measurement.vramBytes),
        vram_measured_at: at,
        first_seen_at: at,
        last_seen_at: at,
      })
      .onConflict('key')
      .merge(['vram_bytes', 'vram_measured_at']);
  }
}

function toDate(value: number | string | Date | null): Date {
  return value === null ? new Date(0) : readTime(value);
}
