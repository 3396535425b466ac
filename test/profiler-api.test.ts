/**
 * ProfilerService (Reprofile, ProfileModel, GetStatus, SyncBenchmarks), POST /admin/reprofile and
 * `npm run profile`, over real transports against a router in front of the Ollama simulator. The
 * router starts with profiling on start-up off (the test-router default), so every run here is one
 * the test asked for.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { Category } from '../gen/smarterrouter/v1/common_pb.js';
import { ProfilerService, ReprofileState, type ReprofileResponse } from '../gen/smarterrouter/v1/profiler_pb.js';
import { PROMPT_SET_VERSION } from '../src/core/profiling/index.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const ARENA_CSV = fileURLToPath(new URL('./fixtures/benchmarks/arena.csv', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ErrorJson {
  error: { message: string; type: string; code: string | null; param: string | null };
}

let sim: RunningSimulator;
let router: TestRouter;
let profiler: Client<typeof ProfilerService>;
let admin: Client<typeof AdminService>;

beforeAll(async () => {
  sim = await startOllamaSimulator({
    models: [
      { id: 'llama3.1:8b', quality: { coding: 0.9, reasoning: 0.9, creativity: 0.9, general: 0.9 } },
      { id: 'slowpoke:7b', quality: { coding: 0.4, reasoning: 0.4, creativity: 0.4, general: 0.4 } },
      { id: 'nomic-embed-text:latest', capabilities: { embeddings: true } },
    ],
  });
  router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1', ROUTER_PROFILE_TIMEOUT: '1' });
  const transport = createGrpcTransport({ baseUrl: router.url });
  profiler = createClient(ProfilerService, transport);
  admin = createClient(AdminService, transport);
});

afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

async function rpcError(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(error, 'the call should have failed').toBeDefined();
  return error!;
}

async function collect(stream: AsyncIterable<ReprofileResponse>): Promise<ReprofileResponse[]> {
  const events: ReprofileResponse[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('ProfilerService', () => {
  it('GetStatus reports an idle profiler that never ran', async () => {
    const status = await profiler.getStatus({});
    expect(status).toMatchObject({ running: false, currentModel: '', queuedModels: [], completedCount: 0, promptSetVersion: PROMPT_SET_VERSION });
    expect(status.lastRunAt).toBeUndefined();
    expect((await admin.listProfiles({})).profiles).toEqual([]);
  });

  it('Reprofile streams progress (model, category, prompt i/n, elapsed, ETA) until the run is over', async () => {
    const events = await collect(profiler.reprofile({ models: ['llama3.1:8b'] }));
    expect(events[0]).toMatchObject({ state: ReprofileState.STARTED, modelCount: 1, promptCount: 4, model: '' });
    const prompts = events.filter((e) => e.state === ReprofileState.PROMPT_DONE);
    expect(prompts.map((e) => e.promptIndex)).toEqual([1, 2, 3, 4]);
    expect(prompts.map((e) => e.category)).toEqual([Category.CODING, Category.REASONING, Category.CREATIVITY, Category.GENERAL]);
    for (const e of prompts) {
      expect(e).toMatchObject({ model: 'llama3.1:8b', modelIndex: 1, modelCount: 1, promptCount: 4 });
      expect(e.elapsedSeconds).toBeGreaterThanOrEqual(0);
      expect(e.etaSeconds).toBeGreaterThanOrEqual(0);
    }
    expect(prompts.at(-1)?.etaSeconds).toBe(0);
    expect(events.at(-2)).toMatchObject({ state: ReprofileState.MODEL_DONE, model: 'llama3.1:8b', promptIndex: 4 });
    expect(events.at(-1)).toMatchObject({ state: ReprofileState.FINISHED, message: expect.stringContaining('1 profiled') });

    const status = await profiler.getStatus({});
    expect(status).toMatchObject({ running: false, completedCount: 1 });
    expect(status.lastRunAt).toBeDefined();
    const { profiles } = await admin.listProfiles({ model: 'llama3.1' });
    expect(profiles).toHaveLength(1);
    expect(profiles[0].scores).toHaveLength(4);
  });

  it('skips what is current unless forced; embedding-only models are never profiled', async () => {
    const again = await collect(profiler.reprofile({ models: ['llama3.1:8b', 'nomic-embed-text:latest'] }));
    expect(again[0]).toMatchObject({ state: ReprofileState.STARTED, modelCount: 0 });
    const skipped = again.filter((e) => e.state === ReprofileState.MODEL_SKIPPED);
    expect(skipped.map((e) => [e.model, e.message])).toEqual([
      ['llama3.1:8b', 'unchanged since the last profile'],
      ['nomic-embed-text:latest', 'not a chat model (embedding-only)'],
    ]);
    expect(again.at(-1)?.state).toBe(ReprofileState.FINISHED);

    const one = await profiler.profileModel({ model: 'llama3.1:8b' });
    expect(one.skipped).toBe(true);
    expect(one.profile?.model).toBe('llama3.1:8b');
    const forced = await profiler.profileModel({ model: 'llama3.1:8b', force: true });
    expect(forced.skipped).toBe(false);
    expect(forced.profile?.scores.map((s) => s.category).sort()).toEqual([Category.CODING, Category.REASONING, Category.CREATIVITY, Category.GENERAL].sort());
    expect(forced.profile?.backend).toBe('ollama');
  });

  it('ProfileModel answers NOT_FOUND, INVALID_ARGUMENT and FAILED_PRECONDITION for bad requests', async () => {
    expect((await rpcError(profiler.profileModel({ model: 'no-such-model:1b' }))).code).toBe(Code.NotFound);
    expect((await rpcError(profiler.profileModel({ model: ' ' }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(profiler.profileModel({ model: 'nomic-embed-text:latest' }))).code).toBe(Code.FailedPrecondition);
    expect((await rpcError(collect(profiler.reprofile({ models: ['ghost:7b'] })))).code).toBe(Code.NotFound);
  });

  it('POST /admin/reprofile reads its options from a JSON body too, and refuses body keys it does not know', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    type ErrorJson = { error: Record<string, unknown> };
    // A misspelt key must not start a run of every model.
    const misspelt = await post('/admin/reprofile', { models: ['llama3.1:8b'] });
    expect(misspelt.status).toBe(400);
    expect(((await misspelt.json()) as ErrorJson).error).toMatchObject({ code: 'unknown_parameter', param: 'models' });
    // The body's model is the one looked up (none of these start a run).
    const ghost = await post('/admin/reprofile', { model: 'ghost:7b', force: true });
    expect(ghost.status).toBe(404);
    expect(((await ghost.json()) as ErrorJson).error).toMatchObject({ code: 'model_not_found', message: expect.stringContaining('ghost:7b') });
    expect((await post('/admin/reprofile', { model: ['ghost:7b', 'llama3.1:8b'] })).status).toBe(404);
    const both = await post('/admin/reprofile?force=true', { model: 'llama3.1:8b' });
    expect(both.status).toBe(400);
    expect(((await both.json()) as ErrorJson).error.message).toMatch(/query string or in the body, not both/);
    for (const bad of [[1], 'llama3.1:8b', { model: 5 }, { force: 'yes' }, { model: '' }]) {
      const res = await post('/admin/reprofile', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as ErrorJson).error.type).toBe('invalid_request_error');
    }
  });

  it('POST /admin/reprofile refuses an empty or blank model id (body or query) instead of profiling every model', async () => {
    const post = (path: string, body?: unknown) =>
      fetch(`${router.url}${path}`, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const runs = router.core.knowledge.coordinator.status().completedCount;
    const cases: Array<[string, unknown]> = [
      ['/admin/reprofile', { model: [' '] }],
      ['/admin/reprofile', { model: [''] }],
      ['/admin/reprofile', { model: ' ' }],
      ['/admin/reprofile', { model: ['llama3.1:8b', '\t'] }],
      ['/admin/reprofile?model=%20', undefined],
      ['/admin/reprofile?model=', undefined],
      ['/admin/reprofile?model=llama3.1:8b&model=%20', undefined],
    ];
    for (const [path, body] of cases) {
      const res = await post(path, body);
      const label = `${path} ${JSON.stringify(body)}`;
      expect(res.status, label).toBe(400);
      expect(((await res.json()) as ErrorJson).error, label).toMatchObject({
        type: 'invalid_request_error',
        code: 'invalid_value',
        param: 'model',
        message: expect.stringMatching(/empty or blank/),
      });
    }
    expect(router.core.knowledge.coordinator.current()).toBeUndefined();
    expect(router.core.knowledge.coordinator.status().completedCount).toBe(runs);
  });

  it('POST /admin/reprofile: a body of the wrong shape names the field and what it allows, not "must be a JSON object"', async () => {
    const post = (body: unknown) => fetch(`${router.url}/admin/reprofile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const cases: Array<[unknown, Record<string, unknown>]> = [
      [{ model: [1] }, { param: 'model[0]', code: 'invalid_type', message: "Invalid type for 'model[0]': expected a string, but got an integer instead." }],
      [{ force: 'yes' }, { param: 'force', code: 'invalid_type', message: "Invalid type for 'force': expected a boolean, but got a string instead." }],
      [{ model: 5 }, { param: 'model', code: 'invalid_type', message: "Invalid type for 'model': expected a string or an array, but got an integer instead." }],
      [{ model: ['x'.repeat(300)] }, { param: 'model[0]', code: 'string_above_max_length' }],
      // Bodies that really are not objects keep that answer.
      [[1], { param: null, code: 'invalid_type', message: 'The request body must be a JSON object.' }],
      ['llama3.1:8b', { param: null, code: 'invalid_type', message: 'The request body must be a JSON object.' }],
    ];
    for (const [body, expected] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const json = (await res.json()) as ErrorJson;
      expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(json.error, JSON.stringify(body)).toMatchObject({ type: 'invalid_request_error', ...expected });
    }
    // The same for the other admin body with a null-or-object schema.
    const sync = await fetch(`${router.url}/admin/benchmarks/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sources: 'arena.csv' }) });
    expect(sync.status).toBe(400);
    expect(((await sync.json()) as ErrorJson).error).toMatchObject({ param: 'sources', code: 'invalid_type', message: "Invalid type for 'sources': expected an array, but got a string instead." });
  });

  it('one run at a time: a second Reprofile, ProfileModel or POST /admin/reprofile is refused while one runs, and timeouts are recorded', async () => {
    // A model that does not answer keeps the run busy until its prompt times out (1 s).
    sim.setFailure('hang', 'slowpoke:7b');
    const mark = sim.requests.length;
    const res = await fetch(`${router.url}/admin/reprofile?model=slowpoke:7b&force=true`, { method: 'POST' });
    expect(res.status).toBe(202);
    const started = await res.json();
    expect(started).toMatchObject({ status: 'started', force: true, models: ['slowpoke:7b'], skipped: [], prompt_set_version: PROMPT_SET_VERSION });
    // The first prompt's load (or the prompt) is on the wire and hangs: from here the run is certainly busy.
    while (!sim.requests.slice(mark).some((r) => (r.path === '/api/generate' || (r.path === '/api/chat' && (r.body as { messages?: unknown[] })?.messages?.length)) && (r.body as { model?: string })?.model === 'slowpoke:7b')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    expect((await rpcError(collect(profiler.reprofile({})))).code).toBe(Code.Aborted);
    const busy = await rpcError(profiler.profileModel({ model: 'llama3.1:8b', force: true }));
    expect(busy.code).toBe(Code.Aborted);
    expect(busy.rawMessage).toMatch(/already in progress/);
    const conflict = await fetch(`${router.url}/admin/reprofile`, { method: 'POST' });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as ErrorJson).error).toMatchObject({ code: 'profiling_in_progress', type: 'invalid_request_error' });
    const status = await profiler.getStatus({});
    expect(status.running).toBe(true);
    expect([status.currentModel, ...status.queuedModels]).toContain('slowpoke:7b');

    // The hung prompt times out; the later ones are answered.
    sim.setFailure('none');
    await router.core.knowledge.coordinator.current()?.done;
    const { profiles } = await admin.listProfiles({ model: 'slowpoke' });
    expect(profiles[0]).toMatchObject({ failures: 1, timeouts: 1 });
    const coding = profiles[0].scores.find((s) => s.category === Category.CODING);
    expect(coding?.score).toBe(0);
    expect(profiles[0].scores.find((s) => s.category === Category.GENERAL)?.score).toBeGreaterThan(0);
  });

  it('POST /admin/reprofile rejects bad input with OpenAI error JSON', async () => {
    const bad = await fetch(`${router.url}/admin/reprofile?force=maybe`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorJson).error.type).toBe('invalid_request_error');
    const unknown = await fetch(`${router.url}/admin/reprofile?model=ghost:7b`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorJson).error).toMatchObject({ code: 'model_not_found', param: 'model' });
    const extra = await fetch(`${router.url}/admin/reprofile?forse=true`, { method: 'POST' });
    expect(extra.status).toBe(400);
  });

  it('SyncBenchmarks imports a file, reports an unreachable URL without failing, and ListBenchmarks shows the source', async () => {
    const result = await profiler.syncBenchmarks({ sources: [ARENA_CSV, 'http://127.0.0.1:9/leaderboard.json'] });
    expect(result.results.map((r) => r.source)).toEqual([ARENA_CSV, 'http://127.0.0.1:9/leaderboard.json']);
    expect(result.results[0]).toMatchObject({ ok: true, error: '' });
    expect(result.results[0].rows).toBeGreaterThan(0);
    expect(result.results[1]).toMatchObject({ ok: false, rows: 0, error: expect.stringMatching(/unreachable/) });
    expect(result.rowsTotal).toBe(result.results[0].rows);

    const { rows } = await admin.listBenchmarks({ model: 'llama3.1:8b', benchmark: 'arena' });
    expect(rows.find((r) => r.sourceUrl === ARENA_CSV)).toMatchObject({ model: 'llama3.1:8b', matchedEntry: 'llama-3.1-8b-instruct', source: 'lmarena', score: 1175.9 });

    const defaults = await profiler.syncBenchmarks({});
    expect(defaults.results).toHaveLength(1);
    expect(defaults.results[0].source).toMatch(/^bundled@/);
    expect((await rpcError(profiler.syncBenchmarks({ sources: [''] }))).code).toBe(Code.InvalidArgument);
  });

  it('POST /admin/benchmarks/sync imports like SyncBenchmarks, with the same refusals', async () => {
    const sync = (body: unknown) => fetch(`${router.url}/admin/benchmarks/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await sync({ sources: [ARENA_CSV, 'http://127.0.0.1:9/leaderboard.json'] });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { results: Array<{ source: string; ok: boolean; rows: number; error: string | null }>; rows_total: number };
    expect(json.results.map((r) => r.source)).toEqual([ARENA_CSV, 'http://127.0.0.1:9/leaderboard.json']);
    expect(json.results[0]).toMatchObject({ ok: true, error: null });
    expect(json.results[1]).toMatchObject({ ok: false, rows: 0, error: expect.stringMatching(/unreachable/) });
    expect(json.rows_total).toBe(json.results[0]!.rows);
    for (const bad of [{ sources: [''] }, { sources: Array.from({ length: 33 }, () => ARENA_CSV) }, { source: ARENA_CSV }, { sources: 'x' }]) {
      expect((await sync(bad)).status, JSON.stringify(bad).slice(0, 60)).toBe(400);
    }
  });

  it('lists stored benchmark sources and deletes an imported one (REST and RPC), never a bundled one', async () => {
    await profiler.syncBenchmarks({ sources: [ARENA_CSV] });
    const listed = (await admin.listBenchmarkSources({})).sources;
    const imported = listed.find((s) => s.sourceUrl === ARENA_CSV)!;
    expect(imported).toMatchObject({ source: 'lmarena', bundled: false });
    expect(imported.rows).toBeGreaterThan(0);
    const bundled = listed.find((s) => s.bundled)!;
    expect(bundled.rows).toBeGreaterThan(0);
    expect((await fetch(`${router.url}/admin/benchmarks/sources?limit=5`)).status).toBe(400);
    const rest = (await (await fetch(`${router.url}/admin/benchmarks/sources`)).json()) as { data: Array<{ source_url: string | null; rows: number }> };
    expect(rest.data.find((s) => s.source_url === ARENA_CSV)?.rows).toBe(imported.rows);

    const del = (query: string) => fetch(`${router.url}/admin/benchmarks/sources?${query}`, { method: 'DELETE' });
    const removed = await del(`source=${encodeURIComponent(ARENA_CSV)}`);
    expect(await removed.json()).toEqual({ deleted: imported.rows });
    expect((await admin.listBenchmarkSources({})).sources.some((s) => s.sourceUrl === ARENA_CSV)).toBe(false);
    // Routing no longer sees the imported rating.
    expect((await admin.listBenchmarks({ model: 'llama3.1:8b', benchmark: 'arena' })).rows.some((r) => r.sourceUrl === ARENA_CSV)).toBe(false);

    expect((await del(`source=${encodeURIComponent(ARENA_CSV)}`)).status).toBe(404);
    const refused = await del(`source=${encodeURIComponent(bundled.source)}`);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: Record<string, unknown> }).error).toMatchObject({ code: 'bundled_source', param: 'source' });
    expect((await del('')).status).toBe(400);
    expect((await rpcError(admin.deleteBenchmarkSource({ source: ' ' }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(admin.deleteBenchmarkSource({ source: '/nowhere.csv' }))).code).toBe(Code.NotFound);
    expect((await rpcError(admin.deleteBenchmarkSource({ source: bundled.source }))).code).toBe(Code.FailedPrecondition);
    await profiler.syncBenchmarks({ sources: [ARENA_CSV] });
    expect((await admin.deleteBenchmarkSource({ source: ARENA_CSV })).deleted).toBe(imported.rows);
  });
});

describe('npm run profile', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/profile.ts', '--url', router.url, ...args], { cwd: ROOT, env: { ...process.env, ROUTER_ADMIN_API_KEY: '' } });

  it('profiles through the running router and prints progress and a summary', async () => {
    const { stdout } = await cli('--force', '--model', 'llama3.1:8b');
    expect(stdout).toContain('profiling 1 model(s)');
    expect(stdout).toMatch(/done {4}llama3\.1:8b \(1\/1\) coding \d\.\d\d/);
    expect(stdout).toMatch(/finished: 1 profiled, 0 failed, 0 skipped/);
  });

  it('exits 2 with a clear message when no router listens', async () => {
    const error = (await run(process.execPath, ['--import', 'tsx', 'scripts/profile.ts', '--url', 'http://127.0.0.1:9'], { cwd: ROOT }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain('cannot reach the router');
  });
});

describe('Connect protocol over HTTP/1.1', () => {
  it('GetStatus works with the Connect transport the CLI uses', async () => {
    const client = createClient(ProfilerService, createConnectTransport({ baseUrl: router.url, httpVersion: '1.1' }));
    expect((await client.getStatus({})).promptSetVersion).toBe(PROMPT_SET_VERSION);
  });
});
