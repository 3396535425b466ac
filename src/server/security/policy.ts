/**
 * The access rules, free of any transport: given the surface, the Authorization header and the client
 * address, allow or refuse with a reason. The REST hook and the Connect interceptor both ask this, so
 * a rule is written once.
 */
import { isLoopbackAddress } from './addresses.js';
import { bearerToken, keyId, KeyRing } from './keys.js';
import type { Surface } from './surface.js';

export interface AccessOptions {
  /** ROUTER_ADMIN_API_KEY; unset = admin surfaces answer loopback clients only. */
  adminApiKey?: string;
  /** ROUTER_API_KEYS; empty = /v1 and RouterService are open. */
  apiKeys: readonly string[];
  /**
   * Which client addresses count as local; injectable so an embedding can trust e.g. a sidecar.
   * Asked for every address of the request's chain (addresses.ts addressChain): all must be local.
   */
  isLocalClient?: (address: string | undefined) => boolean;
}

export type Refusal = {
  ok: false;
  /** 401: no or wrong key; 403: the right place, the wrong client (admin from afar with no admin key set). */
  status: 401 | 403;
  code: 'invalid_api_key' | 'admin_loopback_only';
  message: string;
};
export type Verdict = { ok: true } | Refusal;

const ALLOWED: Verdict = { ok: true };

export class AccessPolicy {
  private readonly admin: KeyRing;
  private readonly clients: KeyRing;
  private readonly isLocal: (address: string | undefined) => boolean;

  constructor(options: AccessOptions) {
    this.admin = new KeyRing(options.adminApiKey ? [options.adminApiKey] : []);
    this.clients = new KeyRing(options.apiKeys);
    this.isLocal = options.isLocalClient ?? isLoopbackAddress;
  }

  get adminKeySet(): boolean {
    return this.admin.size > 0;
  }

  /**
   * `client` is the request's address chain (socket peer first, then any trusted proxy hops), or one
   * address; the admin loopback rule needs every address in it to be local.
   */
  check(surface: Surface, authorization: string | string[] | null | undefined, client: string | readonly string[] | undefined): Verdict {
    switch (surface) {
      case 'health':
      case 'open':
        return ALLOWED;
      case 'metrics':
        // Scrapers usually send nothing: open until an admin key exists, then it is required.
        return this.adminKeySet ? this.requireAdminKey(authorization) : ALLOWED;
      case 'admin':
        if (this.adminKeySet) return this.requireAdminKey(authorization);
        return this.isLocalChain(client)
          ? ALLOWED
          : refuse(403, 'admin_loopback_only', 'Admin endpoints answer only clients on this machine while ROUTER_ADMIN_API_KEY is unset.');
      case 'client': {
        if (this.clients.size === 0) return ALLOWED;
        const token = bearerToken(authorization);
        if (token === undefined) return refuse(401, 'invalid_api_key', 'This router needs an API key: send Authorization: Bearer <key>.');
        // The admin key opens everything an API key opens.
        return this.clients.has(token) || this.admin.has(token) ? ALLOWED : refuse(401, 'invalid_api_key', 'Incorrect API key provided.');
      }
    }
  }

  /**
   * The rate-limit identity of a request: a hash of its key when the key is valid, else undefined (the
   * caller then uses the IP). An unchecked key must not pick the bucket, or a client would get a
   * fresh allowance with every made-up key.
   */
  clientKeyOf(authorization: string | string[] | null | undefined): string | undefined {
    const token = bearerToken(authorization);
    if (token === undefined) return undefined;
    return this.clients.has(token) || this.admin.has(token) ? keyId(token) : undefined;
  }

  private isLocalChain(client: string | readonly string[] | undefined): boolean {
    if (typeof client === 'string' || client === undefined) return this.isLocal(client);
    return client.length > 0 && client.every((address) => this.isLocal(address));
  }

  private requireAdminKey(authorization: string | string[] | null | undefined): Verdict {
    const token = bearerToken(authorization);
    if (token === undefined) return refuse(401, 'invalid_api_key', 'Admin endpoints need ROUTER_ADMIN_API_KEY: send Authorization: Bearer <key>.');
    return this.admin.has(token) ? ALLOWED : refuse(401, 'invalid_api_key', 'Incorrect admin API key provided.');
  }
}

function refuse(status: Refusal['status'], code: Refusal['code'], message: string): Refusal {
  return { ok: false, status, code, message };
}
