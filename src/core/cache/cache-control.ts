/**
 * The client's say over caching, from an HTTP Cache-Control header (REST) or the same header sent
 * as RPC metadata. `no-cache`: do not answer from a cache (the fresh answer may be stored);
 * `no-store`: neither answer from nor store into a cache. `Pragma: no-cache` is HTTP/1.0's no-cache.
 */
export interface CacheControl {
  noCache?: boolean;
  noStore?: boolean;
}

export function parseCacheControl(cacheControl: string | string[] | null | undefined, pragma?: string | string[] | null): CacheControl | undefined {
  const directives = new Set<string>();
  for (const header of [cacheControl, pragma]) {
    if (header == null) continue;
    for (const value of Array.isArray(header) ? header : [header]) {
      for (const d of value.split(',')) directives.add(d.trim().toLowerCase().split('=')[0]!.trim());
    }
  }
  const noCache = directives.has('no-cache');
  const noStore = directives.has('no-store');
  if (!noCache && !noStore) return undefined;
  return { ...(noCache ? { noCache } : {}), ...(noStore ? { noStore } : {}) };
}
