/** Runtime profiling: the prompt set, the profiler and the storage contract it writes through. */
export { PROMPT_SET, PROMPT_SET_VERSION, promptSetVersion, selectPrompts } from './prompts.js';
export {
  Profiler,
  aggregate,
  scaledTimeout,
  type ModelOutcome,
  type ProfileAllOptions,
  type ProfileAllResult,
  type ProfilerLogger,
  type ProfilerOptions,
} from './profiler.js';
export { ProfilingCoordinator, ProfilingBusyError, type CoordinatorOptions, type ProfilingStatus, type RunEvent, type RunHandle, type RunRequest, type RunState } from './coordinator.js';
export { VramGate } from './vram-gate.js';
export type * from './types.js';
