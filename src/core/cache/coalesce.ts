/**
 * Request coalescing: identical requests in flight at once share one upstream call.
 *
 * The first request (the leader) starts a flight; the producer runs under the flight's own signal,
 * not the leader's, so the leader's client going away does not cut the answer for the others. Every
 * part the producer yields is kept in order; a subscriber that joins late first gets the parts
 * already produced, then the rest as they come. When the last subscriber leaves before the end, the
 * flight's signal aborts and the upstream generation stops.
 *
 * Generic over the head (what is known before the first part: the route info) and the part type.
 */
import { untilAborted } from '../abortable.js';

export interface SharedStream<H, P> {
  info: H;
  parts: AsyncIterable<P>;
}

export type Producer<H, P> = (signal: AbortSignal) => Promise<SharedStream<H, P>>;

class Flight<H, P> {
  readonly controller = new AbortController();
  readonly buffer: P[] = [];
  subscribers = 0;
  finished = false;
  failure: { error: unknown } | undefined;
  head!: Promise<H>;
  private tick = deferred();

  /** Resolves at the next part, the end, or a subscriber leaving. */
  changed(): Promise<void> {
    return this.tick.promise;
  }

  wake(): void {
    const tick = this.tick;
    this.tick = deferred();
    tick.resolve();
  }
}

export class Coalescer<H, P> {
  private readonly flights = new Map<string, Flight<H, P>>();

  /** @param abortError what a subscriber whose own client went away is rejected with */
  constructor(private readonly abortError: () => Error) {}

  /** Flights running now. */
  get size(): number {
    return this.flights.size;
  }

  /** Joins the flight running under `key`, or undefined when there is none. */
  join(key: string, signal: AbortSignal): Promise<SharedStream<H, P>> | undefined {
    const flight = this.flights.get(key);
    return flight ? this.subscribe(flight, signal) : undefined;
  }

  /** Starts a flight under `key`; the returned stream is the leader's. */
  run(key: string, produce: Producer<H, P>, signal: AbortSignal): Promise<SharedStream<H, P>> {
    const flight = new Flight<H, P>();
    this.flights.set(key, flight);
    const end = (): void => {
      flight.finished = true;
      if (this.flights.get(key) === flight) this.flights.delete(key);
      flight.wake();
    };
    flight.head = produce(flight.controller.signal).then(
      (stream) => {
        void this.pump(flight, stream.parts).finally(end);
        return stream.info;
      },
      (error: unknown) => {
        end();
        throw error;
      },
    );
    // Rejections reach every subscriber; with none left, nobody is there to see one.
    flight.head.catch(() => {});
    return this.subscribe(flight, signal);
  }

  private async pump(flight: Flight<H, P>, parts: AsyncIterable<P>): Promise<void> {
    try {
      for await (const part of parts) {
        flight.buffer.push(part);
        flight.wake();
      }
    } catch (error) {
      flight.failure = { error };
    }
  }

  private async subscribe(flight: Flight<H, P>, signal: AbortSignal): Promise<SharedStream<H, P>> {
    flight.subscribers++;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      signal.removeEventListener('abort', onAbort);
      flight.subscribers--;
      if (flight.subscribers === 0 && !flight.finished) {
        // Nobody wants this answer any more: stop the model, and let a new identical request
        // start a fresh flight instead of joining one that is being torn down.
        for (const [key, f] of this.flights) if (f === flight) this.flights.delete(key);
        flight.controller.abort(this.abortError());
      }
      flight.wake();
    };
    const onAbort = (): void => leave();
    if (signal.aborted) leave();
    else signal.addEventListener('abort', onAbort, { once: true });

    let info: H;
    try {
      info = await untilAborted(flight.head, signal, this.abortError);
    } catch (error) {
      leave();
      throw error;
    }
    return { info, parts: this.follow(flight, signal, leave) };
  }

  private async *follow(flight: Flight<H, P>, signal: AbortSignal, leave: () => void): AsyncGenerator<P> {
    let next = 0;
    try {
      for (;;) {
        if (next < flight.buffer.length) {
          yield flight.buffer[next++]!;
          continue;
        }
        if (flight.finished) {
          if (flight.failure) throw flight.failure.error;
          return;
        }
        if (signal.aborted) return;
        await flight.changed();
      }
    } finally {
      leave();
    }
  }
}

/** Promise.withResolvers, which Node 20 lacks. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
