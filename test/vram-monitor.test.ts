/**
 * VRAM monitor: the parser against nvidia-smi quirks, the monitor against a fake `nvidia-smi` put first
 * on PATH (so the real execFile path, PATH lookup and exit codes are exercised), and the pure budget helpers.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BYTES_PER_GB,
  NVIDIA_SMI_ARGS,
  defaultBudgetGb,
  estimateModelVramBytes,
  normalizeQuantization,
  parseNvidiaSmiCsv,
  planEviction,
  VramMonitor,
  type ExecOutcome,
  type ExecRunner,
  type LoadedModel,
  type VramLogger,
  type VramSample,
} from '../src/core/vram/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/nvidia-smi/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);

interface LogEntry {
  level: 'debug' | 'info' | 'warn';
  obj: object;
  msg: string;
}

function recordingLogger(): VramLogger & { entries: LogEntry[]; warnings: () => LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    warnings: () => entries.filter((e) => e.level === 'warn'),
    debug: (obj, msg) => entries.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
  };
}

/** A runner answering with one CSV line per GPU usage, for tests that need many distinct samples. */
function scriptedRunner(outputs: string[]): ExecRunner & { calls: number } {
  const runner = Object.assign(
    async (): Promise<ExecOutcome> => {
      const stdout = outputs[Math.min(runner.calls, outputs.length - 1)];
      runner.calls++;
      return { kind: 'exited', exitCode: 0, stdout, stderr: '' };
    },
    { calls: 0 },
  );
  return runner;
}

const line = (index: number, usedMb: number, totalMb = 24564) => `${index}, NVIDIA GeForce RTX 4090, ${totalMb}, ${usedMb}, ${totalMb - usedMb}, 10, 50\n`;

describe('parseNvidiaSmiCsv', () => {
  it('parses one GPU', async () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(await readFile(fixture('one-gpu.csv'), 'utf8'));
    expect(warnings).toEqual([]);
    expect(gpus).toEqual([{ index: 0, name: 'NVIDIA GeForce RTX 4090', totalMb: 24564, usedMb: 1523, freeMb: 22693, utilizationPct: 3, temperatureC: 41 }]);
  });

  it('parses two GPUs', async () => {
    const { gpus } = parseNvidiaSmiCsv(await readFile(fixture('two-gpus.csv'), 'utf8'));
    expect(gpus.map((g) => [g.index, g.name, g.usedMb])).toEqual([
      [0, 'NVIDIA GeForce RTX 3090', 18750],
      [1, 'NVIDIA GeForce RTX 3060', 412],
    ]);
  });

  it('treats [N/A] as missing, computes free from total - used, and skips GPUs without memory figures', async () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(await readFile(fixture('na-fields.csv'), 'utf8'));
    expect(gpus).toEqual([{ index: 0, name: 'NVIDIA A100-SXM4-40GB', totalMb: 40960, usedMb: 39200, freeMb: 1760, temperatureC: 52 }]);
    expect(warnings).toEqual(['skipped GPU 1 (NVIDIA GB10): memory usage not reported']);
  });

  it('treats [Not Supported] as missing', async () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(await readFile(fixture('not-supported.csv'), 'utf8'));
    expect(warnings).toEqual([]);
    expect(gpus).toEqual([{ index: 0, name: 'NVIDIA GeForce GT 710', totalMb: 2048, usedMb: 312, freeMb: 1736 }]);
  });

  it('accepts values with units from drivers that ignore nounits', async () => {
    const { gpus } = parseNvidiaSmiCsv(await readFile(fixture('with-units.csv'), 'utf8'));
    expect(gpus[0]).toMatchObject({ totalMb: 24564, usedMb: 21034, freeMb: 3262, utilizationPct: 97, temperatureC: 71 });
    expect(parseNvidiaSmiCsv('0, Tesla T4, 15 GiB, 1024 MB, N/A, 0 %, 40 C').gpus[0]).toMatchObject({ totalMb: 15360, usedMb: 1024, freeMb: 14336, temperatureC: 40 });
  });

  it('handles CRLF, blank lines and extra spaces', async () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(await readFile(fixture('windows-crlf.csv'), 'utf8'));
    expect(warnings).toEqual([]);
    expect(gpus).toEqual([{ index: 0, name: 'NVIDIA GeForce RTX 3080 Laptop GPU', totalMb: 8192, usedMb: 7004, freeMb: 1024, utilizationPct: 45, temperatureC: 60 }]);
    expect(parseNvidiaSmiCsv('\n   0 ,   Tesla V100   ,16160,  100 ,16060 , 0,   33   \r\n\n').gpus[0]).toMatchObject({ name: 'Tesla V100', usedMb: 100, temperatureC: 33 });
  });

  it('keeps commas inside GPU names', () => {
    const { gpus } = parseNvidiaSmiCsv('2, NVIDIA RTX 6000 Ada Generation, Rev. B, 49140, 2, 48632, 0, 30\n');
    expect(gpus[0]).toMatchObject({ index: 2, name: 'NVIDIA RTX 6000 Ada Generation, Rev. B', totalMb: 49140, usedMb: 2 });
  });

  it('computes total from used + free when total is missing', () => {
    expect(parseNvidiaSmiCsv('0, Quadro P4000, [N/A], 1000, 7000, 1, 40').gpus[0]).toMatchObject({ totalMb: 8000, usedMb: 1000, freeMb: 7000 });
  });

  it('skips garbage lines with a warning and keeps the good ones', async () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(await readFile(fixture('one-gpu-lost.csv'), 'utf8'));
    expect(gpus.map((g) => g.index)).toEqual([1]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Unable to determine the device handle/);

    const mixed = parseNvidiaSmiCsv('hello world\nx, a, 1, 2, 3, 4, 5\n0, GPU, lots, 1, 2, 3, 4\n0, GPU, 10, 1, 9, 0, 30\n0, GPU, 10, 2, 8, 0, 30\n');
    expect(mixed.gpus).toHaveLength(1);
    expect(mixed.warnings).toHaveLength(4);
    expect(mixed.warnings[2]).toContain('memory.total is "lots"');
    expect(mixed.warnings[3]).toContain('listed twice');
  });

  it('ignores a header line', () => {
    const text = 'index, name, memory.total [MiB], memory.used [MiB], memory.free [MiB], utilization.gpu [%], temperature.gpu\n0, GPU, 10, 1, 9, 0, 30\n';
    expect(parseNvidiaSmiCsv(text)).toEqual({ gpus: [expect.objectContaining({ index: 0 })], warnings: [] });
  });

  it('returns no GPUs for "No devices were found" and driver failures, with the message as warning', async () => {
    expect(parseNvidiaSmiCsv(await readFile(fixture('no-devices.txt'), 'utf8'))).toEqual({ gpus: [], warnings: ['No devices were found'] });
    const driver = parseNvidiaSmiCsv(await readFile(fixture('driver-failure.txt'), 'utf8'));
    expect(driver.gpus).toEqual([]);
    expect(driver.warnings).toHaveLength(1);
    expect(driver.warnings[0]).toMatch(/^NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/);
    expect(parseNvidiaSmiCsv('')).toEqual({ gpus: [], warnings: [] });
  });
});

describe('VramMonitor with a fake nvidia-smi on PATH', () => {
  let binDir: string;
  let emptyDir: string;
  let argsFile: string;
  const originalPath = process.env.PATH;
  const monitors: VramMonitor[] = [];

  /** Writes bin/nvidia-smi: records its arguments, prints a fixture, exits with `exitCode`. */
  async function fakeNvidiaSmi(body: { fixture?: string; exitCode?: number; raw?: string }): Promise<void> {
    const script = [
      '#!/bin/sh',
      `printf '%s\\n' "$@" > '${argsFile}'`,
      body.raw ?? '',
      body.fixture ? `cat '${fixture(body.fixture)}'` : '',
      `exit ${body.exitCode ?? 0}`,
      '',
    ].join('\n');
    const file = join(binDir, 'nvidia-smi');
    await writeFile(file, script);
    await chmod(file, 0o755);
  }

  function monitor(logger = recordingLogger(), options: ConstructorParameters<typeof VramMonitor>[0] = {}) {
    const m = new VramMonitor({ logger, intervalMs: 60_000, ...options });
    monitors.push(m);
    return { m, logger };
  }

  beforeAll(async () => {
    binDir = await mkdtemp(join(tmpdir(), 'vram-bin-'));
    emptyDir = await mkdtemp(join(tmpdir(), 'vram-empty-'));
    argsFile = join(binDir, 'args.txt');
  });

  beforeEach(() => {
    process.env.PATH = `${binDir}${delimiter}${originalPath ?? ''}`;
  });

  afterEach(() => {
    for (const m of monitors.splice(0)) m.stop();
    process.env.PATH = originalPath;
  });

  afterAll(async () => {
    await rm(binDir, { recursive: true, force: true });
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('samples one GPU, passing the query arguments without a shell', async () => {
    await fakeNvidiaSmi({ fixture: 'one-gpu.csv' });
    const { m, logger } = monitor();
    const snapshot = await m.start();
    expect(snapshot.enabled).toBe(true);
    expect(snapshot.reason).toBeUndefined();
    expect(snapshot.gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 4090',
        totalGb: 24564 / 1024,
        usedGb: 1523 / 1024,
        freeGb: 22693 / 1024,
        memoryUtilizationPct: (1523 / 24564) * 100,
        utilizationPct: 3,
        temperatureC: 41,
      },
    ]);
    expect(snapshot.history).toHaveLength(1);
    expect(snapshot.history[0].gpus).toEqual([{ index: 0, usedGb: 1523 / 1024 }]);
    expect(snapshot.warnings).toEqual([]);
    expect(logger.warnings()).toEqual([]);
    expect((await readFile(argsFile, 'utf8')).trim().split('\n')).toEqual([...NVIDIA_SMI_ARGS]);
  });

  it('samples two GPUs and sums them in totals()', async () => {
    await fakeNvidiaSmi({ fixture: 'two-gpus.csv' });
    const { m } = monitor();
    const snapshot = await m.start();
    expect(snapshot.gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(m.totals()).toEqual({ totalGb: (24576 + 12288) / 1024, usedGb: (18750 + 412) / 1024 });
    // GPU 0 is at 76%: the first warning level.
    expect(snapshot.warnings).toEqual([{ gpu: 0, level: 75, message: expect.stringContaining('GPU 0 (NVIDIA GeForce RTX 3090) has 76% of its VRAM in use') }]);
  });

  it('reports [N/A] and [Not Supported] fields as absent', async () => {
    await fakeNvidiaSmi({ fixture: 'na-fields.csv' });
    const { m, logger } = monitor();
    const snapshot = await m.start();
    expect(snapshot.enabled).toBe(true);
    expect(snapshot.gpus).toHaveLength(1);
    expect(snapshot.gpus[0]).not.toHaveProperty('utilizationPct');
    expect(snapshot.gpus[0].freeGb).toBe(1760 / 1024);
    // The skipped unified-memory GPU is logged once, not on every sample.
    await m.sampleNow();
    expect(logger.warnings().filter((w) => w.msg === 'unexpected nvidia-smi output')).toHaveLength(1);

    await fakeNvidiaSmi({ fixture: 'not-supported.csv' });
    const old = await m.sampleNow();
    expect(old.gpus[0]).toEqual({ index: 0, name: 'NVIDIA GeForce GT 710', totalGb: 2, usedGb: 312 / 1024, freeGb: 1736 / 1024, memoryUtilizationPct: (312 / 2048) * 100 });
  });

  it('accepts output with units', async () => {
    await fakeNvidiaSmi({ fixture: 'with-units.csv' });
    const { m } = monitor();
    const snapshot = await m.start();
    expect(snapshot.gpus[0]).toMatchObject({ totalGb: 24564 / 1024, usedGb: 21034 / 1024, utilizationPct: 97 });
    expect(snapshot.warnings.map((w) => w.level)).toEqual([85]);
  });

  it('keeps monitoring the GPUs still reported when nvidia-smi exits non-zero over one lost GPU', async () => {
    await fakeNvidiaSmi({ fixture: 'one-gpu-lost.csv', exitCode: 15 });
    const { m } = monitor();
    const snapshot = await m.start();
    expect(snapshot.enabled).toBe(true);
    expect(snapshot.gpus.map((g) => g.name)).toEqual(['NVIDIA RTX A4000']);
  });

  it('disables on "No devices were found" (exit 6) with one warning', async () => {
    await fakeNvidiaSmi({ fixture: 'no-devices.txt', exitCode: 6 });
    const { m, logger } = monitor();
    const snapshot = await m.start();
    expect(snapshot).toMatchObject({ enabled: false, reason: 'No devices were found', gpus: [], warnings: [] });
    await m.sampleNow();
    expect(logger.warnings()).toHaveLength(1);
    expect(logger.warnings()[0].obj).toMatchObject({ reason: 'No devices were found' });
  });

  it('disables on a driver failure (exit 9) with one warning', async () => {
    await fakeNvidiaSmi({ fixture: 'driver-failure.txt', exitCode: 9 });
    const { m, logger } = monitor();
    const snapshot = await m.start();
    expect(snapshot.enabled).toBe(false);
    expect(snapshot.reason).toMatch(/^NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/);
    await m.sampleNow();
    await m.sampleNow();
    expect(logger.warnings()).toHaveLength(1);
    expect(m.totals()).toEqual({ totalGb: 0, usedGb: 0 });
  });

  it('disables on any other non-zero exit, naming the code and stderr', async () => {
    await fakeNvidiaSmi({ raw: "echo 'Insufficient Permissions' >&2", exitCode: 4 });
    const { m } = monitor();
    expect((await m.start()).reason).toBe('nvidia-smi exited with code 4: Insufficient Permissions');
  });

  it('disables when nvidia-smi is missing from PATH, with exactly one warning across retries', async () => {
    process.env.PATH = emptyDir;
    const { m, logger } = monitor();
    const snapshot = await m.start();
    expect(snapshot).toMatchObject({ enabled: false, reason: 'nvidia-smi not found on PATH', gpus: [], history: [] });
    for (let i = 0; i < 3; i++) await m.sampleNow();
    expect(logger.warnings()).toHaveLength(1);
    expect(logger.warnings()[0].msg).toMatch(/VRAM monitoring disabled/);
    expect(logger.entries.filter((e) => e.level === 'debug')).toHaveLength(3);
  });

  it('kills an nvidia-smi that hangs past the timeout', async () => {
    await fakeNvidiaSmi({ raw: 'exec sleep 10' });
    const { m } = monitor(recordingLogger(), { timeoutMs: 200 });
    const started = Date.now();
    const snapshot = await m.start();
    expect(snapshot).toMatchObject({ enabled: false, reason: 'nvidia-smi did not answer within 200 ms' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('disables with one warning when no GPU reports memory figures (unified memory)', async () => {
    await fakeNvidiaSmi({ raw: "echo '0, NVIDIA GB10, [N/A], [N/A], [N/A], 0, 45'" });
    const { m, logger } = monitor();
    const snapshot = await m.start();
    expect(snapshot).toMatchObject({ enabled: false, reason: 'nvidia-smi reported no GPU with memory usage (skipped GPU 0 (NVIDIA GB10): memory usage not reported)' });
    await m.sampleNow();
    expect(logger.warnings()).toHaveLength(1);
  });

  it('stop() kills a running nvidia-smi without counting it as a failure', async () => {
    await fakeNvidiaSmi({ raw: 'exec sleep 10' });
    const { m, logger } = monitor();
    const first = m.start();
    m.stop();
    const snapshot = await first;
    expect(snapshot).toMatchObject({ enabled: false, reason: 'waiting for the first sample' });
    expect(logger.entries).toEqual([]);
  });

  it('resumes after nvidia-smi becomes available, logging it once', async () => {
    await fakeNvidiaSmi({ fixture: 'no-devices.txt', exitCode: 6 });
    const { m, logger } = monitor();
    await m.start();
    await fakeNvidiaSmi({ fixture: 'one-gpu.csv' });
    expect((await m.sampleNow()).enabled).toBe(true);
    expect(logger.entries.filter((e) => e.msg === 'VRAM monitoring resumed')).toHaveLength(1);
  });
});

describe('VramMonitor scheduling, history, warnings and listeners', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('samples at start, then every interval, until stopped', async () => {
    vi.useFakeTimers();
    const runner = scriptedRunner([line(0, 1000)]);
    const m = new VramMonitor({ exec: runner, intervalMs: 1_000 });
    await m.start();
    expect(runner.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(runner.calls).toBe(4);
    m.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runner.calls).toBe(4);
  });

  it('retries a disabled monitor only every ten minutes, silently', async () => {
    vi.useFakeTimers();
    const logger = recordingLogger();
    let calls = 0;
    const missing: ExecRunner = async () => {
      calls++;
      return { kind: 'error', code: 'ENOENT', message: 'spawn nvidia-smi ENOENT' };
    };
    const m = new VramMonitor({ exec: missing, intervalMs: 1_000, logger });
    await m.start();
    await vi.advanceTimersByTimeAsync(10 * 60_000 - 1);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(calls).toBe(5);
    expect(logger.warnings()).toHaveLength(1);
    m.stop();
  });

  it('keeps a bounded history, oldest first', async () => {
    const outputs = Array.from({ length: 10 }, (_, i) => line(0, 1024 * (i + 1)));
    const m = new VramMonitor({ exec: scriptedRunner(outputs), historySize: 4 });
    for (let i = 0; i < 10; i++) await m.sampleNow();
    const { history } = m.snapshot();
    expect(history.map((h) => h.gpus[0].usedGb)).toEqual([7, 8, 9, 10]);
  });

  it('warns at 75, 85 and 95% per GPU, logging only when a GPU crosses a threshold', async () => {
    const total = 10_000;
    const logger = recordingLogger();
    const outputs = [
      line(0, 7_400, total) + line(1, 100, total),
      line(0, 7_500, total) + line(1, 8_600, total),
      line(0, 7_600, total) + line(1, 9_500, total),
      line(0, 8_500, total) + line(1, 9_600, total),
      line(0, 1_000, total) + line(1, 9_600, total),
    ];
    const m = new VramMonitor({ exec: scriptedRunner(outputs), logger });
    const levels: Array<Array<[number, number]>> = [];
    for (let i = 0; i < outputs.length; i++) levels.push((await m.sampleNow()).warnings.map((w) => [w.gpu, w.level]));
    expect(levels).toEqual([
      [],
      [
        [0, 75],
        [1, 85],
      ],
      [
        [0, 75],
        [1, 95],
      ],
      [
        [0, 85],
        [1, 95],
      ],
      [[1, 95]],
    ]);
    expect(logger.warnings().map((w) => w.obj)).toEqual([
      { gpu: 0, level: 75 },
      { gpu: 1, level: 85 },
      { gpu: 1, level: 95 },
      { gpu: 0, level: 85 },
    ]);
  });

  it('delivers each sample to listeners until they unsubscribe, surviving a throwing listener', async () => {
    const logger = recordingLogger();
    const m = new VramMonitor({ exec: scriptedRunner([line(0, 2048), line(0, 4096), line(0, 8192)]), logger });
    const received: VramSample[] = [];
    m.onSample(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = m.onSample((sample) => received.push(sample));
    await m.sampleNow();
    await m.sampleNow();
    unsubscribe();
    await m.sampleNow();
    expect(received.map((s) => s.gpus[0].usedGb)).toEqual([2, 4]);
    expect(received[0].at).toBeInstanceOf(Date);
    expect(logger.warnings().filter((w) => w.msg === 'VRAM sample listener failed')).toHaveLength(3);
    // A listener mutating its sample cannot corrupt the monitor's state.
    received[1].gpus[0].usedGb = -1;
    expect(m.snapshot().gpus[0].usedGb).toBe(8);
  });

  it('shares one nvidia-smi run among concurrent callers', async () => {
    const runner = scriptedRunner([line(0, 1000)]);
    const m = new VramMonitor({ exec: runner });
    await Promise.all([m.sampleNow(), m.sampleNow(), m.sampleNow()]);
    expect(runner.calls).toBe(1);
  });

  it('reports not started before the first sample and rejects bad options', () => {
    expect(new VramMonitor({ exec: scriptedRunner([line(0, 1)]) }).snapshot()).toEqual({ enabled: false, reason: 'not started', gpus: [], history: [], warnings: [] });
    expect(() => new VramMonitor({ historySize: 0 })).toThrow(RangeError);
    expect(() => new VramMonitor({ intervalMs: -1 })).toThrow(RangeError);
  });
});

describe('VRAM budget', () => {
  const GB = BYTES_PER_GB;

  it('defaults the budget to 90% of the total', () => {
    expect(defaultBudgetGb(24)).toBeCloseTo(21.6);
    expect(defaultBudgetGb(0)).toBe(0);
    expect(defaultBudgetGb(Number.NaN)).toBe(0);
  });

  it('estimates by parameter count and quantisation', () => {
    // 8B at Q4_K_M: 8e9 * 0.6 * 1.1 + 0.5 GB.
    expect(estimateModelVramBytes(8, 'Q4_K_M')).toBe(Math.ceil(8e9 * 0.6 * 1.1 + 0.5 * GB));
    expect(estimateModelVramBytes(0)).toBe(0.5 * GB);

    const order = ['Q2_K', 'Q3_K', 'Q4_0', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0', 'F16', 'F32'];
    const estimates = order.map((q) => estimateModelVramBytes(7, q));
    expect([...estimates].sort((a, b) => a - b)).toEqual(estimates);
    expect(new Set(estimates).size).toBe(order.length);

    const sizes = [0.5, 1.5, 3, 7, 13, 34, 70].map((b) => estimateModelVramBytes(b, 'Q4_K_M'));
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    expect(estimateModelVramBytes(70, 'Q4_K_M')).toBeGreaterThan(40 * GB);
    expect(() => estimateModelVramBytes(-1)).toThrow(RangeError);
  });

  it('normalises backend quantisation labels', () => {
    expect(normalizeQuantization('q4_K_M')).toBe('Q4_K_M');
    expect(normalizeQuantization('MOSTLY_Q8_0')).toBe('Q8_0');
    expect(normalizeQuantization('bf16')).toBe('BF16');
    expect(normalizeQuantization('fp16')).toBe('F16');
    expect(normalizeQuantization('IQ4_XS')).toBe('Q4_K_M');
    expect(normalizeQuantization('Q5_K_S')).toBe('Q5_K_M');
    expect(normalizeQuantization('Q3_K_L')).toBe('Q3_K');
    expect(normalizeQuantization(undefined)).toBe('Q4_K_M');
    expect(normalizeQuantization('something-new')).toBe('Q4_K_M');
  });

  const loaded = (key: string, gb: number, lastUsedAt: number, pinned = false): LoadedModel => ({ key, vramBytes: gb * GB, lastUsedAt, pinned });

  it('evicts nothing when the model already fits', () => {
    expect(planEviction([loaded('a', 5, 1)], 4 * GB, 20 * GB, 10 * GB)).toEqual({ evict: [], fits: true });
  });

  it('evicts least recently used first and stops as soon as it fits', () => {
    const models = [loaded('newest', 4, 300), loaded('oldest', 4, 100), loaded('middle', 4, 200), loaded('older', 4, new Date(150).getTime())];
    // 20 used of 21.6 budget; 8 needed -> 6.4 GB must go -> the two oldest.
    expect(planEviction(models, 8 * GB, 21.6 * GB, 20 * GB)).toEqual({ evict: ['oldest', 'older'], fits: true });
    // Dates work as well as epoch milliseconds.
    expect(planEviction([{ key: 'x', vramBytes: GB, lastUsedAt: new Date(2), pinned: false }, { key: 'y', vramBytes: GB, lastUsedAt: new Date(1), pinned: false }], GB, 2 * GB, 2 * GB)).toEqual({ evict: ['y'], fits: true });
  });

  it('never evicts pinned models (nor models holding no VRAM)', () => {
    const models = [loaded('pinned-old', 10, 1, true), loaded('cpu-only', 0, 2), loaded('young', 6, 50)];
    expect(planEviction(models, 5 * GB, 20 * GB, 18 * GB)).toEqual({ evict: ['young'], fits: true });
  });

  it('reports fits=false when evicting every unpinned model is not enough', () => {
    const models = [loaded('pinned', 12, 1, true), loaded('a', 3, 10), loaded('b', 2, 5)];
    const plan = planEviction(models, 10 * GB, 20 * GB, 17 * GB);
    expect(plan).toEqual({ evict: ['b', 'a'], fits: false });
  });
});
