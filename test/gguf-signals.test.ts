/**
 * linkSignals, which ties every embedded GGUF call to the client's signal and the router's
 * long-lived shutdown signal: many concurrent calls on one parent print no
 * MaxListenersExceededWarning, every call still stops when the parent aborts, and nothing stays
 * registered on the parent once the calls are over.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { linkSignals } from '../src/plugins/backends/gguf/signals.js';

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

/** process 'warning' events are emitted on a later tick than the emitWarning() call. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('linkSignals', () => {
  it('20 concurrent links to one parent emit no process warning, and all abort with the parent', async () => {
    process.on('warning', onWarning);
    const parent = new AbortController();
    const links = Array.from({ length: 20 }, () => linkSignals(new AbortController().signal, parent.signal));
    await settle();
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);

    parent.abort(new Error('shutting down'));
    for (const link of links) {
      expect(link.signal.aborted).toBe(true);
      expect((link.signal.reason as Error).message).toBe('shutting down');
    }
    await settle();
    expect(warnings).toEqual([]);
  });

  it('leaves nothing on the parent once every call is disposed, and a call’s own source aborts only that call', async () => {
    process.on('warning', onWarning);
    const parent = new AbortController();
    const clients = Array.from({ length: 20 }, () => new AbortController());
    const links = clients.map((c) => linkSignals(c.signal, parent.signal));
    clients[3].abort('client left');
    expect(links[3].signal.aborted).toBe(true);
    expect(links[3].signal.reason).toBe('client left');
    expect(links.filter((l) => l.signal.aborted)).toHaveLength(1);
    expect(getEventListeners(clients[3].signal, 'abort')).toHaveLength(0);

    for (const link of links) link.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    for (const client of clients) expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);

    // A call that starts after the others finished links again and still follows the parent.
    const late = linkSignals(new AbortController().signal, parent.signal);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    parent.abort();
    expect(late.signal.aborted).toBe(true);
    expect(links.filter((l) => l.signal.aborted)).toHaveLength(1);
    await settle();
    expect(warnings).toEqual([]);
  });

  it('an already-aborted source aborts the link at once and registers nothing', () => {
    const parent = new AbortController();
    const done = AbortSignal.abort('gone');
    const link = linkSignals(parent.signal, done);
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe('gone');
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });
});
