/**
 * A third-party judge plugin, kept from costing more than its own opinion: a synchronous throw, a
 * rejection, a malformed verdict or a verdict that takes longer than `timeoutMs` all become a
 * rejected PluginError, which the fallback wrapper answers with the heuristic verdict. A plugin that
 * ignores its AbortSignal is no longer waited for once the time is up.
 */
import { PluginError, SPECIFICATION_VERSION, type JudgePlugin, type JudgeVerdict } from '../../plugin-api/index.js';

export function guardJudge(plugin: JudgePlugin, timeoutMs: number): JudgePlugin {
  const name = plugin.name;
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name,
    async judge(input, options): Promise<JudgeVerdict> {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([options.signal, timeout]);
      let onAbort: (() => void) | undefined;
      const stopped = new Promise<never>((_, reject) => {
        onAbort = () =>
          reject(
            options.signal.aborted
              ? new PluginError({ code: 'aborted', message: 'judging aborted', retryable: false, cause: options.signal.reason })
              : new PluginError({ code: 'timeout', message: `judge plugin "${name}" gave no verdict within ${timeoutMs} ms` }),
          );
        signal.addEventListener('abort', onAbort, { once: true });
      });
      stopped.catch(() => undefined);
      try {
        const verdict = await Promise.race([Promise.resolve().then(() => plugin.judge(input, { ...options, signal })), stopped]);
        const score = (verdict as Partial<JudgeVerdict> | null | undefined)?.score;
        if (typeof score !== 'number' || !Number.isFinite(score)) {
          throw new PluginError({ code: 'bad_response', message: `judge plugin "${name}" returned no numeric score` });
        }
        return verdict;
      } catch (error) {
        if (PluginError.isInstance(error)) throw error;
        throw new PluginError({ code: 'internal', message: `judge plugin "${name}" failed: ${error instanceof Error ? error.message : String(error)}`, cause: error });
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
    async dispose() {
      await plugin.dispose?.();
    },
  };
}
