/**
 * The `smarterrouter` CLI against a live router over Connect: the bin itself is spawned for the
 * process-level behaviour (exit codes, stderr, a followed stream), the other commands run main()
 * in-process with captured output (same code, real RPCs, faster than a process per case).
 */
import { spawn, execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { renderBar, formatDuration } from '../src/cli/progress.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const run = promisify(execFile);
const BIN = new URL('../bin/smarterrouter.js', import.meta.url).pathname;
const ADMIN_KEY = 'cli-test-admin-key';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

describe('smarterrouter CLI', () => {
  let ollama: RunningSimulator;
  let router: TestRouter;

  async function cli(...args: string[]) {
    const out = capture();
    const err = capture();
    const code = await main([...args, '--url', router.url], { out: out.stream, err: err.stream, env: { ROUTER_ADMIN_API_KEY: ADMIN_KEY } });
    return { code, out: out.text(), err: err.text() };
  }

  beforeAll(async () => {
    ollama = await startOllamaSimulator({
      models: [
        { id: 'qwen2.5-coder:7b', parameterSizeB: 7.6, quality: { coding: 0.9, reasoning: 0.5, creativity: 0.3, general: 0.5 } },
        { id: 'llama3.2:3b', parameterSizeB: 3.2, quality: { coding: 0.4, reasoning: 0.4, creativity: 0.8, general: 0.7 } },
      ],
    });
    router = await startTestRouter({ ROUTER_OLLAMA_URL: ollama.url, ROUTER_ADMIN_API_KEY: ADMIN_KEY, ROUTER_PROFILE_PROMPTS_PER_CATEGORY: '1' });
  });
  afterAll(async () => {
    await router?.stop();
    await ollama?.close();
  });

  it('explains a prompt as a table, and as JSON', async () => {
    const text = await cli('explain', 'write a binary search in rust');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^coding \/ \w+ \([\d.]+\) -> qwen2\.5-coder:7b$/m);
    expect(text.out).toMatch(/^model\s+score\s+capability/m);
    expect(text.out).toContain('llama3.2:3b');

    const json = await cli('explain', '--json', '--quality', '0.2', 'write a binary search in rust');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out);
    expect(parsed).toMatchObject({ category: 'CATEGORY_CODING', selectedModel: expect.any(String), qualityPreference: 0.2 });
    expect(parsed.candidates).toHaveLength(2);
  });

  it('explain shows every factor that moves a score, so the columns add up to it', async () => {
    // Columns of a table row, by header (headers may hold a space: "size penalty").
    const parse = (out: string) => {
      const lines = out.split('\n');
      const headerAt = lines.findIndex((l) => l.startsWith('model '));
      const header = lines[headerAt]!;
      const names = [...header.matchAll(/\S+(?: \S+)?/g)].map((m) => ({ name: m[0], at: m.index! }));
      const rows = lines.slice(headerAt + 1).filter((l) => l && !l.startsWith('('));
      return {
        names: names.map((n) => n.name),
        rows: rows.map((row) => Object.fromEntries(names.map((n, i) => [n.name, row.slice(n.at, names[i + 1]?.at ?? row.length).trim()]))),
      };
    };
    // A hard coding prompt: both models are below the 8B minimum, so a size penalty takes the 3B
    // model's total below zero while its four weighted factors are all positive.
    const hard = await cli('explain', 'implement a thread-safe lock-free concurrent hash map in C++ with memory reclamation, then prove linearizability');
    expect(hard.code).toBe(0);
    expect(hard.out).toMatch(/^coding \/ hard /m);
    const table = parse(hard.out);
    expect(table.names).toEqual(['model', 'score', 'capability', 'benchmark', 'speed', 'recency', 'size penalty', 'note']);
    const small = table.rows.find((r) => r.model === 'llama3.2:3b')!;
    expect(Number(small.score)).toBeLessThan(0);
    expect(Number(small['size penalty'])).toBeLessThan(0);
    for (const row of table.rows) {
      const sum = ['capability', 'benchmark', 'speed', 'recency', 'size penalty'].reduce((a, k) => a + Number(row[k]), 0);
      expect(Math.abs(sum - Number(row.score)), row.model).toBeLessThan(0.006);
    }
    // Factors that are zero for every model are named, not shown as columns of zeros.
    expect(hard.out).toMatch(/^\(score = sum of the factor columns; feedback, vram: 0 for every model\)$/m);

    // The JSON carries the same factors.
    const json = JSON.parse((await cli('explain', '--json', 'implement a thread-safe lock-free concurrent hash map in C++ with memory reclamation, then prove linearizability')).out);
    const factors = json.candidates.find((c: { model: string }) => c.model === 'llama3.2:3b').factors;
    expect(factors.sizePenalty).toBeCloseTo(Number(small['size penalty']), 2);

    // A simple prompt: no model is penalised, so no size penalty column.
    const simple = await cli('explain', 'write a binary search in rust');
    expect(parse(simple.out).names).not.toContain('size penalty');
  });

  it('lists models and shows VRAM without a GPU', async () => {
    const m = await cli('models');
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/qwen2\.5-coder:7b\s+ollama\s+7\.6B\s+yes/);
    const v = await cli('vram');
    expect(v.code).toBe(0);
    expect(v.out).toContain('GPU monitoring: off');
  });

  it('lists recent decisions oldest first, filtered by category', async () => {
    for (const content of ['write a haiku about the sea', 'write a python function that merges two sorted lists']) {
      await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content }] }),
      });
    }
    const all = await cli('decisions', '--limit', '2');
    expect(all.code).toBe(0);
    const lines = all.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/creativity .* -> llama3\.2:3b .* ok/);
    expect(lines[1]).toMatch(/coding .* -> qwen2\.5-coder:7b .* ok .* chatcmpl-/);
    const coding = await cli('decisions', '--category', 'coding');
    expect(coding.out.trim().split('\n').every((l) => l.includes(' coding '))).toBe(true);
  });

  it('prints stats as readable tables, and the message as JSON with --json', async () => {
    const text = await cli('stats');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^up \S+ \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)  requests \d+  errors \d+/);
    expect(text.out).toMatch(/^backends:\nbackend\s+provider\s+health/m);
    expect(text.out).toMatch(/^ollama\s+ollama\s+ok\s+\d+/m);
    expect(text.out).toMatch(/^model\s+coding\s+reasoning\s+creativity\s+general\s+total$/m);
    expect(text.out).toMatch(/^qwen2\.5-coder:7b\s+[1-9]\d*\s+\d+\s+\d+\s+\d+\s+[1-9]\d*$/m);
    expect(text.out).not.toContain('{');
    const json = await cli('stats', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ requestsTotal: expect.any(String), backends: [expect.objectContaining({ name: 'ollama' })] });
  });

  it('profiling shows the status, profiling cancel stops a run (or says there is none), bad usage exits 2', async () => {
    const idle = await cli('profiling');
    expect(idle.code).toBe(0);
    expect(idle.out).toMatch(/^profiling: idle$/m);
    expect(idle.out).toMatch(/^profiled since start-up: \d+; last run finished: (never|\d{4}-.* UTC); prompt set \S+$/m);
    expect(JSON.parse((await cli('profiling', '--json')).out)).toMatchObject({ promptSetVersion: expect.any(String) });
    const none = await cli('profiling', 'cancel');
    expect(none).toMatchObject({ code: 0, out: 'nothing to cancel: no profiling run in progress\n' });

    ollama.setFailure('hang', 'llama3.2:3b');
    const mark = ollama.requests.length;
    const run = router.core.knowledge.coordinator.start({ entries: [router.core.registry.get('llama3.2:3b')!], force: true });
    while (!ollama.requests.slice(mark).some((r) => r.path === '/api/chat' || r.path === '/api/generate')) await new Promise((r) => setTimeout(r, 10));
    expect((await cli('profiling')).out).toMatch(/^profiling: llama3\.2:3b$/m);
    ollama.setFailure('none');
    const cancelled = await cli('profiling', 'cancel');
    expect(cancelled).toMatchObject({ code: 0, out: 'cancelled: llama3.2:3b (0 model(s) had finished; answered prompts are kept)\n' });
    expect((await run.done).cancelled).toBe(true);
    expect((await cli('profiling', 'stop')).code).toBe(2);
  });

  it('reprofiles with progress lines (no TTY), then lists the measured profiles', async () => {
    const run = await cli('reprofile', '--force');
    expect(run.code).toBe(0);
    const lines = run.out.trim().split('\n');
    // A bar per progress event (one line each without a terminal): model i/n, category, prompt i/n
    // of the model's whole set; then the summary.
    expect(lines.some((l) => /^\[[#.]+\]\s+\d+% qwen2\.5-coder:7b 1\/2 coding 1\/4 · /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^done: 2 model\(s\) in [\d.]+s/);
    const table = await cli('profiles');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^model\s+coding\s+reasoning\s+creativity\s+general\s+tok\/s/m);
    expect(table.out).toMatch(/^qwen2\.5-coder:7b\s+\d\.\d\d\s+\d\.\d\d/m);
    expect(table.out).toMatch(/^llama3\.2:3b\s+\d\.\d\d/m);
  });

  it('reprofile exits 1 when a model failed, naming it', async () => {
    ollama.setFailure('http500', 'llama3.2:3b');
    try {
      const run = await cli('reprofile', '--force', '--model', 'llama3.2:3b');
      expect(run.code).toBe(1);
      expect(run.out).toMatch(/^failed: llama3\.2:3b/m);
    } finally {
      ollama.setFailure('none');
    }
  });

  it('invalidates the caches and reports what was removed', async () => {
    const body = JSON.stringify({ model: 'smarterrouter/main', temperature: 0, messages: [{ role: 'user', content: 'name three rivers in europe' }] });
    for (let i = 0; i < 2; i++) await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const cleared = await cli('cache', 'invalidate', '--scope', 'response');
    expect(cleared).toMatchObject({ code: 0 });
    expect(cleared.out).toMatch(/^removed: [1-9]\d* response, 0 routing, 0 semantic$/m);
    expect(await cli('cache', 'invalidate', '--scope', 'everything')).toMatchObject({ code: 2, err: expect.stringContaining('--scope must be one of') });
  });

  it('says which key to fix when the router refuses the admin key (exit 1)', async () => {
    const out = capture();
    const err = capture();
    const code = await main(['vram', '--url', router.url, '--admin-key', 'wrong-key'], { out: out.stream, err: err.stream, env: {} });
    expect(code).toBe(1);
    expect(err.text()).toMatch(/^smarterrouter: the router refused the key \(.*\): pass --admin-key or set ROUTER_ADMIN_API_KEY/);
  });

  it('with client keys required, explain works with only the admin key, or with the router\'s own ROUTER_API_KEYS', async () => {
    const keyed = await startTestRouter({ ROUTER_OLLAMA_URL: ollama.url, ROUTER_ADMIN_API_KEY: ADMIN_KEY, ROUTER_API_KEYS: 'client-key-1,client-key-2' });
    try {
      const run = async (env: Record<string, string>, ...args: string[]) => {
        const out = capture();
        const err = capture();
        const code = await main(['explain', 'write a binary search in rust', '--url', keyed.url, ...args], { out: out.stream, err: err.stream, env });
        return { code, err: err.text() };
      };
      expect((await run({ ROUTER_ADMIN_API_KEY: ADMIN_KEY })).code).toBe(0);
      expect((await run({ ROUTER_API_KEYS: ' client-key-2 , client-key-1' })).code).toBe(0);
      expect((await run({}, '--api-key', 'client-key-1')).code).toBe(0);
      const refused = await run({}, '--api-key', 'wrong');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('ROUTER_API_KEYS');
    } finally {
      await keyed.stop();
    }
  });

  it('rejects bad usage with exit code 2 and a clear line', async () => {
    expect(await cli('explain')).toMatchObject({ code: 2, err: expect.stringContaining('explain needs a prompt') });
    expect(await cli('decisions', '--limit', '0')).toMatchObject({ code: 2, err: expect.stringContaining('--limit must be') });
    expect(await cli('decisions', '--category', 'poetry')).toMatchObject({ code: 2, err: expect.stringContaining('--category must be one of') });
    expect(await cli('frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "frobnicate"') });
    expect(await cli('explain', 'x', '--quality', '2')).toMatchObject({ code: 2 });
  });

  it('the bin says so clearly when the router is down (exit 1)', async () => {
    const failure = await run(process.execPath, [BIN, 'models', '--url', 'http://127.0.0.1:9'], { timeout: 20_000 }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^smarterrouter: cannot reach the router at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): is it running\?/);
  });

  it('the bin follows decisions live until interrupted', async () => {
    const child = spawn(process.execPath, [BIN, 'decisions', '--follow', '--limit', '1', '--url', router.url], { env: { ...process.env, ROUTER_ADMIN_API_KEY: ADMIN_KEY } });
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    const until = async (test: () => boolean) => {
      for (let i = 0; i < 200 && !test(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => out.split('\n').length >= 2);
    // The stream is open once the listing has printed; a moment more for the watch to subscribe.
    await new Promise((r) => setTimeout(r, 300));
    const response = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'what is the capital of portugal' }] }),
    });
    const { id } = (await response.json()) as { id: string };
    await until(() => out.includes(id));
    expect(out).toContain(id);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });

  it('renders the progress bar with percentage, label and ETA', () => {
    expect(renderBar({ done: 1, total: 4, label: 'qwen 1/4 coding 2/3', elapsedSeconds: 65, etaSeconds: 195 }, 8)).toBe('[##......]  25% qwen 1/4 coding 2/3 · 1m05s ETA 3m15s');
    expect(formatDuration(7200)).toBe('2h00m');
  });
});
