/**
 * Waits for a promise unless a signal aborts first. Used where a caller waits on work it does not
 * own (a model load, a mode probe shared by several calls): the caller stops waiting, the work goes
 * on and settles unobserved but handled.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, abortError: () => unknown = () => signal.reason): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
