/**
 * The list of loaded plugins with the instances made from each: one implementation for
 * GET /admin/plugins and AdminService.ListPlugins.
 */
import type { BackendSpec } from '../config/index.js';
import type { LoadedPluginInfo, PluginRegistry } from '../plugins/loader.js';

export interface PluginDescription extends LoadedPluginInfo {
  /**
   * Backend instance names (ROUTER_BACKENDS) created from this plugin; for a classifier or judge,
   * its own name when it is in use (every loaded classifier is asked; one judge judges, the
   * heuristic stands in when it fails), else nothing.
   */
  instances: string[];
}

/** Which judges judge profiling answers: a judge plugin, else the LLM judge when enabled; the heuristic always stands by. */
export interface JudgesInUse {
  plugin?: string;
  llm: boolean;
}

/**
 * The registry as the admin API lists it: the loaded plugins plus those the router creates itself
 * because they need its internals (the embedding classifier needs the router's embedder), so an
 * operator sees every plugin that takes part in routing.
 */
export function withRouterCreated(plugins: PluginRegistry, created: readonly LoadedPluginInfo[]): PluginRegistry {
  if (created.length === 0) return plugins;
  return {
    backendDefinition: (kind) => plugins.backendDefinition(kind),
    backendKinds: () => plugins.backendKinds(),
    isBuiltinBackend: (kind) => plugins.isBuiltinBackend(kind),
    classifiers: () => plugins.classifiers(),
    judges: () => plugins.judges(),
    list: () => [...plugins.list(), ...created],
  };
}

export function describePlugins(plugins: PluginRegistry, specs: readonly BackendSpec[], judges: JudgesInUse = { llm: false }): PluginDescription[] {
  const kindOrder = { backend: 0, classifier: 1, judge: 2 } as const;
  const judgeInUse = (info: LoadedPluginInfo): boolean => {
    if (info.source !== 'builtin') return info.name === judges.plugin;
    if (info.name === 'heuristic') return true;
    return info.name === 'llm' && judges.plugin === undefined && judges.llm;
  };
  return plugins
    .list()
    .map((info) => ({
      ...info,
      instances:
        info.kind === 'backend'
          ? specs.filter((s) => plugins.backendDefinition(s.kind)?.manifest.name === info.name || s.kind === info.name).map((s) => s.name)
          : info.kind === 'classifier' || judgeInUse(info)
            ? [info.name]
            : [],
    }))
    .sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || a.name.localeCompare(b.name));
}
