/**
 * The model registry against real simulators: ids across backends, a backend going down and coming
 * back (its models kept as unavailable meanwhile), and one warning per outage rather than per poll.
 */
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../src/core/registry.js';
import { ollamaBackendDefinition } from '../src/plugins/backends/ollama/index.js';
import { startOllamaSimulator } from '../src/simulators/index.js';
import type { BackendPlugin, PluginLogger } from '../src/plugin-api/index.js';

function recordingLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_obj: object | string, msg?: string) => void lines.push({ level, msg: msg ?? '' });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } satisfies PluginLogger };
}

describe('ModelRegistry', () => {
  it('keeps a failing backend’s models as unavailable, warns once per outage, and recovers', async () => {
    const sim = await startOllamaSimulator({ models: [{ id: 'llama3.2:3b', parameterSizeB: 3.2 }] });
    const { lines, logger } = recordingLogger();
    const backend = (await ollamaBackendDefinition.create({ name: 'gpu', location: sim.url }, { logger, fetch, signal: new AbortController().signal })) as BackendPlugin;
    const registry = new ModelRegistry([backend], { prefix: '', logger });
    try {
      await registry.refresh(new AbortController().signal);
      expect(registry.snapshot()).toEqual([expect.objectContaining({ key: 'llama3.2:3b', available: true })]);

      sim.setFailure('http500');
      for (let i = 0; i < 3; i++) {
        const result = await registry.refresh(new AbortController().signal);
        expect(result.failedBackends).toEqual(['gpu']);
      }
      expect(registry.snapshot()).toEqual([expect.objectContaining({ key: 'llama3.2:3b', available: false })]);
      expect(lines.filter((l) => l.level === 'warn' && l.msg.startsWith('cannot list models'))).toHaveLength(1);

      sim.setFailure('none');
      await registry.refresh(new AbortController().signal);
      expect(registry.snapshot()[0]?.available).toBe(true);
      expect(lines.some((l) => l.level === 'info' && l.msg === 'backend answers again')).toBe(true);
    } finally {
      await sim.close();
    }
  });
});
