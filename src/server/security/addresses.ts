/**
 * Which client addresses count as "this machine". With no ROUTER_ADMIN_API_KEY, admin surfaces answer
 * only these. node:net's BlockList understands every spelling a socket may report: 127.0.0.0/8, ::1
 * (also written out in full) and IPv4-mapped IPv6 (::ffff:127.0.0.1, which dual-stack sockets report).
 */
import net from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { TrustProxy } from '../../config/trust-proxy.js';

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  return family !== undefined && LOOPBACK.check(address, family);
}

/**
 * The addresses a request came through, nearest first: the socket peer, then, only when
 * ROUTER_TRUST_PROXY trusts that peer, the X-Forwarded-For hops fastify accepted (request.ips),
 * ending with request.ip. Without a trusted proxy this is just the socket peer, so a forged
 * X-Forwarded-For changes nothing.
 *
 * The loopback rule asks ALL of them to be local, not just request.ip: with ROUTER_TRUST_PROXY=true
 * (or a hop count) request.ip is whatever the client wrote furthest left in X-Forwarded-For, and a
 * remote client could otherwise write 127.0.0.1 there; a local proxy forwarding a remote client must
 * not make that client local either.
 */
export function addressChain(request: FastifyRequest): readonly string[] {
  // request.ips exists only when trustProxy is set (fastify); it starts with the socket peer.
  const ips = (request as { ips?: string[] }).ips;
  if (ips && ips.length > 0) return ips;
  return request.ip ? [request.ip] : [];
}

/**
 * ROUTER_TRUST_PROXY as fastify's `trustProxy` option. fastify 5.12 turned a bare hop count into
 * "trust nobody" (a hop count cannot check who the nearest peer is), which would make
 * ROUTER_TRUST_PROXY=2 silently do nothing; we keep the documented express/proxy-addr meaning instead:
 * the n nearest hops are proxies, whoever they are. Only safe when nothing but those proxies can reach
 * the router (docs/security.md); a list of addresses is the safer choice.
 */
export function fastifyTrustProxy(trust: TrustProxy | undefined): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return trust > 0 ? (_address, hop) => hop < trust : false;
  return trust ?? false;
}
