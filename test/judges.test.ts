/**
 * Judge plugins: the heuristic judge ranks realistic good/mediocre/bad answers per category (and the
 * simulators' answers by model quality), penalises refusals, repetition, truncation and wrong
 * lengths, and is deterministic; parseJudgeScore reads a corpus of messy judge outputs; the LLM judge
 * talks to the OpenAI simulator and to a scripted server over real HTTP (retries, Retry-After,
 * timeouts, no retry on 4xx) and to a backend plugin; withFallback records failures and falls back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  PluginError,
  SPECIFICATION_VERSION,
  type BackendPlugin,
  type Category,
  type ChatRequest,
  type ChatStreamPart,
  type JudgeInput,
  type JudgePlugin,
  type PluginContext,
} from '../src/plugin-api/index.js';
import {
  buildJudgeMessages,
  checkCode,
  createHeuristicJudge,
  createLlmJudge,
  heuristicJudgeDefinition,
  javascriptProblem,
  llmJudgeDefinition,
  parseJudgeScore,
  parseRetryAfter,
  pythonProblem,
  withFallback,
} from '../src/plugins/judges/index.js';
import { startOpenAISimulator, type RunningSimulator } from '../src/simulators/index.js';
import corpus from './fixtures/judge-outputs/corpus.json' with { type: 'json' };
import { TRIPLES } from './fixtures/judge-outputs/answers.js';
import { fakeBackend } from './support/fake-backend.js';

const call = () => ({ signal: new AbortController().signal });
const heuristic = createHeuristicJudge();

function input(category: Category, prompt: string, answer: string, reference?: string): JudgeInput {
  return { category, prompt: [{ role: 'user', content: prompt }], answer, ...(reference !== undefined && { reference }) };
}

async function score(category: Category, prompt: string, answer: string, reference?: string): Promise<number> {
  return (await heuristic.judge(input(category, prompt, answer, reference), call())).score;
}

async function rejection(promise: Promise<unknown>): Promise<PluginError> {
  try {
    await promise;
  } catch (error) {
    expect(PluginError.isInstance(error)).toBe(true);
    return error as PluginError;
  }
  throw new Error('expected a PluginError');
}

// ---------------------------------------------------------------------------------------------
// Heuristic judge

describe('heuristic judge', () => {
  it('is a judge plugin of contract v1, also through its definition', async () => {
    expect(heuristic.name).toBe('heuristic');
    expect(heuristic.specificationVersion).toBe(SPECIFICATION_VERSION);
    expect(heuristicJudgeDefinition.manifest).toMatchObject({ name: 'heuristic', kind: 'judge', specificationVersion: 'v1' });
    const made = await heuristicJudgeDefinition.create({ name: 'heuristic' }, {} as PluginContext);
    expect((await made.judge(input('general', 'What is TLS?', 'TLS encrypts traffic between a client and a server.'), call())).score).toBeGreaterThan(0.3);
  });

  describe.each(TRIPLES.map((t) => [`${t.category}: ${t.name}`, t] as const))('ranks good > mediocre > bad (%s)', (_, t) => {
    it('orders the three answers with clear gaps', async () => {
      const [good, mediocre, bad] = await Promise.all([t.good, t.mediocre, t.bad].map((a) => score(t.category, t.prompt, a, t.reference)));
      expect(good).toBeGreaterThan(mediocre + 0.05);
      expect(mediocre).toBeGreaterThan(bad + 0.05);
      expect(good).toBeGreaterThanOrEqual(0.75);
      expect(bad).toBeLessThanOrEqual(0.45);
    });
  });

  it('explains its score with the signals it used', async () => {
    const t = TRIPLES.find((x) => x.name === 'javascript debounce')!;
    const bad = await heuristic.judge(input('coding', t.prompt, t.bad), call());
    expect(bad.reasoning).toMatch(/^coding 0\.\d\d: /);
    expect(bad.reasoning).toMatch(/javascript broken/);
    const good = await heuristic.judge(input('coding', t.prompt, t.good), call());
    expect(good.reasoning).toMatch(/javascript valid/);
    const wrong = await heuristic.judge(input('reasoning', 'What is 12 * 4 + 3?', 'First, 12 * 4 = 46. Then 46 + 3 = 49. The answer is 49.'), call());
    expect(wrong.reasoning).toMatch(/wrong arithmetic: 12 \* 4 = 46/);
  });

  it('scores refusals low in every category, but not a disclaimer followed by a real answer', async () => {
    const refusals = [
      "I'm sorry, I can't help with that.",
      "I’m sorry, but I can’t assist with that request.",
      'As an AI language model, I cannot write stories.',
      'I cannot help with that.',
    ];
    for (const category of ['coding', 'reasoning', 'creativity', 'general'] as const) {
      for (const refusal of refusals) expect(await score(category, 'Write a function that sorts a list of numbers.', refusal)).toBeLessThanOrEqual(0.05);
    }
    const disclaimer = [
      "I can't browse the web, but here is what is well established about HTTP/2:",
      '',
      '- It multiplexes many requests over one TCP connection, so a slow response no longer blocks the others.',
      '- Headers are compressed with HPACK, which saves bandwidth on repetitive cookies.',
      '- Servers can prioritise streams, for example sending CSS before images.',
      '',
      'In practice this makes pages with many small assets load noticeably faster than over HTTP/1.1.',
    ].join('\n');
    expect(await score('general', 'What does HTTP/2 improve over HTTP/1.1?', disclaimer)).toBeGreaterThan(0.5);
  });

  it('penalises repetition: lines, sentences and looping n-grams', async () => {
    const prompt = 'Explain what a hash map is.';
    const clean =
      'A hash map stores key-value pairs in an array of buckets. A hash function turns each key into a bucket index, so lookups, inserts and deletes take constant time on average.\n\nCollisions, where two keys land in the same bucket, are handled by chaining (a small list per bucket) or by open addressing. When the table fills up, it is resized and every entry is rehashed. JavaScript\'s Map and Python\'s dict are both hash maps.';
    const looping = `${clean}\n\n${'The hash map stores keys and values in buckets. '.repeat(12)}`;
    const lines = `${clean}\n${Array.from({ length: 8 }, () => 'Hash maps are very fast for lookups.').join('\n')}`;
    const base = await score('general', prompt, clean);
    expect(await score('general', prompt, looping)).toBeLessThan(base - 0.25);
    expect(await score('general', prompt, lines)).toBeLessThan(base - 0.2);
    const verdict = await heuristic.judge(input('general', prompt, looping), call());
    expect(verdict.reasoning).toMatch(/repetition/);
  });

  it('gives an empty or blank answer 0', async () => {
    for (const category of ['coding', 'reasoning', 'creativity', 'general'] as const) {
      expect(await heuristic.judge(input(category, 'Tell me about rivers.', ''), call())).toEqual({ score: 0, reasoning: `${category}: empty answer` });
      expect(await score(category, 'Tell me about rivers.', '  \n\t ')).toBe(0);
    }
  });

  it('penalises truncated answers: cut mid-sentence, or inside an unclosed code block', async () => {
    const prompt = 'Explain how a bloom filter works.';
    const whole =
      'A Bloom filter is a compact, probabilistic set. It keeps an array of m bits and k hash functions.\n\nTo add an item, hash it k times and set those k bits. To test an item, check the same k bits: if any is 0 the item is definitely absent, if all are 1 it is probably present.\n\nFalse positives are possible, false negatives are not, and the false-positive rate grows as the array fills up.';
    const cut = whole.slice(0, whole.lastIndexOf('and the false') + 'and the'.length);
    expect(await score('general', prompt, cut)).toBeLessThan((await score('general', prompt, whole)) - 0.2);

    const code = 'Here is the function:\n\n```javascript\nfunction sum(values) {\n  return values.reduce((a, b) => a + b, 0);\n}\n```\n\nIt adds every value, starting from 0.';
    const open = 'Here is the function:\n\n```javascript\nfunction sum(values) {\n  return values.reduce((a, b) =>';
    const codePrompt = 'Write a JavaScript function that sums an array.';
    expect(await score('coding', codePrompt, open)).toBeLessThan((await score('coding', codePrompt, code)) - 0.3);
    expect((await heuristic.judge(input('coding', codePrompt, open), call())).reasoning).toMatch(/truncated/);
  });

  it('penalises a length far off what the request asked for', async () => {
    const haiku = 'Amber leaves drifting\ncold rain whispers on the roof\nthe lantern flickers';
    const sprawling = Array.from({ length: 30 }, (_, i) =>
      [`Verse ${i + 1}: amber leaves drift over silver water`, 'while the cold rain whispers of a lantern glow', 'and crimson petals tremble in the mist'].join('\n'),
    ).join('\n\n');
    expect(await score('creativity', 'Write a haiku about autumn rain.', haiku)).toBeGreaterThan((await score('creativity', 'Write a haiku about autumn rain.', sprawling)) + 0.3);

    const oneSentence = 'Photosynthesis is how plants use sunlight to turn water and carbon dioxide into glucose and oxygen.';
    const essay = Array.from({ length: 25 }, (_, i) => `Point ${i + 1}: chlorophyll absorbs light, water is split, ATP and NADPH power the Calvin cycle, and carbon is fixed into sugars number ${i}.`).join('\n\n');
    const prompt = 'In one sentence, what is photosynthesis?';
    expect(await score('general', prompt, oneSentence)).toBeGreaterThan((await score('general', prompt, essay)) + 0.2);
  });

  it('checks the final number against the reference in reasoning answers', async () => {
    const prompt = 'A shop sells pens at 3 dollars each. How much do 14 pens cost?';
    const right = '1. Each pen costs 3 dollars.\n2. 14 × 3 = 42.\n\n**Final answer: 42 dollars**';
    const wrong = '1. Each pen costs 3 dollars.\n2. 14 × 3 = 42.\n3. Add tax of 10%: 42 + 4.2 = 46.2.\n\n**Final answer: 46.2 dollars**';
    expect(await score('reasoning', prompt, right, '42')).toBeGreaterThan(0.8);
    expect(await score('reasoning', prompt, wrong, '42')).toBeLessThanOrEqual(0.35);
    expect(await score('reasoning', 'Is 91 a prime number?', 'No. 91 = 7 × 13, so it has divisors other than 1 and itself. The answer is no.', 'no')).toBeGreaterThan(0.6);
  });

  it('prefers code in the requested language and code that parses', async () => {
    const prompt = 'Write a Python function that returns the squares of a list of numbers.';
    const python = 'Use a list comprehension:\n\n```python\ndef squares(values):\n    # One pass, returns a new list.\n    return [v * v for v in values]\n\nprint(squares([1, 2, 3]))  # [1, 4, 9]\n```\n\nIt walks the list once and leaves the input untouched.';
    const js = 'Use map:\n\n```javascript\nfunction squares(values) {\n  // One pass, returns a new array.\n  return values.map((v) => v * v);\n}\n\nconsole.log(squares([1, 2, 3])); // [1, 4, 9]\n```\n\nIt walks the array once and leaves the input untouched.';
    const brokenPython = 'Use a list comprehension:\n\n```python\ndef squares(values)\n    return [v * v for v in values\n```\n\nIt walks the list once and leaves the input untouched.';
    const [p, j, b] = await Promise.all([python, js, brokenPython].map((a) => score('coding', prompt, a)));
    expect(p).toBeGreaterThan(j);
    expect(p).toBeGreaterThan(b + 0.3);
  });

  it('is deterministic: the same input gives the same verdict, across instances too', async () => {
    for (const t of TRIPLES) {
      for (const answer of [t.good, t.mediocre, t.bad]) {
        const one = await heuristic.judge(input(t.category, t.prompt, answer, t.reference), call());
        const two = await createHeuristicJudge().judge(input(t.category, t.prompt, answer, t.reference), call());
        expect(two).toEqual(one);
      }
    }
  });

  it('stays fast and bounded on runaway or adversarial output', async () => {
    const nasty = [
      '1,'.repeat(50_000),
      '1 + '.repeat(20_000),
      '9'.repeat(100_000),
      `score${'\n'.repeat(50_000)}x`,
      `{'a${"'".repeat(20_000)}}`,
      'x {;'.repeat(30_000),
      `\`\`\`python\n${'def f(x):\n    return x\n'.repeat(3000)}`,
    ];
    for (const answer of nasty) {
      const started = performance.now();
      for (const category of ['coding', 'reasoning', 'creativity', 'general'] as const) {
        const verdict = await heuristic.judge(input(category, 'Write a story.', answer, '42'), call());
        expect(verdict.score).toBeGreaterThanOrEqual(0);
        expect(verdict.score).toBeLessThan(0.5);
      }
      parseJudgeScore(answer);
      expect(performance.now() - started).toBeLessThan(3_000);
    }
  });

  describe('against the simulators (answers shaped by model quality)', () => {
    let sim: RunningSimulator;
    const qualities = [0.2, 0.55, 0.9];
    beforeAll(async () => {
      sim = await startOpenAISimulator({
        models: qualities.map((q) => ({ id: `sim-q${q}`, quality: { coding: q, reasoning: q, creativity: q, general: q } })),
      });
    });
    afterAll(() => sim.close());

    const prompts: Array<[Category, string]> = [
      ['coding', 'Write a JavaScript function that reverses a string.'],
      ['coding', 'Write a Python function to check if a number is prime.'],
      ['coding', 'Write a SQL query to count the users in the users table.'],
      ['reasoning', 'If a shop sells 12 boxes of 8 pencils each, how many pencils is that?'],
      ['reasoning', 'Tom had 50 dollars and spent 18. How much is left?'],
      ['creativity', 'Write a short story about a robot who learns to paint.'],
      ['creativity', 'Write a poem about winter mornings.'],
      ['general', 'Explain how vaccines work.'],
      ['general', 'What are the benefits of regular exercise?'],
    ];

    it.each(prompts)('%s: "%s" scores rise with model quality', async (category, prompt) => {
      const scores: number[] = [];
      for (const q of qualities) {
        const response = await fetch(`${sim.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: `sim-q${q}`, messages: [{ role: 'user', content: prompt }] }),
        });
        const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
        scores.push(await score(category, prompt, body.choices[0].message.content));
      }
      expect(scores[1]).toBeGreaterThan(scores[0] + 0.1);
      expect(scores[2]).toBeGreaterThan(scores[1] + 0.05);
    });
  });
});

describe('code checks', () => {
  it('compiles JavaScript without running it, in the shapes answers use', () => {
    expect(javascriptProblem("process.exit(1); throw new Error('ran');")).toBeUndefined();
    expect(javascriptProblem("import fs from 'node:fs';\nexport default function read(p) { return fs.readFileSync(p, 'utf8'); }")).toBeUndefined();
    expect(javascriptProblem('const data = await fetch(url);\nreturn data.json();')).toBeUndefined();
    expect(javascriptProblem('{ "name": "x", "version": 1 }')).toBeUndefined();
    expect(javascriptProblem('function f(x) {\n  return x.map((y) => y * 2\n')).toMatch(/missing|Unexpected/);
  });

  it('checks Python structure', () => {
    expect(pythonProblem('def f(x):\n    if x:\n        return [i for i in range(x)]\n    return []\n')).toBeUndefined();
    expect(pythonProblem('class A:\n    """Doc\n    string."""\n    def m(self, d={"a": 1}):\n        return d["a"]  # ok: colon in a dict\n')).toBeUndefined();
    expect(pythonProblem('>>> x = 2\n>>> x * 3\n6\n')).toBeUndefined();
    expect(pythonProblem('def f(x)\n    return x')).toMatch(/missing ':'/);
    expect(pythonProblem('def f(x):\nreturn x')).toMatch(/expected an indented block/);
    expect(pythonProblem('def f(x):\n    y = 1\n      return y')).toMatch(/unexpected indent/);
    expect(pythonProblem('def f(x):\n        y = 1\n    return y')).toMatch(/unindent/);
    expect(pythonProblem('print(f(x)')).toMatch(/never closed/);
    expect(pythonProblem("s = 'abc\nprint(s)")).toMatch(/unterminated string/);
    expect(pythonProblem('if (x > 1) {\n    print(x)\n}')).toBeDefined();
  });

  it('checks JSON, SQL and TypeScript blocks', async () => {
    expect((await checkCode({ lang: 'json', code: '{"a": [1, 2]}', fenced: true, unterminated: false })).verdict).toBe('valid');
    expect((await checkCode({ lang: 'json', code: '{"a": [1, 2,]}', fenced: true, unterminated: false })).verdict).toBe('broken');
    expect((await checkCode({ lang: 'sql', code: 'SELECT COUNT(*) FROM users;', fenced: true, unterminated: false })).verdict).toBe('valid');
    expect((await checkCode({ lang: 'sql', code: 'SELECT COUNT( FROM users WHERE', fenced: true, unterminated: false })).verdict).toBe('broken');
    const ts = 'interface User { id: number; name: string }\nexport function names(users: User[]): string[] {\n  return users.map((u) => u.name);\n}';
    expect((await checkCode({ lang: 'typescript', code: ts, fenced: true, unterminated: false })).verdict).not.toBe('broken');
    const brokenTs = 'function f(a: number: string {\n  return a;\n';
    expect((await checkCode({ lang: 'typescript', code: brokenTs, fenced: true, unterminated: false })).verdict).toBe('broken');
  });
});

// ---------------------------------------------------------------------------------------------
// Score parsing

describe('parseJudgeScore', () => {
  const entries = corpus as Array<{ note: string; output: string; expected: number | null }>;

  it('has a corpus of at least 30 realistic outputs', () => {
    expect(entries.length).toBeGreaterThanOrEqual(30);
    expect(entries.filter((e) => e.expected === null).length).toBeGreaterThanOrEqual(5);
  });

  it.each(entries.map((e) => [e.note, e] as const))('%s', (_, entry) => {
    const parsed = parseJudgeScore(entry.output);
    if (entry.expected === null) {
      expect(parsed).toBeUndefined();
    } else {
      expect(parsed).toBeDefined();
      expect(parsed!.score).toBeCloseTo(entry.expected, 2);
      expect(parsed!.score).toBeGreaterThanOrEqual(0);
      expect(parsed!.score).toBeLessThanOrEqual(1);
    }
  });

  it('keeps the reasoning from JSON, or the prose around the score', () => {
    expect(parseJudgeScore("{'score': 6, 'reasoning': 'The answer doesn't cover step two.'}")).toEqual({ score: 0.6, reasoning: "The answer doesn't cover step two." });
    expect(parseJudgeScore('The loop is off by one.\n\nScore: 4/10')).toEqual({ score: 0.4, reasoning: 'The loop is off by one.' });
    expect(parseJudgeScore('7')).toEqual({ score: 0.7 });
  });
});

// ---------------------------------------------------------------------------------------------
// LLM judge over HTTP

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  /** Judge text for a 200, error body otherwise. */
  text?: string;
  /** Never answer (until the client gives up). */
  hang?: boolean;
}

interface ScriptedServer {
  url: string;
  requests: Array<{ headers: IncomingMessage['headers']; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A tiny OpenAI-compatible server answering from a script; the last step repeats. */
async function startScripted(script: Scripted[]): Promise<ScriptedServer> {
  const requests: ScriptedServer['requests'] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: JSON.parse(raw || '{}') });
      const step = script[Math.min(requests.length - 1, script.length - 1)];
      if (step.hang) {
        open.add(res);
        return;
      }
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      if (step.status !== 200) {
        res.end(JSON.stringify({ error: { message: step.text ?? `status ${step.status}`, type: 'server_error' } }));
        return;
      }
      res.end(
        JSON.stringify({
          id: 'chatcmpl-judge',
          object: 'chat.completion',
          created: 1_700_000_000,
          model: 'judge-model',
          choices: [{ index: 0, message: { role: 'assistant', content: step.text ?? '' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const codingInput = input('coding', 'Write a JavaScript function that adds two numbers.', '```js\nfunction add(a, b) {\n  return a + b;\n}\n```');

describe('LLM judge', () => {
  const servers: ScriptedServer[] = [];
  const scripted = async (script: Scripted[]) => {
    const server = await startScripted(script);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('sends a rubric prompt at temperature 0 and normalises a messy verdict', async () => {
    const server = await scripted([{ status: 200, text: 'Sure! Here is my assessment.\n\n**Score:** 8/10\n\nCorrect and concise; no input checks.' }]);
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, apiKey: 'sk-judge' });
    expect(judge.name).toBe('llm');
    const verdict = await judge.judge(codingInput, call());
    expect(verdict.score).toBeCloseTo(0.8);
    expect(verdict.reasoning).toMatch(/Correct and concise/);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request.headers.authorization).toBe('Bearer sk-judge');
    expect(request.body).toMatchObject({ model: 'judge-model', temperature: 0 });
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    expect(messages[0].role).toBe('system');
    expect(messages[0].content).toMatch(/would it run/i);
    expect(messages[0].content).toMatch(/"score"/);
    expect(messages[1].content).toContain('function add(a, b)');
  });

  it('has a rubric for every category and passes the reference', () => {
    for (const category of ['coding', 'reasoning', 'creativity', 'general'] as const) {
      const [system, user] = buildJudgeMessages({ ...input(category, 'Q?', 'A.'), reference: 'the expected 42' });
      expect(system.content).toMatch(/Correctness|Fit/);
      expect(user.content).toContain('the expected 42');
    }
  });

  it('retries 429 with Retry-After: 0 twice, then returns the score', async () => {
    const server = await scripted([
      { status: 429, headers: { 'retry-after': '0' }, text: 'Rate limit reached' },
      { status: 429, headers: { 'retry-after': '0' }, text: 'Rate limit reached' },
      { status: 200, text: '```json\n{"score": 9, "reasoning": "Excellent."}\n```' },
    ]);
    // A long base delay proves Retry-After (0) was used instead of the backoff.
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 3, baseDelayMs: 20_000 });
    const started = Date.now();
    expect(await judge.judge(codingInput, call())).toEqual({ score: 0.9, reasoning: 'Excellent.' });
    expect(server.requests).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('caps a long Retry-After', async () => {
    const server = await scripted([
      { status: 503, headers: { 'retry-after': '3600' } },
      { status: 200, text: 'Rating: 3/5' },
    ]);
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 1, maxRetryAfterMs: 30 });
    const started = Date.now();
    expect((await judge.judge(codingInput, call())).score).toBeCloseTo(0.6);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects after maxRetries with a retryable PluginError when the server keeps failing with 500', async () => {
    const server = await scripted([{ status: 500, text: 'internal error' }]);
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 2, baseDelayMs: 1 });
    const error = await rejection(judge.judge(codingInput, call()));
    expect(error.status).toBe(500);
    expect(error.retryable).toBe(true);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a 400', async () => {
    const server = await scripted([{ status: 400, text: "'temperature' is not supported with this model" }]);
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 3, baseDelayMs: 1 });
    const error = await rejection(judge.judge(codingInput, call()));
    expect(error).toMatchObject({ code: 'bad_request', status: 400, retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a judge that does not answer in time, then reports timeout', async () => {
    const server = await scripted([{ status: 200, hang: true }]);
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 1, baseDelayMs: 1, timeoutMs: 150 });
    const error = await rejection(judge.judge(codingInput, call()));
    expect(error).toMatchObject({ code: 'timeout', retryable: true });
    expect(server.requests).toHaveLength(2);
  });

  it('retries an unreachable endpoint, then reports unreachable', async () => {
    const server = await startScripted([{ status: 200 }]);
    const url = server.url;
    await server.close();
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: url, maxRetries: 2, baseDelayMs: 1 });
    expect(await rejection(judge.judge(codingInput, call()))).toMatchObject({ code: 'unreachable' });
  });

  it('stops retrying when the caller aborts during the backoff', async () => {
    const server = await scripted([{ status: 503 }]);
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 5, baseDelayMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await rejection(judge.judge(codingInput, { signal: controller.signal }));
    expect(error.code).toBe('aborted');
    expect(server.requests).toHaveLength(1);
  });

  it('fails with a non-retryable bad_response when the judge writes no score', async () => {
    const server = await scripted([{ status: 200, text: 'The answer looks fine to me, nothing to add.' }]);
    const judge = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 3, baseDelayMs: 1 });
    const error = await rejection(judge.judge(codingInput, call()));
    expect(error).toMatchObject({ code: 'bad_response', retryable: false });
    expect(error.message).toMatch(/no score/);
    expect(server.requests).toHaveLength(1);
  });

  describe('against the OpenAI simulator', () => {
    let sim: RunningSimulator;
    beforeAll(async () => {
      sim = await startOpenAISimulator({ models: [{ id: 'judge-sim', quality: { coding: 0.9, general: 0.9, reasoning: 0.9, creativity: 0.9 } }], apiKey: 'sk-sim' });
    });
    afterAll(() => sim.close());
    afterEach(() => sim.setFailure('none'));

    it('sends an authenticated rubric request; a prose answer without a score is bad_response, not retried', async () => {
      const before = sim.requests.length;
      const judge = createLlmJudge({ model: 'judge-sim', baseUrl: `${sim.url}/v1`, apiKey: 'sk-sim', maxRetries: 2, baseDelayMs: 1 });
      const error = await rejection(judge.judge(codingInput, call()));
      expect(error.code).toBe('bad_response');
      const sent = sim.requests.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
      expect(sent[0].headers.authorization).toBe('Bearer sk-sim');
      expect(sent[0].body).toMatchObject({ model: 'judge-sim', temperature: 0, stream: true });
    });

    it('retries an overloaded simulator (429 with Retry-After) up to maxRetries', async () => {
      sim.setFailure('overloaded');
      const before = sim.requests.length;
      const judge = createLlmJudge({ model: 'judge-sim', baseUrl: `${sim.url}/v1`, apiKey: 'sk-sim', maxRetries: 2, maxRetryAfterMs: 5 });
      const error = await rejection(judge.judge(codingInput, call()));
      expect(error).toMatchObject({ code: 'overloaded', status: 429, retryable: true });
      expect(sim.requests.length - before).toBe(3);
    });

    it('retries an HTML 502 from a proxy', async () => {
      sim.setFailure('html-error');
      const before = sim.requests.length;
      const judge = createLlmJudge({ model: 'judge-sim', baseUrl: `${sim.url}/v1`, apiKey: 'sk-sim', maxRetries: 1, baseDelayMs: 1 });
      expect(await rejection(judge.judge(codingInput, call()))).toMatchObject({ status: 502, retryable: true });
      expect(sim.requests.length - before).toBe(2);
    });
  });

  it('judges with a backend model, collecting its stream', async () => {
    const seen: ChatRequest[] = [];
    let calls = 0;
    const backend = chatBackend(async function* (request) {
      seen.push(request);
      calls++;
      if (calls === 1) throw new PluginError({ code: 'overloaded', message: 'no free slot', backend: 'gpu' });
      yield { type: 'reasoning-delta', delta: 'Checking the code... 2 + 2 = 4.' };
      yield { type: 'text-delta', delta: '{"score": ' };
      yield { type: 'text-delta', delta: '9, "reasoning": "Works."}' };
      yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 10, completionTokens: 5 } };
    });
    const judge = createLlmJudge({ model: 'qwen2.5:7b', backend, maxRetries: 1, baseDelayMs: 1 });
    expect(await judge.judge(codingInput, call())).toEqual({ score: 0.9, reasoning: 'Works.' });
    expect(calls).toBe(2);
    expect(seen[0]).toMatchObject({ model: 'qwen2.5:7b', temperature: 0 });
  });

  it('turns a mid-stream error part into a failure (retried when transient)', async () => {
    let calls = 0;
    const backend = chatBackend(async function* () {
      calls++;
      yield { type: 'text-delta', delta: 'Score: ' };
      yield { type: 'error', error: new PluginError({ code: 'bad_response', message: 'stream cut', backend: 'gpu' }) };
    });
    const judge = createLlmJudge({ model: 'm', backend, maxRetries: 1, baseDelayMs: 1 });
    expect(await rejection(judge.judge(codingInput, call()))).toMatchObject({ code: 'bad_response' });
    expect(calls).toBe(2);
  });

  it('is created from plugin options by its definition', async () => {
    const server = await scripted([{ status: 200, text: 'Final score: 6' }]);
    const context: PluginContext = { logger: { debug() {}, info() {}, warn() {}, error() {} }, fetch: globalThis.fetch, signal: new AbortController().signal };
    expect(llmJudgeDefinition.manifest).toMatchObject({ name: 'llm', kind: 'judge', specificationVersion: 'v1' });
    const judge = await llmJudgeDefinition.create({ name: 'llm', model: 'judge-model', baseUrl: server.url, apiKey: 'k' }, context);
    expect((await judge.judge(codingInput, call())).score).toBeCloseTo(0.6);
    expect(() => llmJudgeDefinition.create({ name: 'llm', baseUrl: server.url }, context)).toThrow(/model is required/);
    expect(() => createLlmJudge({ model: 'm' })).toThrow(/base URL/);
  });

  it('reads Retry-After as seconds, HTTP date or retry-after-ms', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '150', 'retry-after': '2' }))).toBe(150);
    const date = parseRetryAfter(new Headers({ 'retry-after': new Date(Date.now() + 5000).toUTCString() }))!;
    expect(date).toBeGreaterThan(3000);
    expect(date).toBeLessThanOrEqual(5000);
    expect(parseRetryAfter(new Headers())).toBeUndefined();
  });
});

function chatBackend(chat: (request: ChatRequest) => AsyncGenerator<ChatStreamPart>): BackendPlugin {
  return fakeBackend({ name: 'gpu', provider: 'fake', chat: (request) => chat(request) });
}

// ---------------------------------------------------------------------------------------------
// Fallback

describe('withFallback', () => {
  it('uses the heuristic verdict when the LLM judge fails, and reports the failure', async () => {
    const server = await startScripted([{ status: 500 }]);
    try {
      const failures: unknown[] = [];
      const llm = createLlmJudge({ model: 'judge-model', baseUrl: server.url, maxRetries: 1, baseDelayMs: 1 });
      const judge = withFallback(llm, heuristic, (error) => failures.push(error));
      expect(judge.specificationVersion).toBe('v1');
      const expected = await heuristic.judge(codingInput, call());
      const verdict = await judge.judge(codingInput, call());
      expect(verdict.score).toBe(expected.score);
      expect(verdict.reasoning).toMatch(/^fallback: heuristic \(llm judge failed: bad_response\); coding /);
      expect(failures).toHaveLength(1);
      expect(PluginError.isInstance(failures[0]) && failures[0].status).toBe(500);
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('passes the primary verdict through when it succeeds', async () => {
    const primary: JudgePlugin = { specificationVersion: SPECIFICATION_VERSION, name: 'llm', judge: async () => ({ score: 0.42, reasoning: 'ok' }) };
    let called = false;
    const judge = withFallback(primary, heuristic, () => (called = true));
    expect(await judge.judge(codingInput, call())).toEqual({ score: 0.42, reasoning: 'ok' });
    expect(called).toBe(false);
  });

  it('does not mask cancellation, and survives a throwing observer', async () => {
    const aborted: JudgePlugin = {
      specificationVersion: SPECIFICATION_VERSION,
      name: 'llm',
      judge: async () => {
        throw new PluginError({ code: 'aborted', message: 'gone', retryable: false });
      },
    };
    await expect(withFallback(aborted, heuristic).judge(codingInput, call())).rejects.toMatchObject({ code: 'aborted' });

    const broken: JudgePlugin = { specificationVersion: SPECIFICATION_VERSION, name: 'llm', judge: async () => Promise.reject(new Error('boom')) };
    const verdict = await withFallback(broken, heuristic, () => {
      throw new Error('observer failed');
    }).judge(codingInput, call());
    expect(verdict.reasoning).toMatch(/^fallback: heuristic \(llm judge failed: internal\)/);
  });
});
