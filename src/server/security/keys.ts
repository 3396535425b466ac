/**
 * Bearer keys compared in constant time. Both sides are hashed to fixed-length SHA-256 digests first,
 * so timingSafeEqual never sees different lengths (which would leak a key's length), and every
 * configured key is compared on every check (no early exit that would tell which one matched).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export class KeyRing {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.filter((k) => k.length > 0).map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  has(token: string | undefined): boolean {
    if (token === undefined || this.digests.length === 0) return false;
    const candidate = digest(token);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(candidate, known) || found;
    return found;
  }
}

/**
 * The key of an `Authorization` header (scheme case-insensitive), else undefined:
 * - `Bearer <key>`: API clients, SDKs, buf curl, the CLI;
 * - `Basic base64(<any user>:<key>)`: browsers, which cannot add a Bearer header to a page load but
 *   prompt for Basic credentials and then send them with every request of the dashboard.
 */
export function bearerToken(header: string | string[] | null | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
  if (bearer) return bearer[1];
  const basic = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(value);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  return password.length > 0 ? password : undefined;
}

/**
 * A stable, non-reversible name for a key, used as the rate-limit bucket: the raw key never sits in
 * the limiter's store (which may be Redis one day) or in logs.
 */
export function keyId(token: string): string {
  return digest(token).subarray(0, 12).toString('hex');
}

/**
 * The cache scope of a request (RouteRequest.cacheScope): the keyId of whatever key it sent. Auth has
 * checked the key before a handler runs when ROUTER_API_KEYS is set; without keys, different
 * made-up keys only mean fewer shared hits, never a leak.
 */
export function credentialScope(authorization: string | string[] | null | undefined): string | undefined {
  const token = bearerToken(authorization);
  return token === undefined ? undefined : keyId(token);
}
