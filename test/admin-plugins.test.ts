/**
 * Plugins seen from outside: a third-party backend loaded from ROUTER_PLUGINS serves models next to
 * a built-in backend, and both doors (GET /admin/plugins, AdminService.ListPlugins) list the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService, PluginKind, PluginSource } from '../gen/smarterrouter/v1/admin_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const ECHO = new URL('../examples/backend-plugin-echo', import.meta.url).pathname;
let sim: RunningSimulator;
let router: TestRouter;

beforeAll(async () => {
  sim = await startOllamaSimulator({ models: [{ id: 'llama3.2:3b', parameterSizeB: 3.2 }] });
  router = await startTestRouter({
    ROUTER_PLUGINS: ECHO,
    ROUTER_BACKENDS: `gpu=ollama:${sim.url},echo=smarterrouter-backend-echo:local`,
  });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

describe('plugins', () => {
  it('GET /admin/plugins lists built-ins and the third-party plugin with its instances', async () => {
    const res = await fetch(`${router.url}/admin/plugins`);
    expect(res.status).toBe(200);
    const { plugins } = (await res.json()) as { plugins: Array<Record<string, unknown>> };
    expect(plugins).toContainEqual(
      expect.objectContaining({ name: 'smarterrouter-backend-echo', kind: 'backend', source: 'path', specification_version: 'v1', instances: ['echo'] }),
    );
    expect(plugins).toContainEqual(expect.objectContaining({ name: 'ollama', kind: 'backend', source: 'builtin', instances: ['gpu'], location: null }));
    expect(plugins).toContainEqual(expect.objectContaining({ kind: 'classifier', source: 'builtin' }));
    // Classifiers and judges in use name themselves as their instance: every classifier is asked;
    // without a judge plugin or ROUTER_JUDGE_ENABLED the heuristic judges and the LLM judge is idle.
    const byName = new Map(plugins.map((p) => [p.name, p]));
    expect(byName.get('builtin')).toMatchObject({ kind: 'classifier', instances: ['builtin'] });
    expect(byName.get('heuristic')).toMatchObject({ kind: 'judge', instances: ['heuristic'] });
    expect(byName.get('llm')).toMatchObject({ kind: 'judge', instances: [] });
  });

  it('AdminService.ListPlugins answers the same over gRPC', async () => {
    const client = createClient(AdminService, createGrpcTransport({ baseUrl: router.url }));
    const { plugins } = await client.listPlugins({});
    const echo = plugins.find((p) => p.name === 'smarterrouter-backend-echo');
    expect(echo).toMatchObject({ kind: PluginKind.BACKEND, source: PluginSource.PATH, specificationVersion: 'v1', instances: ['echo'] });
    expect(echo?.location).toContain('backend-plugin-echo');
    expect(plugins.find((p) => p.name === 'ollama')).toMatchObject({ source: PluginSource.BUILTIN, instances: ['gpu'] });
  });

  it('third-party models route beside built-in ones', async () => {
    const ids = router.core.router.listModels().map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['llama3.2:3b', 'echo-small', 'echo-large']));
    const stream = await router.core.router.chat(
      { model: 'echo-small', messages: [{ role: 'user', content: 'ping from the test' }], protocol: 'rest' },
      new AbortController().signal,
    );
    let text = '';
    for await (const part of stream.parts) if (part.type === 'text-delta') text += part.delta;
    expect(stream.info.backend).toBe('echo');
    expect(text).toContain('ping from the test');
  });
});
