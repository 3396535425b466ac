/**
 * Pure VRAM arithmetic for deciding whether a model fits and which loaded models to unload first.
 * GB are GiB throughout (1 GB = 2^30 bytes), matching how nvidia-smi totals and GPU marketing line up.
 */

export const BYTES_PER_GB = 1024 ** 3;

/** Headroom left when the user sets no budget: CUDA context, fragmentation, other processes' spikes. */
const DEFAULT_BUDGET_FRACTION = 0.9;

/** ROUTER_VRAM_MAX_TOTAL_GB's default: 90% of the detected total. */
export function defaultBudgetGb(totalGb: number): number {
  if (!Number.isFinite(totalGb) || totalGb <= 0) return 0;
  return totalGb * DEFAULT_BUDGET_FRACTION;
}

/**
 * Approximate bytes per weight of common GGUF quantisations, including their per-block scales
 * (Q4_K_M is ~4.8 bits per weight, not 4).
 */
export const BYTES_PER_WEIGHT = {
  F32: 4,
  F16: 2,
  BF16: 2,
  Q8_0: 1.06,
  Q6_K: 0.82,
  Q5_K_M: 0.71,
  Q4_K_M: 0.6,
  Q4_0: 0.56,
  Q3_K: 0.48,
  Q2_K: 0.38,
} as const satisfies Record<string, number>;

export type KnownQuantization = keyof typeof BYTES_PER_WEIGHT;

/**
 * Used when the backend reports no quantisation: Q4_K_M is what Ollama's default tags and most
 * published GGUFs ship, so it is the likeliest guess.
 */
export const DEFAULT_QUANTIZATION: KnownQuantization = 'Q4_K_M';

/** KV cache, activations and runtime buffers grow the weights by roughly this much at common context sizes. */
const RUNTIME_OVERHEAD_FACTOR = 1.1;
/** CUDA context and compute buffers a loaded model costs regardless of its size. */
const FIXED_OVERHEAD_BYTES = 0.5 * BYTES_PER_GB;

/** Closest known quantisation for a bit width, for names outside the table (IQ4_XS, Q5_K_S, Q3_K_L, ...). */
const BY_BITS: Record<string, KnownQuantization> = {
  '2': 'Q2_K',
  '3': 'Q3_K',
  '4': 'Q4_K_M',
  '5': 'Q5_K_M',
  '6': 'Q6_K',
  '8': 'Q8_0',
};

/** Maps a backend's quantisation label ("q4_K_M", "MOSTLY_Q4_K_M", "fp16", "IQ4_XS") to a table entry. */
export function normalizeQuantization(quantization: string | undefined): KnownQuantization {
  if (!quantization) return DEFAULT_QUANTIZATION;
  const label = quantization.trim().toUpperCase().replace(/^(MOSTLY|ALL)_/, '').replace(/-/g, '_');
  if (label in BYTES_PER_WEIGHT) return label as KnownQuantization;
  if (label === 'FP32') return 'F32';
  if (label === 'FP16') return 'F16';
  // Q4_K and Q4_K_S/Q4_K_L are within a few percent of Q4_K_M; likewise for the other K-quants.
  const bits = /^I?Q(\d)/.exec(label)?.[1] ?? /^(?:MX)?FP(\d)/.exec(label)?.[1];
  if (bits && BY_BITS[bits]) return BY_BITS[bits];
  if (/^(TQ1|IQ1)/.test(label)) return 'Q2_K';
  return DEFAULT_QUANTIZATION;
}

/** Bytes a model needs in VRAM once loaded: weights + ~10% + a fixed ~0.5 GB. */
export function estimateModelVramBytes(parameterCountB: number, quantization?: string): number {
  if (!Number.isFinite(parameterCountB) || parameterCountB < 0) {
    throw new RangeError(`parameterCountB must be a non-negative number, got ${parameterCountB}`);
  }
  const weights = parameterCountB * 1e9 * BYTES_PER_WEIGHT[normalizeQuantization(quantization)];
  return Math.ceil(weights * RUNTIME_OVERHEAD_FACTOR + FIXED_OVERHEAD_BYTES);
}

/**
 * Bytes a model needs when only its file size is known (no parameter count): the weights are the
 * file, plus the same runtime overhead as above.
 */
export function estimateVramFromFileBytes(fileBytes: number): number {
  if (!Number.isFinite(fileBytes) || fileBytes <= 0) return 0;
  return Math.ceil(fileBytes * RUNTIME_OVERHEAD_FACTOR + FIXED_OVERHEAD_BYTES);
}

export interface LoadedModel {
  key: string;
  vramBytes: number;
  /** Date or epoch milliseconds. */
  lastUsedAt: Date | number;
  pinned: boolean;
}

export interface EvictionPlan {
  /** Keys to unload, least recently used first. */
  evict: string[];
  /** Whether the new model fits the budget once `evict` is unloaded. */
  fits: boolean;
}

/**
 * Least-recently-used eviction: unloads the oldest unpinned models until `neededBytes` fits within
 * `budgetBytes`, and no further. `usedBytes` is what the GPUs hold now (other processes included), so
 * it may exceed the sum of `loaded`.
 *
 * When even unloading every unpinned model is not enough, `fits` is false and `evict` lists all of
 * them: the caller decides whether freeing that much still helps (a backend that offloads layers to
 * CPU runs faster with more VRAM) or whether to load nothing.
 */
export function planEviction(loaded: readonly LoadedModel[], neededBytes: number, budgetBytes: number, usedBytes: number): EvictionPlan {
  const fitsAfter = (freed: number) => usedBytes - freed + neededBytes <= budgetBytes;
  if (fitsAfter(0)) return { evict: [], fits: true };

  const candidates = loaded
    // Unloading a model that holds no VRAM (CPU-only) frees nothing and costs a reload later.
    .filter((m) => !m.pinned && m.vramBytes > 0)
    .sort((a, b) => time(a.lastUsedAt) - time(b.lastUsedAt) || a.key.localeCompare(b.key));

  const evict: string[] = [];
  let freed = 0;
  for (const model of candidates) {
    evict.push(model.key);
    freed += model.vramBytes;
    if (fitsAfter(freed)) return { evict, fits: true };
  }
  return { evict, fits: false };
}

function time(value: Date | number): number {
  return typeof value === 'number' ? value : value.getTime();
}
