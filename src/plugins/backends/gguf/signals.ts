/**
 * Links abort signals with listeners that are removed when the call ends. AbortSignal.any() would
 * leave a registration on the router's long-lived shutdown signal for every request until GC runs.
 *
 * Every call links to that same shutdown signal, so each source carries ONE 'abort' listener that
 * fans out to the calls linked to it now: a direct listener per call would pass Node's limit of 10
 * per EventTarget at the 11th concurrent request and print a MaxListenersExceededWarning on stderr.
 * The listener goes away with the last call linked to the source.
 */
export interface LinkedSignal {
  signal: AbortSignal;
  /** Aborts the linked signal (e.g. the consumer stopped reading). */
  abort(reason?: unknown): void;
  /** Detaches from the sources; call once the operation has finished. */
  dispose(): void;
}

interface Fanout {
  subscribers: Set<() => void>;
  listener: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/** Calls `onAbort` when `source` aborts; returns the unsubscribe function. */
function subscribe(source: AbortSignal, onAbort: () => void): () => void {
  let fanout = fanouts.get(source);
  if (!fanout) {
    const subscribers = new Set<() => void>();
    const listener = (): void => {
      fanouts.delete(source);
      for (const subscriber of [...subscribers]) subscriber();
      subscribers.clear();
    };
    fanout = { subscribers, listener };
    fanouts.set(source, fanout);
    source.addEventListener('abort', listener, { once: true });
  }
  const { subscribers, listener } = fanout;
  subscribers.add(onAbort);
  return () => {
    if (!subscribers.delete(onAbort) || subscribers.size > 0 || fanouts.get(source) !== fanout) return;
    fanouts.delete(source);
    source.removeEventListener('abort', listener);
  };
}

export function linkSignals(...sources: AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const unsubscribes: Array<() => void> = [];
  const dispose = (): void => {
    for (const unsubscribe of unsubscribes) unsubscribe();
    unsubscribes.length = 0;
  };
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    unsubscribes.push(
      subscribe(source, () => {
        controller.abort(source.reason);
        dispose();
      }),
    );
  }
  if (controller.signal.aborted) dispose();
  return {
    signal: controller.signal,
    abort: (reason?: unknown) => {
      controller.abort(reason);
      dispose();
    },
    dispose,
  };
}
