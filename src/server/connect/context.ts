/**
 * Context values the fastify layer hands to every Connect handler: the request-scoped logger (so RPC
 * log lines carry the same request id as REST ones) and the request id itself.
 */
import { createContextKey } from '@connectrpc/connect';
import type { Logger } from '../logger.js';

export const kRequestLogger = createContextKey<Logger | undefined>(undefined, { description: 'request logger' });
export const kRequestId = createContextKey<string>('', { description: 'request id' });
