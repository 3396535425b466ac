/**
 * ROUTER_TRUST_PROXY: which peers may tell us the client's address in X-Forwarded-For, with fastify's
 * `trustProxy` semantics (it is handed to fastify as is):
 *   false (default)   nobody; the client is the socket peer, X-Forwarded-For is ignored
 *   true              every peer (only when nothing can reach the router but the proxy)
 *   <n>               the n closest hops, whoever they are
 *   a,b/16,loopback   peers at these addresses / CIDRs (proxy-addr also knows the names loopback,
 *                     linklocal and uniquelocal)
 * Parsed here so a typo stops start-up with the variable's name instead of a proxy-addr stack trace.
 */
import net from 'node:net';
import { ConfigError, type VariableSpec } from './spec.js';

export type TrustProxy = boolean | number | string[];

const NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

export function trustProxy(env: string, description: string, o: { group: string }): VariableSpec<TrustProxy> {
  return {
    env,
    defaultText: 'false',
    description,
    group: o.group,
    fallback: false,
    parse(raw) {
      const v = raw.toLowerCase();
      if (v === 'false' || v === '0') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) {
        const hops = Number(v);
        if (hops > 100) throw new ConfigError(env, `${raw} hops is out of range (allowed: 1 to 100)`);
        return hops;
      }
      const entries = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const entry of entries) {
        if (!isTrustEntry(entry)) {
          throw new ConfigError(env, `"${entry}" is not an IP address, CIDR or one of loopback, linklocal, uniquelocal (allowed: false, true, a hop count, or a comma-separated list of those)`);
        }
      }
      return entries;
    },
  };
}

function isTrustEntry(entry: string): boolean {
  if (NAMES.has(entry)) return true;
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = net.isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const range = entry.slice(slash + 1);
  // proxy-addr also takes an IPv4 netmask (10.0.0.0/255.0.0.0).
  if (family === 4 && net.isIPv4(range)) return true;
  return /^\d{1,3}$/.test(range) && Number(range) <= (family === 4 ? 32 : 128);
}
