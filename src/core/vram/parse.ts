/**
 * Parses the CSV printed by
 * `nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu --format=csv,noheader,nounits`.
 *
 * nvidia-smi's CSV is informal: it never quotes (so a name may contain commas), drivers differ in whether
 * they honour `nounits`, fields a GPU cannot report come out as `[N/A]` or `[Not Supported]`, and
 * failures are printed as prose on the same stream. The parser therefore never throws: unusable lines
 * become warnings, and the caller decides what an empty result means.
 */

/** One GPU as nvidia-smi reports it. Memory figures are MiB (nvidia-smi's unit, whatever it prints). */
export interface GpuSample {
  index: number;
  name: string;
  totalMb: number;
  usedMb: number;
  /** Reported by nvidia-smi, or total - used when it reports none. */
  freeMb: number;
  /** GPU core utilisation (not memory), when the GPU reports it. */
  utilizationPct?: number;
  temperatureC?: number;
}

export interface NvidiaSmiParseResult {
  gpus: GpuSample[];
  warnings: string[];
}

/** The query the parser expects; exported so the runner and the parser cannot drift apart. */
export const NVIDIA_SMI_QUERY_FIELDS = ['index', 'name', 'memory.total', 'memory.used', 'memory.free', 'utilization.gpu', 'temperature.gpu'] as const;

export const NVIDIA_SMI_ARGS: readonly string[] = [`--query-gpu=${NVIDIA_SMI_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** Fields after the name; the name is whatever sits between the index and these. */
const TRAILING_FIELDS = 5;

/**
 * Messages nvidia-smi prints instead of data when there is nothing to monitor. They mean "no usable
 * GPU here" rather than "this line is malformed", so the monitor treats them as a reason to disable.
 */
const FAILURE_PATTERNS: readonly RegExp[] = [
  /No devices were found/i,
  /NVIDIA-SMI has failed/i,
  /couldn't communicate with the NVIDIA driver/i,
  /Failed to initialize NVML/i,
  /NVML library not found/i,
  /Driver\/library version mismatch/i,
];

/** The first line of `text` saying that nvidia-smi cannot see any GPU, if there is one. */
export function nvidiaSmiFailure(text: string): string | undefined {
  for (const line of splitLines(text)) {
    if (FAILURE_PATTERNS.some((pattern) => pattern.test(line))) return line;
  }
  return undefined;
}

export function parseNvidiaSmiCsv(text: string): NvidiaSmiParseResult {
  const gpus: GpuSample[] = [];
  const warnings: string[] = [];
  const seen = new Set<number>();

  for (const line of splitLines(text)) {
    if (FAILURE_PATTERNS.some((pattern) => pattern.test(line))) {
      warnings.push(line);
      continue;
    }
    const parsed = parseLine(line);
    if (typeof parsed === 'string') {
      // A header (someone dropped `noheader`) carries no data and is not worth a warning.
      if (parsed !== HEADER) warnings.push(parsed);
      continue;
    }
    if (seen.has(parsed.index)) {
      warnings.push(`GPU ${parsed.index} listed twice; keeping the first line`);
      continue;
    }
    seen.add(parsed.index);
    gpus.push(parsed);
  }
  return { gpus, warnings };
}

const HEADER = '\0header';

/** A GPU, or the warning explaining why the line is not one. */
function parseLine(line: string): GpuSample | string {
  const fields = line.split(',');
  if (fields.length < 2 + TRAILING_FIELDS) return `skipped unrecognised line: ${quote(line)}`;

  const indexText = fields[0].trim();
  if (indexText.toLowerCase() === 'index') return HEADER;
  if (!/^\d+$/.test(indexText)) return `skipped line without a GPU index: ${quote(line)}`;
  const index = Number(indexText);

  // nvidia-smi does not quote, so a comma inside the name splits it: re-join the middle fields
  // (with their original spacing) rather than trusting the field count.
  const tail = fields.slice(-TRAILING_FIELDS);
  const name = fields.slice(1, fields.length - TRAILING_FIELDS).join(',').trim();
  if (!name) return `skipped GPU ${index} without a name: ${quote(line)}`;

  const values: (number | undefined)[] = [];
  for (const [i, raw] of tail.entries()) {
    const value = parseValue(raw);
    if (value === INVALID) return `skipped GPU ${index}: ${NVIDIA_SMI_QUERY_FIELDS[2 + i]} is ${quote(raw.trim())}`;
    values.push(value);
  }
  const [total, used, free, utilization, temperature] = values;

  // Any two memory figures give the third; some drivers leave one of them [N/A].
  const totalMb = total ?? (used !== undefined && free !== undefined ? used + free : undefined);
  const usedMb = used ?? (totalMb !== undefined && free !== undefined ? Math.max(0, totalMb - free) : undefined);
  if (totalMb === undefined || usedMb === undefined) {
    // Unified-memory devices (Jetson, GB10) report no dedicated VRAM: nothing to budget against.
    return `skipped GPU ${index} (${name}): memory usage not reported`;
  }
  const freeMb = free ?? Math.max(0, totalMb - usedMb);

  const sample: GpuSample = { index, name, totalMb, usedMb, freeMb };
  if (utilization !== undefined) sample.utilizationPct = utilization;
  if (temperature !== undefined) sample.temperatureC = temperature;
  return sample;
}

const INVALID = Symbol('invalid');

/** Bracketed values are nvidia-smi's way of saying "not available" ([N/A], [Not Supported], [Unknown Error], ...). */
const MISSING = /^(\[.*\]|N\/A|Not Supported|Unknown|-)$/i;
/** A number with an optional unit, for drivers that ignore `nounits` ("24564 MiB", "35 %", "41 C"). */
const NUMBER_WITH_UNIT = /^(\d+(?:\.\d+)?)\s*(MiB|MB|GiB|GB|KiB|%|C)?$/i;

function parseValue(raw: string): number | undefined | typeof INVALID {
  const text = raw.trim();
  if (text === '' || MISSING.test(text)) return undefined;
  const match = NUMBER_WITH_UNIT.exec(text);
  if (!match) return INVALID;
  const value = Number(match[1]);
  switch (match[2]?.toLowerCase()) {
    case 'gib':
    case 'gb':
      return value * 1024;
    case 'kib':
      return value / 1024;
    default:
      // MiB is nvidia-smi's unit; "MB" in its output means MiB too.
      return value;
  }
}

function splitLines(text: string): string[] {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text);
}
