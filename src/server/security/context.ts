/**
 * The client's address, handed from fastify to Connect handlers and interceptors (connect-es requests
 * carry headers but not the socket).
 */
import { createContextKey } from '@connectrpc/connect';

/** request.ip: the client as fastify sees it (the forwarded client behind a trusted proxy). */
export const kClientAddress = createContextKey<string | undefined>(undefined, { description: 'client address' });
/** Every address the request came through, socket peer first (addresses.ts addressChain): for the loopback rule. */
export const kClientChain = createContextKey<readonly string[]>([], { description: 'client address chain' });
