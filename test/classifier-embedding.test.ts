/**
 * The embedding classifier (ROUTER_CLASSIFIER_EMBEDDINGS) through a real router in front of the
 * Ollama simulator, whose embeddings are deterministic hashes of the text: these tests check the
 * mechanics (exemplars embedded once and kept across a restart, requests classified with them, the
 * built-in deciding whenever embeddings fail or are slow, configuration errors, Explain naming the
 * classifier), not classification quality.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../gen/smarterrouter/v1/admin_pb.js';
import { CATEGORIES, type ChatMessage } from '../src/plugin-api/index.js';
import { configFrom } from '../src/config/index.js';
import { embeddingText, loadExemplars } from '../src/plugins/classifiers/embedding/index.js';
import { hashExemplars } from '../src/plugins/classifiers/embedding/exemplars.js';
import { ExemplarIndex, vote } from '../src/plugins/classifiers/embedding/knn.js';
import { writeVectors } from '../src/plugins/classifiers/embedding/vectors-file.js';
import { cosine, RealisticEmbeddings } from './support/realistic-vectors.js';
import { classify as builtinClassify } from '../src/plugins/classifiers/builtin/index.js';
import { startOllamaSimulator, type RecordedRequest, type RunningSimulator } from '../src/simulators/index.js';
import { startTestRouter, type TestRouter } from './support/router.js';

const CHAT = 'llama3.2:3b';
const NOMIC = 'nomic-embed-text:latest';
const MXBAI = 'mxbai-embed-large:latest';
const VECTORS_FILE = 'classifier-embeddings.bin';

let ollama: RunningSimulator;
let exemplarTexts: Set<string>;
const dirs: string[] = [];
const routers: TestRouter[] = [];

beforeAll(async () => {
  ollama = await startOllamaSimulator({
    models: [
      { id: CHAT },
      { id: NOMIC, capabilities: { embeddings: true }, embeddingDim: 64 },
      { id: MXBAI, capabilities: { embeddings: true }, embeddingDim: 32 },
    ],
  });
  exemplarTexts = new Set((await loadExemplars()).exemplars.map((e) => e.text));
});

afterAll(async () => {
  for (const r of routers) await r.stop().catch(() => undefined);
  await ollama?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smarterrouter-embclf-'));
  dirs.push(dir);
  return dir;
}

async function start(dir: string, env: Record<string, string> = {}): Promise<TestRouter> {
  const router = await startTestRouter({
    ROUTER_BACKENDS: `sim=ollama:${ollama.url}`,
    ROUTER_DATABASE_URL: join(dir, 'router.db'),
    ROUTER_EMBED_MODEL: NOMIC,
    ROUTER_CLASSIFIER_EMBEDDINGS: 'true',
    // No caches: every request is classified afresh and embedding calls are only the classifier's.
    ROUTER_CACHE_ENABLED: 'false',
    ...env,
  });
  routers.push(router);
  return router;
}

async function stop(router: TestRouter): Promise<void> {
  routers.splice(routers.indexOf(router), 1);
  await router.stop();
}

let unique = 0;
async function explain(router: TestRouter, messages?: ChatMessage[]): Promise<{ classifier: string; category: string; complexity: string; confidence: number }> {
  const body = { model: 'smarterrouter/main', messages: messages ?? [{ role: 'user', content: `Write a Python function that parses CSV files, variant ${++unique}` }] };
  const response = await fetch(`${router.url}/admin/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return (await response.json()) as { classifier: string; category: string; complexity: string; confidence: number };
}

/** Polls Explain (a fresh prompt each time) until `classifier` decides. */
async function waitForClassifier(router: TestRouter, classifier: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await explain(router)).classifier === classifier) return;
    if (Date.now() > deadline) throw new Error(`Explain never named the ${classifier} classifier`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The /api/embed requests for `model` from request number `from` of the simulator on. */
function embedCalls(from: number, model = NOMIC): Array<{ input: string[]; request: RecordedRequest }> {
  return ollama.requests
    .slice(from)
    .filter((r) => r.path === '/api/embed' && (r.body as { model?: string })?.model === model)
    .map((request) => {
      const input = (request.body as { input?: unknown }).input;
      return { request, input: Array.isArray(input) ? (input as string[]) : [String(input)] };
    });
}

/** How many exemplar texts were embedded from request `from` on, and how many of them more than once. */
function exemplarsEmbedded(from: number, model = NOMIC): { count: number; repeated: number } {
  const seen = new Set<string>();
  let count = 0;
  let repeated = 0;
  for (const { input } of embedCalls(from, model)) {
    if (input.length === 1) continue; // one request's own embedding, not a warm-up batch
    for (const text of input) {
      if (!exemplarTexts.has(text)) continue;
      count++;
      if (seen.has(text)) repeated++;
      seen.add(text);
    }
  }
  return { count, repeated };
}

function chatClient(router: TestRouter): OpenAI {
  return new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

describe('embedding classifier: exemplars', () => {
  const dir = dataDir();
  let router: TestRouter;

  it('embeds the exemplars once in the background, then classifies requests with them', async () => {
    const before = ollama.requests.length;
    router = await start(dir);
    await waitForClassifier(router, 'embedding');
    expect(exemplarsEmbedded(before)).toEqual({ count: exemplarTexts.size, repeated: 0 });
    expect(existsSync(join(dir, VECTORS_FILE))).toBe(true);

    // Explain: the embedding classifier decided, with the built-in's complexity and a blended category.
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a senior engineer.' },
      { role: 'user', content: 'Fix the off-by-one error in this loop:\n```js\nfor (let i = 0; i <= a.length; i++) sum += a[i];\n```' },
    ];
    const mark = ollama.requests.length;
    const explained = await explain(router, messages);
    expect(explained.classifier).toBe('embedding');
    expect(CATEGORIES).toContain(explained.category);
    expect(explained.confidence).toBeGreaterThan(0);
    // Complexity is the built-in's: the exemplars carry category labels only.
    expect(explained.complexity).toBe(builtinClassify({ messages }).complexity);
    // One embedding of the conversation as the classifier shapes it (last turn, then context).
    expect(embedCalls(mark).map((c) => c.input)).toEqual([[embeddingText({ messages })]]);
  });

  it('is listed with the plugins, by GET /admin/plugins and AdminService.ListPlugins alike', async () => {
    const rest = (await (await fetch(`${router.url}/admin/plugins`)).json()) as { plugins: Array<Record<string, unknown>> };
    expect(rest.plugins).toContainEqual(
      expect.objectContaining({ name: 'smarterrouter-classifier-embedding', kind: 'classifier', source: 'builtin', specification_version: 'v1' }),
    );
    const rpc = await createClient(AdminService, createGrpcTransport({ baseUrl: router.url })).listPlugins({});
    expect(rpc.plugins.map((p) => p.name)).toContain('smarterrouter-classifier-embedding');
  });

  it('classifies chat requests with one embedding call each, and the request succeeds', async () => {
    const mark = ollama.requests.length;
    const prompt = 'Write a limerick about a cat who learns to code';
    const completion = await chatClient(router).chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: prompt }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect(embedCalls(mark).map((c) => c.input)).toEqual([[prompt]]);
  });

  it('reads the stored vectors after a restart instead of embedding the exemplars again', async () => {
    await stop(router);
    const before = ollama.requests.length;
    router = await start(dir);
    await waitForClassifier(router, 'embedding');
    expect(exemplarsEmbedded(before).count).toBe(0);
    await stop(router);
  });

  it('embeds again when the embedding model changes (the stored vectors belong to another model)', async () => {
    const before = ollama.requests.length;
    router = await start(dir, { ROUTER_EMBED_MODEL: MXBAI });
    await waitForClassifier(router, 'embedding');
    expect(exemplarsEmbedded(before, MXBAI)).toEqual({ count: exemplarTexts.size, repeated: 0 });
    await stop(router);
  });

  it('embeds again when the stored file is damaged', async () => {
    writeFileSync(join(dir, VECTORS_FILE), 'SREV not really a vectors file');
    const before = ollama.requests.length;
    router = await start(dir, { ROUTER_EMBED_MODEL: MXBAI });
    await waitForClassifier(router, 'embedding');
    expect(exemplarsEmbedded(before, MXBAI).count).toBe(exemplarTexts.size);
    await stop(router);
  });

  it('embeds again when the stored file holds vectors that are not finite', async () => {
    const set = await loadExemplars();
    const file = join(dataDir(), VECTORS_FILE);
    const vectors = new Float32Array(set.exemplars.length * 64).fill(0.5);
    vectors[64 * 7 + 3] = Number.NaN;
    await writeVectors(file, { model: NOMIC, corpusHash: hashExemplars(set.exemplars), count: set.exemplars.length }, { dims: 64, vectors });
    const before = ollama.requests.length;
    router = await start(dataDir(), { ROUTER_CLASSIFIER_EMBEDDINGS_FILE: file });
    await waitForClassifier(router, 'embedding');
    expect(exemplarsEmbedded(before).count).toBe(exemplarTexts.size);
    await stop(router);
  });

  it('keeps the file where ROUTER_CLASSIFIER_EMBEDDINGS_FILE says', async () => {
    const file = join(dataDir(), 'nested', 'exemplars.bin');
    router = await start(dataDir(), { ROUTER_CLASSIFIER_EMBEDDINGS_FILE: file });
    await waitForClassifier(router, 'embedding');
    expect(existsSync(file)).toBe(true);
    await stop(router);
  });
});

describe('embedding classifier beside the semantic cache', () => {
  it('a single-turn chat embeds its prompt once: the classifier reuses the semantic cache\'s vector', async () => {
    const router = await start(dataDir(), { ROUTER_CACHE_ENABLED: 'true' });
    await waitForClassifier(router, 'embedding');
    const mark = ollama.requests.length;
    const prompt = 'Write a haiku about the autumn wind over a quiet lake';
    const completion = await chatClient(router).chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: prompt }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect(embedCalls(mark).map((c) => c.input)).toEqual([[prompt]]);
    await stop(router);
  });
});

describe('embedding classifier and a request that names its model', () => {
  it('classifies while the named model works: the wait is the longer of the two, not their sum', async () => {
    // The model takes 1.5 s to its first token; the embedding call hangs until the classifier's
    // 1.5 s budget ends. Classified in front of the model, the first token would come after ~3 s.
    const sim = await startOllamaSimulator({
      models: [
        { id: 'slow-writer:7b', firstTokenMs: 1500 },
        { id: NOMIC, capabilities: { embeddings: true }, embeddingDim: 64 },
      ],
    });
    const router = await start(dataDir(), { ROUTER_BACKENDS: `sim=ollama:${sim.url}`, ROUTER_CLASSIFIER_EMBEDDINGS_TIMEOUT_MS: '1500' });
    try {
      await waitForClassifier(router, 'embedding');
      sim.setFailure('hang', NOMIC);
      const started = performance.now();
      const response = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow-writer:7b', stream: true, messages: [{ role: 'user', content: 'Write a poem about the sea' }] }),
      });
      const reader = response.body!.getReader();
      const first = await reader.read();
      const firstByteMs = performance.now() - started;
      expect(new TextDecoder().decode(first.value)).toContain('chat.completion.chunk');
      expect(response.headers.get('x-router-category')).toBe('creativity');
      expect(firstByteMs).toBeGreaterThanOrEqual(1400);
      expect(firstByteMs).toBeLessThan(2600);
      await reader.cancel();
    } finally {
      sim.setFailure('none');
      await stop(router);
      await sim.close();
    }
  });
});

describe('embedding classifier: the nearest exemplars decide the category', () => {
  it('with ROUTER_CLASSIFIER_EMBEDDINGS_WEIGHT=1, an exemplar the built-in gets wrong is classified as labelled', async () => {
    // A training prompt the built-in classifier misclassifies; its own vector is its nearest neighbour.
    const { exemplars } = await loadExemplars();
    const missed = exemplars.find((e) => !e.text.includes('\n') && builtinClassify({ messages: [{ role: 'user', content: e.text }] }).category !== CATEGORIES[e.label]);
    expect(missed).toBeDefined();
    const messages: ChatMessage[] = [{ role: 'user', content: missed!.text }];
    const router = await start(dataDir(), { ROUTER_CLASSIFIER_EMBEDDINGS_WEIGHT: '1' });
    await waitForClassifier(router, 'embedding');
    const explained = await explain(router, messages);
    expect(explained).toMatchObject({ classifier: 'embedding', category: CATEGORIES[missed!.label] });
    await stop(router);
  });
});

describe('embedding classifier: nearest-exemplar search', () => {
  // The semantic index's binary first pass with exact rescoring (docs/classification.md), checked
  // against a brute-force cosine scan at the real corpus size and a real model's dimensions, on
  // clustered vectors shaped like real embeddings.
  const DIMS = 768;
  const ROWS = 3716;
  const K = 10;

  function bruteForce(rows: Float32Array[], query: Float32Array, k: number): Array<{ row: number; similarity: number }> {
    return rows
      .map((v, row) => ({ row, similarity: cosine(query, v) }))
      .sort((a, b) => b.similarity - a.similarity || a.row - b.row)
      .slice(0, k);
  }

  it('returns exactly the k nearest exemplars by cosine, with their exact similarities', async () => {
    const model = new RealisticEmbeddings(DIMS, 60, 11);
    const rows = Array.from({ length: ROWS }, () => model.text());
    const flat = new Float32Array(ROWS * DIMS);
    rows.forEach((v, i) => flat.set(v, i * DIMS));
    const labels = Uint8Array.from(rows, (_, i) => i % CATEGORIES.length);
    const index = new ExemplarIndex(flat, DIMS, labels);
    const queries: Float32Array[] = [];
    for (let i = 0; i < 120; i++) {
      const exemplar = rows[Math.floor(model.next() * ROWS)]!;
      if (i % 4 === 0) queries.push(model.text()); // a new request on a known topic
      else if (i % 4 === 1) queries.push(model.paraphrase(exemplar, 0.3 + model.next())); // close to one exemplar
      else if (i % 4 === 2) queries.push(model.noise()); // on no topic: the neighbours are far and close together
      else queries.push(exemplar); // an exemplar itself (a training prompt sent as is)
    }
    for (const query of queries) {
      const want = bruteForce(rows, query, K);
      const got = await index.nearest(query, K);
      expect(got.map((n) => n.row)).toEqual(want.map((n) => n.row));
      got.forEach((n, i) => expect(n.similarity).toBeCloseTo(want[i]!.similarity, 5));
    }
    // The vote weighs exactly those neighbours.
    const query = queries[1]!;
    const { probabilities } = await index.classify(query, K);
    vote(bruteForce(rows, query, K), labels).probabilities.forEach((p, i) => expect(probabilities[i]).toBeCloseTo(p, 4));
    await index.close();
  });

  it('asks for no more neighbours than there are exemplars, and rejects a query of another size', async () => {
    const model = new RealisticEmbeddings(32, 3, 5);
    const rows = Array.from({ length: 4 }, () => model.text());
    const flat = new Float32Array(4 * 32);
    rows.forEach((v, i) => flat.set(v, i * 32));
    const index = new ExemplarIndex(flat, 32, Uint8Array.from([0, 1, 2, 3]));
    expect((await index.nearest(rows[2]!, 10)).map((n) => n.row)).toEqual(bruteForce(rows, rows[2]!, 10).map((n) => n.row));
    await expect(index.nearest(new Float32Array(16).fill(1), 10)).rejects.toThrow(/16 dimensions, the exemplars 32/);
    expect(() => new ExemplarIndex(new Float32Array(64), 32, Uint8Array.from([0, 1]))).toThrow(/exemplar 0: .*zero length/);
    await index.close();
  });
});

describe('embedding classifier: the built-in decides when embeddings fail', () => {
  let router: TestRouter;

  beforeAll(async () => {
    router = await start(dataDir(), { ROUTER_CLASSIFIER_EMBEDDINGS_TIMEOUT_MS: '100' });
    await waitForClassifier(router, 'embedding');
  });

  afterAll(() => ollama.setFailure('none'));

  it.each([
    ['an embedding backend error: Explain names the built-in and chat succeeds', 'http500', 'Say hello'],
    ['an embedding call that never answers: the budget passes, the built-in decides, chat succeeds', 'hang', 'Say hello again'],
  ] as const)('%s', async (_name, failure, prompt) => {
    ollama.setFailure(failure, NOMIC);
    try {
      expect((await explain(router)).classifier).toBe('builtin');
      const completion = await chatClient(router).chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: prompt }] });
      expect(completion.choices[0]?.message.content).toBeTruthy();
    } finally {
      ollama.setFailure('none');
    }
    await waitForClassifier(router, 'embedding');
  });

  it('exemplars that cannot be embedded yet at start-up: the built-in decides until a retry succeeds', async () => {
    ollama.setFailure('http500', NOMIC);
    const before = ollama.requests.length;
    let late: TestRouter;
    try {
      late = await start(dataDir());
      // Wait for the first failed warm-up batch, then check a request still gets an answer.
      const deadline = Date.now() + 10_000;
      while (!embedCalls(before).some((c) => c.input.length > 1)) {
        if (Date.now() > deadline) throw new Error('the warm-up never tried to embed');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await explain(late)).classifier).toBe('builtin');
      const completion = await chatClient(late).chat.completions.create({ model: 'smarterrouter/main', messages: [{ role: 'user', content: 'Name a colour' }] });
      expect(completion.choices[0]?.message.content).toBeTruthy();
    } finally {
      ollama.setFailure('none');
    }
    await waitForClassifier(late, 'embedding');
    await stop(late);
  });
});

describe('embedding classifier: configuration', () => {
  it('is off by default: the built-in decides and nothing is embedded', async () => {
    const before = ollama.requests.length;
    const router = await start(dataDir(), { ROUTER_CLASSIFIER_EMBEDDINGS: '' });
    expect((await explain(router)).classifier).toBe('builtin');
    expect(embedCalls(before)).toEqual([]);
    const listed = (await (await fetch(`${router.url}/admin/plugins`)).json()) as { plugins: Array<{ name: string }> };
    expect(listed.plugins.map((p) => p.name)).not.toContain('smarterrouter-classifier-embedding');
    await stop(router);
  });

  it('refuses to start without ROUTER_EMBED_MODEL, naming both variables', async () => {
    await expect(startTestRouter({ ROUTER_CLASSIFIER_EMBEDDINGS: 'true', ROUTER_BACKENDS: `sim=ollama:${ollama.url}` })).rejects.toThrow(
      /ROUTER_CLASSIFIER_EMBEDDINGS: needs ROUTER_EMBED_MODEL/,
    );
  });

  it.each([
    ['ROUTER_CLASSIFIER_EMBEDDINGS', 'maybe'],
    ['ROUTER_CLASSIFIER_EMBEDDINGS_TIMEOUT_MS', '5'],
    ['ROUTER_CLASSIFIER_EMBEDDINGS_TIMEOUT_MS', 'fast'],
    ['ROUTER_CLASSIFIER_EMBEDDINGS_WEIGHT', '1.5'],
  ])('rejects %s=%s with an error naming it', (name, value) => {
    expect(() => configFrom({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });
});
