/**
 * The client's address, handed from fastify to Connect handlers and interceptors (connect-es requests
 * carry headers but not the socket).
 */
import { createContextKey } from '@connectrpc/connect';

export const kClientAddress = createContextKey<string | undefined>(undefined, { description: 'client address' });
