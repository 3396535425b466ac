/**
 * Piscina worker entry for the semantic index: `search` scans a range of rows of a shared store.
 *
 * The store's shared memory travels once per worker and again only when the store grows: a task
 * names the store and its layout version, and a worker without that version answers 'layout-miss'
 * so the main thread resends the task with the layout attached (src/workers/worker-index.ts). Only
 * the query (a few kB) is copied per task.
 */
import { scanRows, openStore, type RawMatches, type ScanRequest, type StoreViews } from './vector-scan.js';
import type { StoreLayout } from './vector-layout.js';

export interface SearchTask extends ScanRequest {
  storeId: string;
  version: number;
  layout?: StoreLayout;
  /** Test hook (VectorPool.failNextTaskForTest): the worker exits mid-task, as a crash would. */
  exitForTest?: boolean;
}

export type SearchReply = { kind: 'layout-miss' } | ({ kind: 'matches' } & RawMatches);

/** Stores this worker has views of, least recently used first; closed stores age out. */
const stores = new Map<string, StoreViews>();
const MAX_STORES = 8;

export function search(task: SearchTask): SearchReply {
  if (task.exitForTest) process.exit(1);
  let store = stores.get(task.storeId);
  if (task.layout && (!store || store.layout.version < task.layout.version)) {
    // The compiled kernel is reused; only the instance is bound to this store's memory.
    store = openStore(task.layout);
  }
  if (!store || store.layout.version < task.version) return { kind: 'layout-miss' };
  stores.delete(task.storeId);
  stores.set(task.storeId, store);
  if (stores.size > MAX_STORES) stores.delete(stores.keys().next().value!);
  return { kind: 'matches', ...scanRows(store, task) };
}
