/**
 * OpenWebUI's background tasks (title, tags, follow-up questions) quote the whole chat in
 * <chat_history>. The quote is material, not the ask: a chat about code must not turn "suggest a
 * title" into a hard coding request for the largest coder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../src/plugins/classifiers/builtin/classify.js';
import { startOllamaSimulator, type RunningSimulator } from '../src/simulators/index.js';
import { CODING_HISTORY, followUpPrompt, tagsPrompt, titlePrompt } from './fixtures/openwebui/tasks.js';
import { startTestRouter, waitForModels, type TestRouter } from './support/router.js';

const user = (content: string) => ({ role: 'user' as const, content });

describe('builtin classifier and UI background tasks', () => {
  it.each([
    ['title', titlePrompt],
    ['tags', tagsPrompt],
    ['follow-ups', followUpPrompt],
  ])('%s over a coding chat is a simple general task', (_name, prompt) => {
    const result = classify({ messages: [user(prompt(CODING_HISTORY))] });
    expect(result.category).toBe('general');
    expect(result.complexity).toBe('simple');
  });

  it('the chat itself is still a hard coding request', () => {
    const result = classify({ messages: [user(CODING_HISTORY.split('\n')[0]!.replace(/^USER: /, ''))] });
    expect(result).toMatchObject({ category: 'coding', complexity: 'hard' });
  });
});

describe('routing a background task', () => {
  let sim: RunningSimulator;
  let router: TestRouter;
  beforeAll(async () => {
    sim = await startOllamaSimulator({
      models: [
        { id: 'qwen2.5-coder:32b', parameterSizeB: 32, quality: { coding: 0.95, reasoning: 0.7, creativity: 0.4, general: 0.6 } },
        { id: 'llama3.2:3b', parameterSizeB: 3.2, quality: { coding: 0.3, reasoning: 0.4, creativity: 0.6, general: 0.65 } },
      ],
    });
    router = await startTestRouter({ ROUTER_OLLAMA_URL: sim.url, ROUTER_EXPOSE_MODELS: 'true' });
    await waitForModels(router, ['qwen2.5-coder:32b', 'llama3.2:3b']);
  });
  afterAll(async () => {
    await router?.stop();
    await sim?.close();
  });

  it('sends the title task to the small model and the coding question to the coder', async () => {
    const explain = async (content: string) => {
      const res = await fetch(`${router.url}/admin/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'smarterrouter/main', messages: [user(content)] }) });
      return (await res.json()) as { category: string; complexity: string; selected_model: string };
    };
    expect(await explain(titlePrompt(CODING_HISTORY))).toMatchObject({ category: 'general', complexity: 'simple', selected_model: 'llama3.2:3b' });
    expect(await explain('Can you make this Rust LRU cache lock-free for reads using crossbeam epochs? Keep it generic over keys and values.')).toMatchObject({ category: 'coding', selected_model: 'qwen2.5-coder:32b' });
  });
});
