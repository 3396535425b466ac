/**
 * Circuit-breaker states shared between replicas over Redis pub/sub: when a circuit opens (or closes
 * again) on one replica, the others follow at once instead of each paying the failures that open
 * it. Only transitions travel; a replica that starts later learns from its own failures.
 */
import type { Redis } from 'ioredis';
import type { CircuitBreakers, CircuitChange } from '../../core/circuit-breaker.js';
import type { CircuitScope } from '../../core/events.js';

interface Message {
  origin: string;
  scope: CircuitScope;
  name: string;
  to: 'open' | 'closed';
  failures: number;
  lastError?: string;
}

export interface SharedCircuits {
  /** Call from the breakers' onChange: publishes this replica's own transitions. */
  publish(change: CircuitChange): void;
  close(): Promise<void>;
}

export async function shareCircuits(options: {
  publisher: Redis;
  subscriber: Redis;
  channel: string;
  /** This replica's id: its own messages come back on the channel and are ignored. */
  origin: string;
  circuits: () => CircuitBreakers | undefined;
  onError?: (error: unknown) => void;
}): Promise<SharedCircuits> {
  const { publisher, subscriber, channel, origin } = options;
  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    const message = parse(text);
    if (!message || message.origin === origin) return;
    options.circuits()?.applyRemote(message.scope, message.name, message.to, message.failures, message.lastError);
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(channel);
  return {
    publish(change) {
      if (change.remote || (change.to !== 'open' && change.to !== 'closed')) return;
      // After the breaker finished its own transition (this runs inside its onChange).
      queueMicrotask(() => {
        const info = options.circuits()?.snapshot().find((c) => c.scope === change.scope && c.name === change.name);
        const message: Message = { origin, scope: change.scope, name: change.name, to: change.to as 'open' | 'closed', failures: info?.consecutiveFailures ?? 0 };
        if (info?.lastError) message.lastError = info.lastError;
        publisher.publish(channel, JSON.stringify(message)).catch((error: unknown) => options.onError?.(error));
      });
    },
    async close() {
      subscriber.off('message', onMessage);
      await subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}

function parse(text: string): Message | undefined {
  try {
    const m = JSON.parse(text) as Message;
    const okScope = m.scope === 'backend' || m.scope === 'model';
    const okTo = m.to === 'open' || m.to === 'closed';
    return okScope && okTo && typeof m.name === 'string' && typeof m.origin === 'string' ? { ...m, failures: Number(m.failures) || 0 } : undefined;
  } catch {
    return undefined;
  }
}
