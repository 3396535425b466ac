/**
 * BackendHealthMonitor: the verdict behind health-driven availability. One failed check is not an
 * outage, two in a row are; the first check that passes clears it; a hung backend is never probed
 * twice at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BackendHealthMonitor, FAILURES_TO_DOWN } from '../src/core/backend-health.js';
import type { HealthStatus } from '../src/plugin-api/index.js';
import { fakeBackend } from './support/fake-backend.js';

const monitors: BackendHealthMonitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.stop();
});

/** A backend whose health answers come from a queue the test fills (ok / fail / hang). */
function scripted(otherwise: 'ok' | 'hang' = 'ok') {
  const answers: Array<'ok' | 'fail' | 'hang'> = [];
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const backend = fakeBackend({
    name: 'gpu',
    async health({ signal }): Promise<HealthStatus> {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const answer = answers.shift() ?? otherwise;
        if (answer === 'hang') {
          await new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
        }
        return { ok: answer === 'ok', latencyMs: 1, ...(answer === 'fail' ? { message: 'refused' } : {}) };
      } finally {
        inFlight--;
      }
    },
  });
  return { backend, answers, calls: () => calls, maxInFlight: () => maxInFlight };
}

describe('BackendHealthMonitor', () => {
  it(`calls a backend down after ${FAILURES_TO_DOWN} failed checks in a row and up at the first that passes`, async () => {
    const { backend, answers } = scripted();
    const verdicts: Array<[boolean, boolean]> = [];
    const monitor = new BackendHealthMonitor([backend], { onVerdict: (_h, down, changed) => verdicts.push([down, changed]) });
    monitors.push(monitor);
    answers.push('fail', 'ok', 'fail', 'fail', 'fail', 'ok');
    for (let i = 0; i < 6; i++) await monitor.checkBackend('gpu');
    // fail (one slow answer is no outage), ok, fail, fail (down), fail (still down), ok (up).
    expect(verdicts).toEqual([
      [false, false],
      [false, false],
      [false, false],
      [true, true],
      [true, false],
      [false, true],
    ]);
    expect(monitor.isDown('gpu')).toBe(false);
    expect(await monitor.checkBackend('nope')).toBeUndefined();
  });

  it('never probes a hung backend twice at once, and times the probe out', async () => {
    const { backend, calls, maxInFlight } = scripted('hang');
    const monitor = new BackendHealthMonitor([backend], { intervalMs: 20, timeoutMs: 150 });
    monitors.push(monitor);
    await monitor.start();
    // The first probe took the whole timeout; the interval fired ~7 times meanwhile.
    expect(maxInFlight()).toBe(1);
    expect(monitor.snapshot()[0]).toMatchObject({ ok: false, message: 'no answer in 150 ms' });
    await new Promise((r) => setTimeout(r, 400));
    expect(maxInFlight()).toBe(1);
    // One probe per timeout, not one per interval (that would be ~27).
    expect(calls()).toBeLessThanOrEqual(5);
    expect(monitor.isDown('gpu')).toBe(true);
  });
});
