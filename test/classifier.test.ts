import { describe, expect, it } from 'vitest';
import {
  builtinClassifierDefinition,
  classify,
  createBuiltinClassifier,
} from '../src/plugins/classifiers/builtin/index.js';
import { continuationCue } from '../src/plugins/classifiers/builtin/mixing.js';
import { CATEGORIES, type ChatMessage, type Classification } from '../src/plugin-api/index.js';

const user = (content: ChatMessage['content']): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
const system = (content: string): ChatMessage => ({ role: 'system', content });
const ask = (text: string): Classification => classify({ messages: [user(text)] });

describe('builtin classifier: categories on clear cases', () => {
  const cases: Array<[string, Classification['category']]> = [
    ['Write a Python function that returns the n-th Fibonacci number iteratively.', 'coding'],
    ["fix this error: TypeError: Cannot read properties of undefined (reading 'map')", 'coding'],
    ['How do I undo my last git commit but keep the changes?', 'coding'],
    ['Write a Dockerfile for a Go web service with a multi-stage build.', 'coding'],
    ['write a python poem generator', 'coding'],
    ['SELECT name FROM users WHERE created_at > now() - interval \'1 day\' -- why is this slow?', 'coding'],
    ['how many ways can 5 people sit in a row', 'reasoning'],
    ['Prove that there are infinitely many prime numbers.', 'reasoning'],
    ['A train travels 240 km in 3 hours. What is its average speed in m/s?', 'reasoning'],
    ['If all bloops are razzies and all razzies are lazzies, are all bloops lazzies?', 'reasoning'],
    ['write a poem about recursion', 'creativity'],
    ['Tell me a story about a dragon who is afraid of the dark.', 'creativity'],
    ['Give me 10 catchy slogans for a vegan bakery.', 'creativity'],
    ['You are a pirate captain. Stay in character and tell me about your ship.', 'creativity'],
    ['explain how TCP works', 'general'],
    ['What is the capital of Australia?', 'general'],
    ['Write an email to my landlord asking him to fix the heating.', 'general'],
    ['Translate "good morning, how are you?" into French.', 'general'],
    ['What are some tips for sleeping better?', 'general'],
  ];
  it.each(cases)('%s -> %s', (text, expected) => {
    expect(ask(text).category).toBe(expected);
  });
});

describe('builtin classifier: real-traffic voice', () => {
  const cases: Array<[string, Classification['category']]> = [
    // Spreadsheet formulas are coding under the category definitions.
    ['excel formula that adds up column C only where column A says "paid"', 'coding'],
    // A short shell question is still a coding question.
    ['what does the -r flag do in rm', 'coding'],
    // Typos: character n-grams still see "python" and "function".
    ['how do i mkae a pyhton fucntion that retruns the biggest number in a list', 'coding'],
    ['Wie kann ich in JavaScript ein Array nach Datum sortieren?', 'coding'],
    ['Pythonで辞書をJSONファイルに保存する方法', 'coding'],
    ['Combien font 25 % de 640 euros ?', 'reasoning'],
    ['Escribe un poema corto sobre la lluvia en Madrid', 'creativity'],
    ['Quels documents faut-il pour renouveler un passeport en France ?', 'general'],
  ];
  it.each(cases)('%s -> %s', (text, expected) => {
    expect(ask(text).category).toBe(expected);
  });
});

describe('builtin classifier: conversation context', () => {
  it('recognises turns that open like a continuation', () => {
    for (const text of ['and if we only have 2 days?', 'what about for 10 people', 'why?', 'und auf Deutsch?', 'et divisé par 6 ?']) {
      expect(continuationCue(text), text).toBe(1);
    }
    for (const text of ['write a haiku about snow', 'and btw, unrelated: how tall is everest?', 'Android or iPhone?']) {
      expect(continuationCue(text), text).toBe(0);
    }
  });

  it('keeps a travel discussion general when the follow-up carries a number', () => {
    const messages = [
      user('what are fun things to do in vienna in winter'),
      assistant('Christmas markets, the opera, coffee houses, the Belvedere and ice skating at the Rathausplatz.'),
      user('and if we only have 2 days?'),
    ];
    expect(classify({ messages }).category).toBe('general');
  });

  it('keeps a calculation going through "and what about …"', () => {
    const messages = [user('how much is 20% of 350'), assistant('20% of 350 is 70.'), user('and what about 35% of it?')];
    expect(classify({ messages }).category).toBe('reasoning');
  });

  it('carries a coding discussion over to a vague follow-up', () => {
    const messages = [
      user('Write a function that removes duplicates from a list in Python.'),
      assistant('```python\ndef dedupe(items):\n    return list(dict.fromkeys(items))\n```'),
      user('now make it faster'),
    ];
    expect(classify({ messages }).category).toBe('coding');
  });

  it('carries a creative discussion over to a vague follow-up', () => {
    const messages = [
      user('Write a limerick about a cat who loves lasagna.'),
      assistant('There once was a cat named Lorraine,\nwho ate lasagna again and again...'),
      user('make it funnier'),
    ];
    expect(classify({ messages }).category).toBe('creativity');
  });

  it('lets a clear new ask override the earlier topic', () => {
    const messages = [
      user('Why does my Rust code fail with "borrow of moved value"?'),
      assistant('Because `s` was moved into `t` on line 3; clone it or borrow it instead.'),
      user('Thanks! Unrelated: write me a haiku about the first snow of winter.'),
    ];
    expect(classify({ messages }).category).toBe('creativity');
  });

  it('uses the system prompt to decide an ambiguous turn', () => {
    const creative = classify({
      messages: [system('You are a creative writing partner. Write vivid poems and short fiction.'), user('something about autumn')],
    });
    expect(creative.category).toBe('creativity');
    const math = classify({
      messages: [system('You are a patient math tutor. Solve problems step by step.'), user('I need help with question 3')],
    });
    expect(math.category).toBe('reasoning');
  });

  it('does not let a neutral system prompt move a clear ask', () => {
    const result = classify({ messages: [system('You are a helpful assistant.'), user('How many trailing zeros does 100! have?')] });
    expect(result.category).toBe('reasoning');
  });

  it('reads code blocks and text parts of multi-part content', () => {
    const result = classify({
      messages: [
        user([
          { type: 'text', text: 'What is wrong with this?' },
          { type: 'text', text: '```js\nfor (var i = 0; i <= arr.length; i++) {\n  total += arr[i];\n}\n```' },
          { type: 'image', url: 'https://example.com/screenshot.png' },
        ]),
      ],
    });
    expect(result.category).toBe('coding');
  });

  it('classifies a pasted stack trace without any question as coding', () => {
    const trace = 'Traceback (most recent call last):\n  File "app.py", line 14, in <module>\n    main()\nZeroDivisionError: division by zero';
    expect(ask(trace).category).toBe('coding');
  });
});

describe('builtin classifier: complexity', () => {
  it('orders a one-line fact below a multi-part system design', () => {
    const fact = ask('What is the capital of France?');
    const design = ask(
      'Design a multi-region, fault-tolerant payment processing system: service boundaries, data model, idempotency, ' +
        'consistency trade-offs, failure handling, observability and scaling to 50k transactions per second. Include diagrams in text and code for the core ledger.',
    );
    expect(fact.complexity).toBe('simple');
    expect(design.complexity).toBe('hard');
    expect(fact.complexityScore).toBeLessThan(design.complexityScore);
  });

  it('puts a several-step task between the two', () => {
    const medium = ask('Write a Python function that parses a CSV file, skips malformed rows and returns a list of dicts.');
    expect(medium.complexity).toBe('medium');
  });

  it('treats a proof as hard', () => {
    expect(ask('Prove that every continuous function on a closed interval [a, b] is bounded and attains its maximum.').complexity).toBe('hard');
  });
});

describe('builtin classifier: output shape and edge cases', () => {
  it('returns scores in range that sum to about 1, with confidence = top score', () => {
    for (const text of ['hello', 'write a sonnet about tea', 'solve 2x + 3 = 11', 'explain closures in JavaScript']) {
      const result = ask(text);
      expect(CATEGORIES).toContain(result.category);
      expect(result.complexityScore).toBeGreaterThanOrEqual(0);
      expect(result.complexityScore).toBeLessThanOrEqual(1);
      expect(result.confidence).toBeGreaterThan(0);
      expect(result.confidence).toBeLessThanOrEqual(1);
      const scores = Object.values(result.categoryScores ?? {});
      expect(scores).toHaveLength(4);
      for (const s of scores) expect(s).toBeGreaterThanOrEqual(0);
      expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
      expect(result.confidence).toBeCloseTo(result.categoryScores?.[result.category] ?? -1, 3);
    }
  });

  it('returns general/simple for an empty conversation', () => {
    const result = classify({ messages: [] });
    expect(result.category).toBe('general');
    expect(result.complexity).toBe('simple');
  });

  it('returns general/simple for image-only and blank messages', () => {
    const image = classify({ messages: [user([{ type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' }])] });
    expect(image).toMatchObject({ category: 'general', complexity: 'simple' });
    const blank = classify({ messages: [user('   ')] });
    expect(blank).toMatchObject({ category: 'general', complexity: 'simple' });
  });

  it('does not throw on malformed input', () => {
    expect(() => classify({ messages: undefined as unknown as ChatMessage[] })).not.toThrow();
    expect(() => classify({ messages: [{ role: 'user', content: null as unknown as string }] })).not.toThrow();
    expect(() => classify({ messages: [{ role: 'tool', content: '{"ok":true}', toolCallId: 'x' }] })).not.toThrow();
  });

  it('handles a huge ~8k-token prompt', () => {
    const code = 'export function handler(req: Request) { return db.query("select * from orders where id = " + req.id); }\n'.repeat(330);
    const prompt = `Here is our service code.\n\`\`\`ts\n${code}\`\`\`\nWhy is this endpoint so slow under load, and how do I fix it?`;
    expect(prompt.length).toBeGreaterThan(32_000);
    const result = ask(prompt);
    expect(result.category).toBe('coding');
    expect(result.complexity).toBe('hard');
  });

  it('is deterministic', () => {
    const text = 'Write a short story about a lighthouse keeper.';
    expect(ask(text)).toEqual(ask(text));
  });
});

describe('builtin classifier: plugin contract', () => {
  it('exposes a v1 classifier plugin named builtin', async () => {
    const plugin = createBuiltinClassifier();
    expect(plugin.specificationVersion).toBe('v1');
    expect(plugin.name).toBe('builtin');
    const result = await plugin.classify({ messages: [user('write a haiku about rain')] }, { signal: new AbortController().signal });
    expect(result?.category).toBe('creativity');
  });

  it('has a manifest and creates the plugin', async () => {
    expect(builtinClassifierDefinition.manifest).toMatchObject({
      name: 'smarterrouter-classifier-builtin',
      kind: 'classifier',
      version: '1.0.0',
      specificationVersion: 'v1',
    });
    const noop = () => undefined;
    const instance = await builtinClassifierDefinition.create(
      { name: 'builtin' },
      { logger: { debug: noop, info: noop, warn: noop, error: noop }, fetch, signal: new AbortController().signal },
    );
    expect(instance.name).toBe('builtin');
  });
});
