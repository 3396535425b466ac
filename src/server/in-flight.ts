/**
 * The request handlers' calls into the core (chat, embed) until they settle, so shutdown can abort
 * them at its drain deadline and wait for them before the core and the database close: the core then
 * records them through its normal client-abort path (status `aborted`, nothing counted against the
 * backends). A stream already answering is not tracked here once chat() has returned: the router
 * keeps those itself, stops them at shutdown and waits for their records (Router.beginShutdown,
 * Router.streamsEnded).
 *
 * The REST door hands over the AbortController it creates per request anyway (track); RouterService
 * calls, whose signal belongs to connect-es, get a linked controller of their own (wrap). A controller
 * more per request measured about 7% of the router's CPU at 16 clients, hence no wrapper on REST.
 */
import type { Router } from '../core/router.js';

export class InFlightCalls {
  private readonly calls = new Map<AbortController, Promise<unknown>>();
  private aborted = false;

  /** Runs `call` (which must obey `controller`) and keeps it until it settles. */
  track<T>(controller: AbortController, call: () => Promise<T>): Promise<T> {
    if (this.aborted) controller.abort(shutdownReason());
    const result = call();
    this.calls.set(controller, result);
    const forget = () => void this.calls.delete(controller);
    result.then(forget, forget);
    return result;
  }

  /** The router with chat and embed tracked under a controller linked to the caller's signal. */
  wrap(router: Router): Router {
    const linked = <T>(signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> => {
      const link = new AbortController();
      if (signal.aborted) link.abort(signal.reason);
      else signal.addEventListener('abort', () => link.abort(signal.reason), { once: true });
      return this.track(link, () => call(link.signal));
    };
    const chat: Router['chat'] = (request, signal) => linked(signal, (s) => router.chat(request, s));
    const embed: Router['embed'] = (request, signal) => linked(signal, (s) => router.embed(request, s));
    return new Proxy(router, {
      get(target, property) {
        if (property === 'chat') return chat;
        if (property === 'embed') return embed;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /** Aborts every tracked call, and any started from now on. */
  abort(): void {
    this.aborted = true;
    for (const controller of this.calls.keys()) controller.abort(shutdownReason());
  }

  /** Resolves when every tracked call has settled, or after `ms`. */
  async settled(ms: number): Promise<void> {
    if (!this.calls.size) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.allSettled([...this.calls.values()]), timeout]);
    clearTimeout(timer);
  }
}

function shutdownReason(): DOMException {
  return new DOMException('the router is shutting down', 'AbortError');
}
