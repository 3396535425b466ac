/**
 * Stopping profiling: POST /admin/profiling/cancel and ProfilerService.CancelProfiling abort the run
 * in progress at once (not after the prompt's timeout), keep what it finished, drop queued work, and
 * leave the profiler free for the next run. GET /admin/profiling reports the status over REST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { ProfilerService, ReprofileState, type ReprofileResponse } from '../gen/smarterrouter/v1/profiler_pb.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

let sim: RunningSimulator;
let router: TestRouter;
let profiler: Client<typeof ProfilerService>;

beforeAll(async () => {
  sim = await startOllamaSimulator({
    models: [
      { id: 'llama3.1:8b', quality: { coding: 0.9, reasoning: 0.9, creativity: 0.9, general: 0.9 } },
      { id: 'slowpoke:7b', quality: { coding: 0.4, reasoning: 0.4, creativity: 0.4, general: 0.4 } },
    ],
  });
  // A hung prompt would only time out after 60 s: any stop before that is the cancel's doing.
  router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1', ROUTER_PROFILE_TIMEOUT: '60' });
  profiler = createClient(ProfilerService, createGrpcTransport({ baseUrl: router.url }));
});

afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

async function status(): Promise<Record<string, unknown>> {
  const res = await fetch(`${router.url}/admin/profiling`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** Resolves once slowpoke's first prompt is on the wire (and hangs there). */
async function slowpokeHanging(mark: number): Promise<void> {
  // The load before the prompt, or the prompt itself.
  while (!sim.requests.slice(mark).some((r) => (r.path === '/api/chat' || r.path === '/api/generate') && (r.body as { model?: string })?.model === 'slowpoke:7b')) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('cancelling profiling', () => {
  it('GET /admin/profiling reports an idle profiler; cancelling nothing says so', async () => {
    expect(await status()).toMatchObject({ running: false, current_models: [], queued_models: [], completed_count: 0, last_run_at: null, judge_fallbacks: 0 });
    expect(typeof (await status()).prompt_set_version).toBe('string');
    const res = await fetch(`${router.url}/admin/profiling/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cancelled: false, models: [], profiled_count: 0 });
    expect(await profiler.cancelProfiling({})).toMatchObject({ cancelled: false, models: [], profiledCount: 0 });
  });

  it('POST /admin/profiling/cancel stops a run at once, keeps the models it finished, and frees the profiler', async () => {
    sim.setFailure('hang', 'slowpoke:7b');
    const mark = sim.requests.length;
    const started = await fetch(`${router.url}/admin/reprofile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ force: true }) });
    expect(started.status).toBe(202);
    await slowpokeHanging(mark);
    expect(await status()).toMatchObject({ running: true, current_models: ['slowpoke:7b'] });
    // The hung prompt stays hung; later calls (the unload after the cancel) are answered.
    sim.setFailure('none');

    const t0 = performance.now();
    const res = await fetch(`${router.url}/admin/profiling/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cancelled: true, models: ['slowpoke:7b'], profiled_count: 1 });
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(await status()).toMatchObject({ running: false, current_models: [], queued_models: [], completed_count: 1 });
    // What finished stays: llama3.1:8b has its profile, slowpoke none.
    const profiles = (await (await fetch(`${router.url}/admin/profiles`)).json()) as { data: Array<{ model: string }> };
    expect(profiles.data.map((p) => p.model)).toEqual(['llama3.1:8b']);

    // The profiler takes the next run at once.
    const again = await fetch(`${router.url}/admin/reprofile?model=slowpoke:7b`, { method: 'POST' });
    expect(again.status).toBe(202);
    await router.core.knowledge.coordinator.current()?.done;
    const after = (await (await fetch(`${router.url}/admin/profiles`)).json()) as { data: Array<{ model: string }> };
    expect(after.data.map((p) => p.model).sort()).toEqual(['llama3.1:8b', 'slowpoke:7b']);
  });

  it('CancelProfiling ends a Reprofile stream with a FINISHED event naming the cancel, and ProfileModel answers ABORTED', async () => {
    sim.setFailure('hang', 'slowpoke:7b');
    const mark = sim.requests.length;
    const events: ReprofileResponse[] = [];
    const watching = (async () => {
      for await (const event of profiler.reprofile({ models: ['slowpoke:7b'], force: true })) events.push(event);
    })();
    await slowpokeHanging(mark);
    sim.setFailure('none');
    expect(await profiler.cancelProfiling({})).toMatchObject({ cancelled: true, models: ['slowpoke:7b'], profiledCount: 0 });
    await watching;
    const last = events.at(-1)!;
    expect(last.state).toBe(ReprofileState.FINISHED);
    expect(last.message).toContain('cancelled by an admin');

    sim.setFailure('hang', 'slowpoke:7b');
    const mark2 = sim.requests.length;
    const single = profiler.profileModel({ model: 'slowpoke:7b', force: true }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    await slowpokeHanging(mark2);
    sim.setFailure('none');
    await profiler.cancelProfiling({});
    const error = await single;
    expect(error?.code).toBe(Code.Aborted);
    expect(error?.rawMessage).toContain('cancelled by an admin');
  });

  it('refuses a body or query parameters on cancel, and cross-site cancels', async () => {
    const body = await fetch(`${router.url}/admin/profiling/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"x"}' });
    expect(body.status).toBe(400);
    expect(((await body.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    expect((await fetch(`${router.url}/admin/profiling/cancel?all=true`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${router.url}/admin/profiling?verbose=1`)).status).toBe(400);
    const crossSite = await fetch(`${router.url}/admin/profiling/cancel`, { method: 'POST', headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
  });
});
