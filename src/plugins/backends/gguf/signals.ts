/**
 * Links abort signals with listeners that are removed when the call ends. AbortSignal.any() would
 * leave a registration on the router's long-lived shutdown signal for every request until GC runs.
 */
export interface LinkedSignal {
  signal: AbortSignal;
  /** Aborts the linked signal (e.g. the consumer stopped reading). */
  abort(reason?: unknown): void;
  /** Detaches from the sources; call once the operation has finished. */
  dispose(): void;
}

export function linkSignals(...sources: AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const listeners: Array<[AbortSignal, () => void]> = [];
  const dispose = (): void => {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.length = 0;
  };
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const listener = (): void => {
      controller.abort(source.reason);
      dispose();
    };
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
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
