/**
 * Which client addresses count as "this machine". With no ROUTER_ADMIN_API_KEY, admin surfaces answer
 * only these. node:net's BlockList understands every spelling a socket may report: 127.0.0.0/8, ::1
 * (also written out in full) and IPv4-mapped IPv6 (::ffff:127.0.0.1, which dual-stack sockets report).
 */
import net from 'node:net';

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  return family !== undefined && LOOPBACK.check(address, family);
}
