/**
 * A judge that never leaves a profiling prompt unscored: the primary (LLM) judge's failure, after
 * its own retries, is reported and the fallback (heuristic) verdict is used instead, with the reason
 * written into the verdict so stored profiles show which scores came from the fallback.
 */
import { PluginError, SPECIFICATION_VERSION, type JudgePlugin, type JudgeVerdict } from '../../plugin-api/index.js';

export function withFallback(primary: JudgePlugin, fallback: JudgePlugin, onFallback?: (error: unknown) => void): JudgePlugin {
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: `${primary.name}+${fallback.name}`,
    async judge(input, options): Promise<JudgeVerdict> {
      try {
        return await primary.judge(input, options);
      } catch (error) {
        // Cancellation is not a judge failure: the caller has gone, nobody wants a verdict.
        if (options.signal.aborted || (PluginError.isInstance(error) && error.code === 'aborted')) throw error;
        try {
          onFallback?.(error);
        } catch {
          // A failing observer must not cost the verdict.
        }
        const code = PluginError.isInstance(error) ? error.code : 'internal';
        const verdict = await fallback.judge(input, options);
        const note = `fallback: ${fallback.name} (${primary.name} judge failed: ${code})`;
        return { score: verdict.score, reasoning: verdict.reasoning ? `${note}; ${verdict.reasoning}` : note };
      }
    },
    async dispose() {
      await Promise.allSettled([primary.dispose?.(), fallback.dispose?.()]);
    },
  };
}
