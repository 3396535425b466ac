/**
 * Samples GPU memory with nvidia-smi in the background so routing and eviction decisions read a
 * recent figure instead of spawning a process on the request path.
 *
 * Many installs have no NVIDIA GPU (CPU-only boxes, Macs, remote backends). There the monitor must
 * cost nothing and say so once: the first failure disables it with a single warning, and it retries
 * quietly at most every ten minutes in case a driver appears (e.g. a container started before the GPU
 * runtime was ready).
 */
import { execFileRunner, type ExecOutcome, type ExecRunner } from './exec.js';
import { NVIDIA_SMI_ARGS, nvidiaSmiFailure, parseNvidiaSmiCsv, type GpuSample } from './parse.js';

export interface VramLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface VramMonitorOptions {
  /** Executable to run, looked up on PATH unless it is a path. */
  command?: string;
  /** Between samples while nvidia-smi works (ROUTER_VRAM_MONITOR_INTERVAL). */
  intervalMs?: number;
  /** Samples kept for history (a bounded ring). */
  historySize?: number;
  /** Per nvidia-smi run; a wedged driver can make it hang. */
  timeoutMs?: number;
  logger?: VramLogger;
  /** Replaces execFile (unit tests). */
  exec?: ExecRunner;
  /** Between retries once disabled; never shorter than intervalMs. */
  retryDisabledMs?: number;
  /** Clock for sample timestamps (tests). */
  now?: () => Date;
}

/** One GPU in GB. GB here are GiB, the unit VRAM is sold in: a "24 GB" card reports 24564 MiB. */
export interface GpuMemory {
  index: number;
  name: string;
  totalGb: number;
  usedGb: number;
  freeGb: number;
  /** usedGb / totalGb in percent. */
  memoryUtilizationPct: number;
  /** GPU core utilisation, when reported. */
  utilizationPct?: number;
  temperatureC?: number;
}

export type VramWarningLevel = 75 | 85 | 95;

export interface VramWarning {
  gpu: number;
  /** The highest threshold (percent of VRAM used) the GPU is at or above. */
  level: VramWarningLevel;
  message: string;
}

export interface VramSample {
  at: Date;
  gpus: GpuMemory[];
  warnings: VramWarning[];
}

export interface VramHistoryEntry {
  at: Date;
  gpus: { index: number; usedGb: number }[];
}

export interface VramSnapshot {
  enabled: boolean;
  /** Why monitoring is off (missing nvidia-smi, no devices, driver failure, ...). */
  reason?: string;
  sampledAt?: Date;
  /** Latest reading per GPU; empty while disabled, since an old reading would pass for a current one. */
  gpus: GpuMemory[];
  /** Oldest first. Kept across a disable so a graph still shows what happened before it. */
  history: VramHistoryEntry[];
  warnings: VramWarning[];
}

export type VramSampleListener = (sample: VramSample) => void;

export const VRAM_WARNING_LEVELS: readonly VramWarningLevel[] = [95, 85, 75];

const MIB_PER_GB = 1024;
const DEFAULTS = {
  command: 'nvidia-smi',
  intervalMs: 30_000,
  historySize: 120,
  timeoutMs: 5_000,
  retryDisabledMs: 10 * 60_000,
} as const;

type Status = { state: 'idle'; reason: string } | { state: 'enabled' } | { state: 'disabled'; reason: string };

export class VramMonitor {
  private readonly command: string;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly exec: ExecRunner;
  private readonly logger: VramLogger | undefined;
  private readonly now: () => Date;
  private readonly history: Ring<VramHistoryEntry>;
  private readonly listeners = new Set<VramSampleListener>();
  /** Parse warnings already logged: a malformed line repeats every sample and must not flood the log. */
  private readonly loggedParseWarnings = new Set<string>();
  private readonly levels = new Map<number, VramWarningLevel | undefined>();

  private status: Status = { state: 'idle', reason: 'not started' };
  private latest: VramSample | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private controller = new AbortController();
  private inFlight: Promise<VramSnapshot> | undefined;

  constructor(options: VramMonitorOptions = {}) {
    this.command = options.command ?? DEFAULTS.command;
    this.intervalMs = positive('intervalMs', options.intervalMs ?? DEFAULTS.intervalMs);
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs);
    this.retryDelayMs = Math.max(this.intervalMs, positive('retryDisabledMs', options.retryDisabledMs ?? DEFAULTS.retryDisabledMs));
    const historySize = options.historySize ?? DEFAULTS.historySize;
    if (!Number.isInteger(historySize) || historySize < 1) throw new RangeError(`historySize must be a positive integer, got ${historySize}`);
    this.history = new Ring(historySize);
    this.exec = options.exec ?? execFileRunner;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
  }

  /** Samples now, then every interval (or every retry delay while disabled). Resolves after the first sample. */
  start(): Promise<VramSnapshot> {
    if (this.running) return this.inFlight ?? Promise.resolve(this.snapshot());
    this.running = true;
    if (this.controller.signal.aborted) this.controller = new AbortController();
    if (this.status.state === 'idle') this.status = { state: 'idle', reason: 'waiting for the first sample' };
    return this.tick();
  }

  /** Stops sampling and kills a running nvidia-smi. start() may be called again. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.controller.abort();
  }

  /** Takes one sample now (concurrent callers share it). */
  sampleNow(): Promise<VramSnapshot> {
    this.inFlight ??= this.sample().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  snapshot(): VramSnapshot {
    const enabled = this.status.state === 'enabled';
    const snapshot: VramSnapshot = {
      enabled,
      gpus: enabled && this.latest ? this.latest.gpus.map((g) => ({ ...g })) : [],
      history: this.history.toArray().map((h) => ({ at: new Date(h.at), gpus: h.gpus.map((g) => ({ ...g })) })),
      warnings: enabled && this.latest ? this.latest.warnings.map((w) => ({ ...w })) : [],
    };
    if (this.status.state !== 'enabled') snapshot.reason = this.status.reason;
    if (this.latest) snapshot.sampledAt = new Date(this.latest.at);
    return snapshot;
  }

  /** Total and used VRAM across all GPUs of the latest sample; zero while disabled. */
  totals(): { totalGb: number; usedGb: number } {
    if (this.status.state !== 'enabled' || !this.latest) return { totalGb: 0, usedGb: 0 };
    let totalGb = 0;
    let usedGb = 0;
    for (const gpu of this.latest.gpus) {
      totalGb += gpu.totalGb;
      usedGb += gpu.usedGb;
    }
    return { totalGb, usedGb };
  }

  /** Calls `listener` after every successful sample; returns the unsubscribe function. */
  onSample(listener: VramSampleListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private async tick(): Promise<VramSnapshot> {
    const snapshot = await this.sampleNow();
    if (this.running) {
      clearTimeout(this.timer);
      // A chained timeout rather than setInterval: a slow nvidia-smi never overlaps with the next run.
      this.timer = setTimeout(() => void this.tick(), this.status.state === 'disabled' ? this.retryDelayMs : this.intervalMs);
      // Monitoring alone must not keep the process alive.
      this.timer.unref();
    }
    return snapshot;
  }

  private async sample(): Promise<VramSnapshot> {
    let outcome: ExecOutcome;
    try {
      outcome = await this.exec(this.command, NVIDIA_SMI_ARGS, { timeoutMs: this.timeoutMs, signal: this.controller.signal });
    } catch (error) {
      // Runners should resolve with an outcome; an injected one that throws still only disables monitoring.
      outcome = { kind: 'error', code: 'EXEC_FAILED', message: error instanceof Error ? error.message : String(error) };
    }
    if (outcome.kind === 'aborted' || this.controller.signal.aborted) return this.snapshot();

    const result = this.interpret(outcome);
    if ('reason' in result) this.disable(result.reason);
    else this.record(result.gpus);
    return this.snapshot();
  }

  /** GPUs to record, or why there are none. */
  private interpret(outcome: Exclude<ExecOutcome, { kind: 'aborted' }>): { gpus: GpuSample[] } | { reason: string } {
    switch (outcome.kind) {
      case 'error':
        return {
          reason: outcome.code === 'ENOENT' ? `${this.command} not found on PATH` : `cannot run ${this.command}: ${outcome.code} ${outcome.message}`.trim(),
        };
      case 'timeout':
        return { reason: `${this.command} did not answer within ${this.timeoutMs} ms` };
      case 'exited': {
        const output = `${outcome.stdout}\n${outcome.stderr}`;
        const failure = nvidiaSmiFailure(output);
        if (failure) return { reason: failure };
        const { gpus, warnings } = parseNvidiaSmiCsv(outcome.stdout);
        // A non-zero exit with usable lines happens when one GPU of several is lost ("Unable to
        // determine the device handle"): the others still deserve to be monitored.
        if (gpus.length > 0) {
          this.logParseWarnings(warnings);
          return { gpus };
        }
        // Without any GPU the reason below carries the first warning, inside the single disable warning.
        if (outcome.exitCode !== 0) {
          const detail = firstLine(outcome.stderr) ?? firstLine(outcome.stdout);
          return { reason: `${this.command} exited with code ${outcome.exitCode}${detail ? `: ${detail}` : ''}` };
        }
        return { reason: `${this.command} reported no GPU with memory usage${warnings[0] ? ` (${warnings[0]})` : ''}` };
      }
    }
  }

  private disable(reason: string): void {
    const wasDisabled = this.status.state === 'disabled';
    this.status = { state: 'disabled', reason };
    this.levels.clear();
    if (wasDisabled) {
      // Retries while disabled stay out of the default log: the one warning already said it all.
      this.logger?.debug({ reason }, 'VRAM monitoring still unavailable');
      return;
    }
    this.logger?.warn(
      { reason, retryInMinutes: Math.round(this.retryDelayMs / 60_000) },
      'VRAM monitoring disabled; routing continues without GPU memory data',
    );
  }

  private record(samples: GpuSample[]): void {
    if (this.status.state === 'disabled') this.logger?.info({ gpus: samples.length }, 'VRAM monitoring resumed');
    this.status = { state: 'enabled' };

    const at = this.now();
    const gpus = samples.map(toGpuMemory).sort((a, b) => a.index - b.index);
    const warnings = gpus.flatMap((gpu) => {
      const warning = warningFor(gpu);
      return warning ? [warning] : [];
    });
    this.logLevelChanges(gpus, warnings);

    const sample: VramSample = { at, gpus, warnings };
    this.latest = sample;
    this.history.push({ at, gpus: gpus.map((g) => ({ index: g.index, usedGb: g.usedGb })) });

    for (const listener of this.listeners) {
      try {
        // Each listener gets its own copy so one cannot alter what the next (or snapshot()) sees.
        listener({ at: new Date(at), gpus: gpus.map((g) => ({ ...g })), warnings: warnings.map((w) => ({ ...w })) });
      } catch (error) {
        this.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'VRAM sample listener failed');
      }
    }
  }

  /** Logs only when a GPU crosses a threshold, not on every sample above it. */
  private logLevelChanges(gpus: GpuMemory[], warnings: VramWarning[]): void {
    for (const gpu of gpus) {
      const warning = warnings.find((w) => w.gpu === gpu.index);
      const previous = this.levels.get(gpu.index);
      if (warning?.level === previous) continue;
      this.levels.set(gpu.index, warning?.level);
      if (warning && (previous === undefined || warning.level > previous)) this.logger?.warn({ gpu: gpu.index, level: warning.level }, warning.message);
      else this.logger?.debug({ gpu: gpu.index, level: warning?.level ?? null, memoryUtilizationPct: gpu.memoryUtilizationPct }, 'GPU memory pressure eased');
    }
  }

  private logParseWarnings(warnings: string[]): void {
    for (const warning of warnings) {
      if (this.loggedParseWarnings.has(warning)) continue;
      // Bounded: a line with a changing value (a counter) must not grow the set forever.
      if (this.loggedParseWarnings.size >= 100) this.loggedParseWarnings.clear();
      this.loggedParseWarnings.add(warning);
      this.logger?.warn({ warning }, 'unexpected nvidia-smi output');
    }
  }
}

function toGpuMemory(sample: GpuSample): GpuMemory {
  const gpu: GpuMemory = {
    index: sample.index,
    name: sample.name,
    totalGb: sample.totalMb / MIB_PER_GB,
    usedGb: sample.usedMb / MIB_PER_GB,
    freeGb: sample.freeMb / MIB_PER_GB,
    memoryUtilizationPct: sample.totalMb > 0 ? (sample.usedMb / sample.totalMb) * 100 : 0,
  };
  if (sample.utilizationPct !== undefined) gpu.utilizationPct = sample.utilizationPct;
  if (sample.temperatureC !== undefined) gpu.temperatureC = sample.temperatureC;
  return gpu;
}

function warningFor(gpu: GpuMemory): VramWarning | undefined {
  const level = VRAM_WARNING_LEVELS.find((threshold) => gpu.memoryUtilizationPct >= threshold);
  if (level === undefined) return undefined;
  const pct = Math.floor(gpu.memoryUtilizationPct);
  return {
    gpu: gpu.index,
    level,
    message: `GPU ${gpu.index} (${gpu.name}) has ${pct}% of its VRAM in use (${gpu.usedGb.toFixed(1)} of ${gpu.totalGb.toFixed(1)} GB)`,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function firstLine(text: string): string | undefined {
  return text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0);
}

/** Fixed-capacity FIFO: pushing past capacity overwrites the oldest entry without shifting an array. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) out.push(this.items[(start + i) % this.capacity] as T);
    return out;
  }
}
