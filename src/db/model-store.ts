/**
 * The `models` table: every model any backend ever listed. Discovery syncs it each round; a model
 * that vanished (or whose backend is down) is marked unavailable and keeps its row, so its profile
 * and history stay attached. New weights under the same name (digest or size changed) update the
 * row and drop the VRAM measured on the old ones.
 */
import type { DiscoveredModel, ModelRepository, ModelSyncResult } from '../core/discovery.js';
import type { Database } from './index.js';
import type { EntityData, RequiredEntityData } from '@mikro-orm/core';
import { ModelEntity, type ModelRecord } from './entities.js';

export class ModelStore implements ModelRepository {
  constructor(private readonly db: Database) {}

  async sync(models: readonly DiscoveredModel[], seenAt: Date): Promise<ModelSyncResult> {
    const result: ModelSyncResult = { added: [], changed: [], vanished: [], returned: [] };
    const em = this.db.em.fork();
    // A plain transaction and native writes: em.transactional() and em.flush() enter an
    // AsyncLocalStorage, which taxes every promise of the process from then on (src/db/index.ts).
    await em.getConnection().transactional(async (ctx) => {
      const stored = new Map((await em.find(ModelEntity, {}, { ctx, disableIdentityMap: true })).map((r) => [r.key, r]));
      const inserts: Array<RequiredEntityData<ModelRecord>> = [];
      const updates: Array<{ key: string; data: EntityData<ModelRecord> }> = [];
      const seen = new Set<string>();
      for (const m of models) {
        if (seen.has(m.key)) continue;
        seen.add(m.key);
        const fields = {
          backend: m.backend,
          modelId: m.info.id,
          family: m.info.family ?? null,
          parameterCountB: m.info.parameterCountB ?? null,
          quantization: m.info.quantization ?? null,
          contextLength: m.info.contextLength ?? null,
          capabilities: JSON.stringify(m.info.capabilities),
          sizeBytes: m.info.sizeBytes ?? null,
          digest: m.info.digest ?? null,
        };
        const row = stored.get(m.key);
        if (!row) {
          inserts.push({ key: m.key, ...fields, available: m.available, firstSeenAt: seenAt, lastSeenAt: seenAt });
          result.added.push(m.key);
          continue;
        }
        const data: EntityData<ModelRecord> = { available: m.available };
        // Compared only when the backend reports the value: a listing without digests is not a change.
        const digestChanged = fields.digest !== null && (row.digest ?? null) !== fields.digest;
        const sizeChanged = fields.sizeBytes !== null && row.sizeBytes != null && Number(row.sizeBytes) !== fields.sizeBytes;
        if (digestChanged || sizeChanged) {
          result.changed.push(m.key);
          data.vramBytes = null;
          data.vramMeasuredAt = null;
        }
        if (m.available && !row.available) result.returned.push(m.key);
        if (!m.available && row.available) result.vanished.push(m.key);
        // A listing from a backend that is down repeats old info: keep what was stored.
        if (m.available) Object.assign(data, fields, { lastSeenAt: seenAt });
        updates.push({ key: m.key, data });
      }
      for (const row of stored.values()) {
        if (!seen.has(row.key) && row.available) {
          updates.push({ key: row.key, data: { available: false } });
          result.vanished.push(row.key);
        }
      }
      if (inserts.length) await em.insertMany<ModelRecord>(ModelEntity, inserts as ModelRecord[], { ctx });
      for (const { key, data } of updates) await em.nativeUpdate(ModelEntity, { key }, data, { ctx });
    });
    return result;
  }

  /** Records the VRAM a model used while profiled. */
  async setVram(key: string, bytes: number, at = new Date()): Promise<void> {
    if (!Number.isFinite(bytes) || bytes <= 0) return;
    await this.db.em.fork().nativeUpdate(ModelEntity, { key }, { vramBytes: Math.round(bytes), vramMeasuredAt: at });
  }

  async get(key: string): Promise<ModelRecord | undefined> {
    return (await this.db.em.fork().findOne(ModelEntity, { key })) ?? undefined;
  }

  /** Every stored model, by key. */
  async all(): Promise<Map<string, ModelRecord>> {
    const rows = await this.db.em.fork().find(ModelEntity, {}, { orderBy: { key: 'asc' } });
    return new Map(rows.map((r) => [r.key, r]));
  }
}

/** A stored profile with what the models table knows of its model (backend, availability, VRAM). */
export function withModelFacts<P extends object>(
  profile: P,
  model: ModelRecord | undefined,
): P & { backend?: string; modelId?: string; available?: boolean; vramBytes?: number | null } {
  if (!model) return profile;
  return { ...profile, backend: model.backend, modelId: model.modelId, available: model.available, vramBytes: model.vramBytes == null ? null : Number(model.vramBytes) };
}
