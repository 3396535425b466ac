/**
 * The circuit breakers on their own, with a hand-driven clock: closed -> open after N failures in a
 * row -> half-open after the cool-down (one probe) -> closed on success or open again on failure;
 * which failure codes count for the backend, which for the model, which for neither.
 */
import { describe, expect, it } from 'vitest';
import { CircuitBreakers, type CircuitChange } from '../src/core/circuit-breaker.js';

function breakers(threshold = 3, cooldownMs = 5000) {
  let now = 1_000;
  const changes: CircuitChange[] = [];
  const c = new CircuitBreakers({ failureThreshold: threshold, cooldownMs }, { now: () => now, onChange: (x) => changes.push(x) });
  return { c, changes, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreakers', () => {
  it('opens a backend circuit after N unreachable failures in a row and says why', () => {
    const { c, changes } = breakers(3);
    c.result('gpu', 'm1', 'unreachable');
    c.result('gpu', 'm2', 'unreachable');
    expect(c.blocked('gpu', 'm1')).toBeUndefined();
    c.result('gpu', 'm1', 'unreachable');
    expect(c.blocked('gpu', 'm1')).toMatch(/^circuit open: backend "gpu" failed 3 times in a row \(last: unreachable\)/);
    // Every model of the backend is skipped, not just the one that failed.
    expect(c.blocked('gpu', 'other-model')).toMatch(/circuit open/);
    expect(c.blocked('cpu', 'm1')).toBeUndefined();
    expect(changes).toEqual([{ scope: 'backend', name: 'gpu', from: 'closed', to: 'open' }]);
    expect(c.state('backend', 'gpu')).toBe('open');
  });

  it('a success in between resets the count', () => {
    const { c } = breakers(2);
    c.result('gpu', 'm1', 'unreachable');
    c.result('gpu', 'm1');
    c.result('gpu', 'm1', 'unreachable');
    expect(c.blocked('gpu', 'm1')).toBeUndefined();
  });

  it('counts model failures for the model only, so the backend keeps serving its other models', () => {
    const { c } = breakers(2);
    for (const code of ['timeout', 'bad_response']) c.result('gpu', 'broken', code);
    expect(c.blocked('gpu', 'broken')).toMatch(/^circuit open: model "broken"/);
    expect(c.blocked('gpu', 'healthy')).toBeUndefined();
    expect(c.state('backend', 'gpu')).toBe('closed');
  });

  it('ignores failures that say nothing about health (client left, request rejected)', () => {
    const { c } = breakers(1);
    for (const code of ['aborted', 'bad_request', 'unsupported']) c.result('gpu', 'm', code);
    expect(c.blocked('gpu', 'm')).toBeUndefined();
    expect(c.snapshot()).toEqual([]);
  });

  it('counts a refused key against the whole backend: every model there would be refused', () => {
    const { c } = breakers(2);
    c.result('cloud', 'gpt-a', 'unauthorized');
    c.result('cloud', 'gpt-b', 'unauthorized');
    expect(c.blocked('cloud', 'gpt-c')).toMatch(/^circuit open: backend "cloud"/);
    expect(c.blocked('gpu', 'm')).toBeUndefined();
  });

  it('half-opens after the cool-down, lets one probe through, and closes on its success', () => {
    const { c, changes, advance } = breakers(1, 5000);
    c.result('gpu', 'm', 'unreachable');
    advance(4999);
    expect(c.blocked('gpu', 'm')).toMatch(/next probe in 0\.1 s/);
    advance(1);
    expect(c.blocked('gpu', 'm')).toBeUndefined();
    expect(c.state('backend', 'gpu')).toBe('half_open');
    c.begin('gpu', 'm');
    // While the probe runs, everyone else keeps skipping.
    expect(c.blocked('gpu', 'm')).toMatch(/^circuit half-open: backend "gpu" is being probed/);
    c.result('gpu', 'm');
    expect(c.blocked('gpu', 'm')).toBeUndefined();
    expect(changes.map((x) => x.to)).toEqual(['open', 'half_open', 'closed']);
    expect(c.snapshot()).toEqual([{ scope: 'backend', name: 'gpu', state: 'closed', consecutiveFailures: 0, lastError: 'unreachable' }]);
  });

  it('reopens at once when the probe fails, for another full cool-down', () => {
    const { c, changes, advance } = breakers(3, 1000);
    for (let i = 0; i < 3; i++) c.result('gpu', 'm', 'unreachable');
    advance(1000);
    expect(c.blocked('gpu', 'm')).toBeUndefined();
    c.begin('gpu', 'm');
    c.result('gpu', 'm', 'unreachable');
    expect(c.blocked('gpu', 'm')).toMatch(/circuit open: backend "gpu" failed 4 times/);
    advance(999);
    expect(c.blocked('gpu', 'm')).toMatch(/circuit open/);
    expect(changes.map((x) => x.to)).toEqual(['open', 'half_open', 'open']);
  });

  it('a probe that proved nothing (client left) frees the probe slot', () => {
    const { c, advance } = breakers(1, 1000);
    c.result('gpu', 'm', 'unreachable');
    advance(1000);
    c.blocked('gpu', 'm');
    c.begin('gpu', 'm');
    expect(c.blocked('gpu', 'm')).toMatch(/half-open/);
    c.result('gpu', 'm', 'aborted');
    expect(c.blocked('gpu', 'm')).toBeUndefined();
    expect(c.state('backend', 'gpu')).toBe('half_open');
  });

  it('a probe that never reports back does not keep the circuit shut forever', () => {
    const { c, advance } = breakers(1, 2000);
    c.result('gpu', 'm', 'unreachable');
    advance(2000);
    c.blocked('gpu', 'm');
    c.begin('gpu', 'm');
    advance(1999);
    expect(c.blocked('gpu', 'm')).toMatch(/half-open/);
    advance(1);
    expect(c.blocked('gpu', 'm')).toBeUndefined();
  });
});
