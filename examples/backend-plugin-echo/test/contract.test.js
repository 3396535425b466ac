// @ts-check
/**
 * The plugin proves itself with the router's own contract suite. A published plugin imports it as
 * `smarterrouter/plugin-api/testing`; inside the router's repository it comes by relative path.
 *
 * Run: npx vitest run --root examples/backend-plugin-echo   (from the router's repository)
 */
import { describe, expect, it } from 'vitest';
import { collectChat, describeBackendContract } from '../../../src/plugin-api/testing/index.js';
import plugin from '../src/index.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const context = () => ({ logger, fetch, signal: new AbortController().signal });

describeBackendContract('smarterrouter-backend-echo', async () => ({
  definition: plugin,
  backend: await plugin.create({ name: 'echo', location: 'memory' }, context()),
  chatModel: 'echo-small',
  embedModel: 'echo-embed',
}));

// Behaviour specific to this plugin, beyond the shared contract.
describe('echo specifics', () => {
  it('echoes the last user message and cuts at maxTokens', async () => {
    const backend = await plugin.create({ name: 'echo', location: 'memory' }, context());
    const signal = new AbortController().signal;
    const request = {
      model: 'echo-large',
      messages: [
        { role: /** @type {const} */ ('user'), content: 'first question' },
        { role: /** @type {const} */ ('assistant'), content: 'first answer' },
        { role: /** @type {const} */ ('user'), content: 'the quick brown fox jumps' },
      ],
    };
    expect((await collectChat(backend, request, signal)).text).toBe('the quick brown fox jumps');
    const cut = await collectChat(backend, { ...request, maxTokens: 3 }, signal);
    expect(cut.text).toBe('the quick brown');
    expect(cut.end).toMatchObject({ type: 'finish', finishReason: 'length', usage: { completionTokens: 3 } });
  });

  it('ends with an aborted error part when the client goes away mid-answer', async () => {
    const backend = await plugin.create({ name: 'echo', location: 'memory', delayMs: 5 }, context());
    const controller = new AbortController();
    const parts = [];
    for await (const part of backend.chat({ model: 'echo-small', messages: [{ role: 'user', content: 'a b c d e f g h' }] }, controller)) {
      parts.push(part);
      if (part.type === 'text-delta') controller.abort();
    }
    expect(parts.map((p) => p.type)).toEqual(['text-delta', 'error']);
    expect(parts[1]).toMatchObject({ error: { code: 'aborted', backend: 'echo' } });
  });

  it('gives equal texts equal vectors and texts sharing words close ones', async () => {
    const backend = await plugin.create({ name: 'echo', location: 'memory' }, context());
    const { embeddings } = await backend.embed(
      { model: 'echo-embed', input: ['red apple pie', 'red apple pie', 'green apple pie', 'tax return form'], dimensions: 64 },
      { signal: new AbortController().signal },
    );
    const cosine = (/** @type {number[]} */ a, /** @type {number[]} */ b) => a.reduce((s, x, i) => s + x * b[i], 0);
    expect(embeddings[0]).toEqual(embeddings[1]);
    expect(embeddings[0]).toHaveLength(64);
    expect(cosine(embeddings[0], embeddings[2])).toBeGreaterThan(cosine(embeddings[0], embeddings[3]));
  });
});
