/**
 * Builds the VRAM manager from the configuration, with per-model VRAM persisted in SQLite
 * (src/db/model-vram-store.ts). Kept out of wiring.ts so the composition there stays one line.
 */
import type { Config } from '../config/index.js';
import type { ModelRegistry } from '../core/registry.js';
import { VramManager, type VramManagerSettings } from '../core/vram-manager.js';
import type { Database } from '../db/index.js';
import { SqlModelVramStore } from '../db/model-vram-store.js';
import type { Logger } from './logger.js';

export function vramManagerSettings(config: Config): VramManagerSettings {
  return {
    maxTotalGb: config.vramMaxTotalGb,
    autoUnloadEnabled: config.vramAutoUnloadEnabled,
    unloadThresholdPct: config.vramUnloadThresholdPct,
    pinnedModel: config.pinnedModel,
  };
}

export async function createVramManager(config: Config, registry: ModelRegistry, db: Database, logger: Logger): Promise<VramManager> {
  const manager = new VramManager({
    registry,
    settings: vramManagerSettings(config),
    store: new SqlModelVramStore(db),
    logger: logger.child({ component: 'vram-manager' }),
  });
  await manager.init();
  return manager;
}
