/**
 * A streamed decision is recorded as `ok` at its first token; when the stream then ends otherwise,
 * the stored decision says how (real router, real SQLite file, read back through /admin/decisions).
 * And ROUTER_FEEDBACK_ENABLED=false keeps stored feedback out of the scores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const SLOW = 'llama3.2:3b';

interface DecisionJson {
  response_id: string;
  status: string;
  selected_model: string | null;
}

let sim: RunningSimulator;
let router: TestRouter;

beforeAll(async () => {
  // 20 tokens a second: a 60-token answer is still streaming when the test acts.
  sim = await startOllamaSimulator({ models: [{ id: SLOW, parameterSizeB: 3.2, tokensPerSecond: 20 }] });
  router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_CACHE_ENABLED: 'false' });
});
afterAll(async () => {
  await router?.stop();
  await sim?.close();
});

/** Starts a stream, reads its first chunk and returns the response id with the rest of the body. */
async function startStream(signal: AbortSignal): Promise<{ id: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: SLOW, stream: true, max_tokens: 60, messages: [{ role: 'user', content: 'tell me a long story about a fox' }] }),
    signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const id = /"id":"([^"]+)"/.exec(first)?.[1];
  expect(id).toBeTruthy();
  return { id: id!, reader };
}

async function decisionOf(responseId: string): Promise<DecisionJson | undefined> {
  const res = await fetch(`${router.url}/admin/decisions?limit=50`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { decisions: DecisionJson[] };
  return body.decisions.find((d) => d.response_id === responseId);
}

async function waitForStatus(responseId: string, status: string): Promise<DecisionJson> {
  const deadline = Date.now() + 5_000;
  let last: DecisionJson | undefined;
  while (Date.now() < deadline) {
    last = await decisionOf(responseId);
    if (last?.status === status) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`decision ${responseId} has status ${last?.status}, expected ${status}`);
}

describe('decision status of a stream that does not finish', () => {
  it('a finished stream stays ok', async () => {
    const { id, reader } = await startStream(new AbortController().signal);
    while (!(await reader.read()).done);
    expect((await waitForStatus(id, 'ok')).selected_model).toBe(SLOW);
  });

  it('a client that leaves mid-stream turns the decision into aborted', async () => {
    const controller = new AbortController();
    const { id } = await startStream(controller.signal);
    // Written as ok at the first token (the batch lands within 250 ms), then settled.
    expect((await waitForStatus(id, 'ok')).selected_model).toBe(SLOW);
    controller.abort();
    await waitForStatus(id, 'aborted');
  });

  it('a backend that fails after the first token turns it into failed_after_first_token', async () => {
    sim.setFailure('cut-stream', SLOW);
    try {
      const { id, reader } = await startStream(new AbortController().signal);
      // The stream ends with an error event, not [DONE].
      let rest = '';
      for (let step = await reader.read(); !step.done; step = await reader.read()) rest += new TextDecoder().decode(step.value);
      expect(rest).not.toContain('[DONE]');
      await waitForStatus(id, 'failed_after_first_token');
    } finally {
      sim.setFailure('none');
    }
  });
});

describe('ROUTER_FEEDBACK_ENABLED=false', () => {
  it('stored feedback no longer moves the scores', async () => {
    const dbFile = join(router.dir, 'router.db');
    const explainFeedback = async (r: TestRouter) => {
      const res = await fetch(`${r.url}/admin/explain?prompt=${encodeURIComponent('tell me a long story about a fox')}`);
      const body = (await res.json()) as { candidates: Array<{ model: string; factors: { feedback: number } | null }> };
      return body.candidates.find((c) => c.model === SLOW)?.factors?.feedback;
    };
    // Feedback on a decision of the running router (feedback on), then the same database without it.
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smarterrouter/main', max_tokens: 4, messages: [{ role: 'user', content: 'tell me a long story about a fox' }] }),
    });
    const answer = (await res.json()) as { id: string };
    const feedback = await fetch(`${router.url}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_id: answer.id, score: -1 }),
    });
    expect(feedback.status).toBe(200);
    expect(await explainFeedback(router)).toBeLessThan(0);

    const off = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_DATABASE_URL: dbFile, ROUTER_FEEDBACK_ENABLED: 'false' });
    try {
      expect(await explainFeedback(off)).toBe(0);
    } finally {
      await off.stop();
    }
  });
});
