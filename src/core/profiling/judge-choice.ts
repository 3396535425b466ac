/**
 * Which judge scores a profiling run. A judge plugin loaded through ROUTER_PLUGINS first (the first
 * one when several are; its failures and timeouts fall back to the heuristic, and profiles record
 * the plugin's name). Otherwise the heuristic judge unless ROUTER_JUDGE_ENABLED; then an LLM
 * judge on ROUTER_JUDGE_BASE_URL (with ROUTER_JUDGE_MODEL and ROUTER_JUDGE_API_KEY), else on a
 * backend model: ROUTER_JUDGE_MODEL when a backend has it, otherwise the largest available chat
 * model. The LLM judge is always wrapped so that its failures fall back to the heuristic, and a
 * judge that cannot be set up at all degrades to the heuristic with a warning, never a failed run.
 *
 * Chosen per run, because a backend model is only known once discovery has listed it. The judge
 * implementations are passed in, so this policy stays free of plugin imports.
 */
import type { BackendPlugin, JudgePlugin } from '../../plugin-api/index.js';
import type { RegistryEntry } from '../registry.js';

export interface JudgeSettings {
  enabled: boolean;
  model?: string;
  baseUrl?: string;
  apiKey?: string;
  /**
   * A third-party judge (ROUTER_PLUGINS), already guarded against throwing synchronously, hanging and
   * malformed verdicts. It is used instead of the built-in judges, with the heuristic as fallback.
   */
  plugin?: JudgePlugin;
}

export interface JudgeFactories {
  heuristic(): JudgePlugin;
  llm(options: { model: string; baseUrl?: string; apiKey?: string; backend?: BackendPlugin }): JudgePlugin;
  withFallback(primary: JudgePlugin, fallback: JudgePlugin, onFallback: (error: unknown) => void): JudgePlugin;
}

export interface JudgeChoiceLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface JudgeLookup {
  resolve(name: string): RegistryEntry | undefined;
  entriesList(): RegistryEntry[];
}

export function chooseJudge(
  settings: JudgeSettings,
  registry: JudgeLookup,
  factories: JudgeFactories,
  onFallback: (error: unknown) => void,
  logger?: JudgeChoiceLogger,
): JudgePlugin {
  const heuristic = factories.heuristic();
  if (settings.plugin) {
    const plugin = settings.plugin;
    logger?.info({ judge: plugin.name }, 'profiling answers are judged by the judge plugin (heuristic when it fails)');
    if (settings.enabled) logger?.warn({ judge: plugin.name }, 'ROUTER_JUDGE_ENABLED is set but a judge plugin is loaded: the plugin judges, not the LLM judge');
    // Profiles record the plugin's own name; verdicts that came from the fallback say so in their reasoning.
    return { ...factories.withFallback(plugin, heuristic, onFallback), name: plugin.name };
  }
  if (!settings.enabled) return heuristic;
  const model = settings.model?.trim() || undefined;
  try {
    let primary: JudgePlugin;
    if (settings.baseUrl) {
      if (!model) throw new Error('ROUTER_JUDGE_BASE_URL is set but ROUTER_JUDGE_MODEL is not: name the judge model');
      primary = factories.llm({ model, baseUrl: settings.baseUrl, apiKey: settings.apiKey });
      logger?.info({ judge: model, baseUrl: settings.baseUrl }, 'profiling answers are judged by an LLM at ROUTER_JUDGE_BASE_URL');
    } else {
      const entry = model ? registry.resolve(model) : largestChatModel(registry.entriesList());
      if (!entry || !entry.available || !entry.info.capabilities.chat) {
        throw new Error(model ? `judge model "${model}" is not an available chat model of any backend` : 'no backend has an available chat model to judge with');
      }
      primary = factories.llm({ model: entry.info.id, backend: entry.backend });
      logger?.info({ judge: entry.key, backend: entry.backend.name }, 'profiling answers are judged by a backend model');
    }
    return factories.withFallback(primary, heuristic, onFallback);
  } catch (error) {
    logger?.warn({ err: error }, 'LLM judge unavailable; the heuristic judge scores this profiling run');
    onFallback(error);
    return heuristic;
  }
}

/** With no judge named, the biggest model is the best bet for a fair grader. */
function largestChatModel(entries: readonly RegistryEntry[]): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  for (const e of entries) {
    if (!e.available || !e.info.capabilities.chat) continue;
    if (!best || (e.info.parameterCountB ?? 0) > (best.info.parameterCountB ?? 0)) best = e;
  }
  return best;
}
