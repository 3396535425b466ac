/**
 * One node-llama-cpp runtime per process (per GPU setting): loading the native binding costs ~0.6 s
 * and every backend instance can share it. It starts on first use, so a router with no GGUF traffic
 * never pays for it.
 */
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import type { PluginLogger } from '../../../plugin-api/index.js';

const runtimes = new Map<string, Promise<Llama>>();

export function sharedLlama(gpu: boolean, logger: PluginLogger): Promise<Llama> {
  const key = gpu ? 'gpu' : 'cpu';
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = getLlama({
      gpu: gpu ? 'auto' : false,
      // Never compile at runtime: a router must not start a CMake build (or a download) on a request.
      build: 'never',
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (!text) return;
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) logger.error({ llamaCpp: level }, text);
        else logger.warn({ llamaCpp: level }, text);
      },
    });
    runtimes.set(key, runtime);
    // A failed start (missing binary) is not cached: the next request tries again.
    runtime.catch(() => {
      if (runtimes.get(key) === runtime) runtimes.delete(key);
    });
  }
  return runtime;
}
