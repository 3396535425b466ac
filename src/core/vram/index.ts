/** GPU memory monitoring and VRAM budgeting. */
export { parseNvidiaSmiCsv, nvidiaSmiFailure, NVIDIA_SMI_ARGS, type GpuSample, type NvidiaSmiParseResult } from './parse.js';
export {
  VramMonitor,
  VRAM_WARNING_LEVELS,
  type GpuMemory,
  type VramHistoryEntry,
  type VramLogger,
  type VramMonitorOptions,
  type VramSample,
  type VramSampleListener,
  type VramSnapshot,
  type VramWarning,
  type VramWarningLevel,
} from './monitor.js';
export { execFileRunner, type ExecOptions, type ExecOutcome, type ExecRunner } from './exec.js';
export {
  BYTES_PER_GB,
  BYTES_PER_WEIGHT,
  DEFAULT_QUANTIZATION,
  defaultBudgetGb,
  estimateModelVramBytes,
  estimateVramFromFileBytes,
  normalizeQuantization,
  planEviction,
  type EvictionPlan,
  type KnownQuantization,
  type LoadedModel,
} from './budget.js';
