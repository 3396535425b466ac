/**
 * Deterministic answer generation shared by every simulator.
 *
 * The text is derived from the last user message and the model's quality for the prompt's category,
 * so that a heuristic judge can tell good models from bad ones: high quality = structured, right
 * length, code that parses, a worked solution with a final answer, varied vivid prose; low quality =
 * terse, repetitive, broken code, wrong answers and the occasional refusal.
 * The same request gives the same answer unless temperature > 0 without a seed.
 * Everything here is plain string work: a non-streaming request must cost well under 1 ms of CPU.
 */
import type { Category } from '../plugin-api/index.js';
import { countTokens, fnv1a, isRecord, pick, prng, toPieces, type ResolvedModel } from './util.js';

export interface SimMessage {
  role: string;
  text: string;
  /** Raw image payloads (base64 or URL); only their hash matters. */
  images: string[];
}

export interface SimTool {
  name: string;
  description?: string;
  /** JSON schema of the arguments. */
  parameters?: unknown;
}

export interface ChatInput {
  messages: SimMessage[];
  tools: SimTool[];
  /** "none" disables tool calls; a name forces that tool. */
  toolChoice?: 'none' | 'auto' | 'required' | { name: string };
  maxTokens?: number;
  stop: string[];
  temperature?: number;
  seed?: number;
  /** Emit reasoning (only for thinking models). */
  think: boolean;
  /** JSON output requested (Ollama `format`, OpenAI `response_format`); schema when given. */
  json?: { schema?: unknown };
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
  argumentsJson: string;
}

export interface Answer {
  category: Category;
  thinkingPieces: string[];
  contentPieces: string[];
  toolCall?: ToolCall;
  finishReason: 'stop' | 'length' | 'tool_calls';
  promptTokens: number;
  completionTokens: number;
}

// ---------------------------------------------------------------------------------------------
// Category detection (crude on purpose: this is a simulator, not the product classifier)

const HINT = /\[category:(coding|reasoning|creativity|general)\]/i;
const CODING =
  /\b(code|function|javascript|typescript|python|java|rust|golang|c\+\+|sql|regex|bug|debug|compile|implement|algorithm|class|method|api|script|program|array|string|json|html|css|refactor|unit test)\b|```/i;
const REASONING =
  /\b(solve|calculate|compute|how many|how much|how far|how long|how old|prove|probability|puzzle|logic|riddle|math|equation|percent|average|total|if .+ then|deduce|reason)\b|\d+\s*[-+*/×x]\s*\d+/i;
const CREATIVE = /\b(story|poem|haiku|limerick|lyrics|song|fiction|imagine|creative|fairy tale|tale|novel|metaphor|slogan|write me a)\b/i;

export function detectCategory(messages: SimMessage[]): Category {
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'developer') {
      const hint = HINT.exec(m.text);
      if (hint) return hint[1].toLowerCase() as Category;
    }
  }
  const prompt = lastUserText(messages);
  const hint = HINT.exec(prompt);
  if (hint) return hint[1].toLowerCase() as Category;
  if (CODING.test(prompt)) return 'coding';
  if (CREATIVE.test(prompt)) return 'creativity';
  if (REASONING.test(prompt)) return 'reasoning';
  // A question with several quantities is almost always a word problem.
  if ((prompt.match(/\d+(?:\.\d+)?/g)?.length ?? 0) >= 2 && prompt.includes('?')) return 'reasoning';
  return 'general';
}

export function lastUserText(messages: SimMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].text;
  return '';
}

export function hasImages(messages: SimMessage[]): boolean {
  return messages.some((m) => m.images.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Topic words

const STOP = new Set(
  'the a an and or but of to in on at for with about from by into onto over under is are was were be been being do does did have has had can could would should will shall may might must i you he she it we they me my your our their this that these those what which who whom whose when where why how please tell give write make explain describe show let lets some any all each every very just also than then there here its not no yes as so if me category'.split(
    ' ',
  ),
);

function topicWords(prompt: string): string[] {
  const out: string[] = [];
  for (const raw of prompt.toLowerCase().replace(HINT, ' ').split(/[^a-z0-9+#]+/)) {
    if (raw.length < 3 || STOP.has(raw) || /^\d+$/.test(raw) || out.includes(raw)) continue;
    out.push(raw);
    if (out.length === 6) break;
  }
  return out;
}

const cap = (s: string): string => (s ? s[0].toUpperCase() + s.slice(1) : s);

// ---------------------------------------------------------------------------------------------
// Answer text

interface Ctx {
  rng: () => number;
  q: number;
  prompt: string;
  words: string[];
  topic: string;
}

const REFUSALS = [
  "I'm sorry, I can't help with that.",
  "I'm sorry, but I can't assist with that request.",
  'I cannot help with that.',
];

function general(c: Ctx): string {
  const { rng, q, topic, words } = c;
  if (q < 0.35) {
    const t = topic || 'it';
    return `${cap(t)} is a thing. ${cap(t)} is a thing that people use. It is a thing.`;
  }
  const openers = [
    `${cap(topic)} is best understood by looking at what it does, why it matters and how it is used in practice.`,
    `In short, ${topic} comes down to a few core ideas that fit together neatly.`,
    `${cap(topic)} is a broad subject, but the essentials are straightforward.`,
  ];
  if (q < 0.7) {
    return `${pick(rng, openers)} It depends on the context, and the details vary from case to case. ${cap(
      words[1] ?? topic,
    )} is usually the part people ask about first.`;
  }
  const details = [
    'what it is and where it comes from',
    'how it works step by step',
    'the trade-offs to keep in mind',
    'common mistakes and how to avoid them',
    'a practical example you can try today',
    'how it compares with the usual alternatives',
  ];
  const lines = [`## ${cap(topic)}`, '', pick(rng, openers), '', '**Key points:**'];
  const count = 3 + Math.round((q - 0.7) * 6);
  const start = Math.floor(rng() * details.length);
  for (let i = 0; i < count; i++) {
    const w = words[i % Math.max(1, words.length)] ?? topic;
    lines.push(`- **${cap(w)}**: ${details[(start + i) % details.length]}, explained with concrete detail.`);
  }
  lines.push('', `**In summary:** ${topic} rewards a careful, well-informed approach; start small and build on it.`);
  return lines.join('\n');
}

// Code snippets keyed by the task they solve; every JS snippet is valid (a judge may parse it).
interface Snippet {
  name: string;
  js: string;
  py: string;
  demo: string;
  pyDemo: string;
  how: string[];
}
const SNIPPETS: Array<{ re: RegExp; s: Snippet }> = [
  {
    re: /revers/i,
    s: {
      name: 'reverseString',
      js: "function reverseString(text) {\n  if (typeof text !== 'string') {\n    throw new TypeError('text must be a string');\n  }\n  // Array.from splits by code point, so emoji and other surrogate pairs stay intact.\n  return Array.from(text).reverse().join('');\n}",
      py: 'def reverse_string(text: str) -> str:\n    """Return text reversed."""\n    return text[::-1]',
      demo: "console.log(reverseString('hello')); // 'olleh'",
      pyDemo: "print(reverse_string('hello'))  # 'olleh'",
      how: ['Validate that the input is a string.', 'Split it into code points, so multi-byte characters survive.', 'Reverse the array and join it back.'],
    },
  },
  {
    re: /fibonacci/i,
    s: {
      name: 'fibonacci',
      js: "function fibonacci(n) {\n  if (!Number.isInteger(n) || n < 0) {\n    throw new RangeError('n must be a non-negative integer');\n  }\n  // Iterative: O(n) time and O(1) memory, no recursion depth limit.\n  let a = 0;\n  let b = 1;\n  for (let i = 0; i < n; i++) {\n    [a, b] = [b, a + b];\n  }\n  return a;\n}",
      py: 'def fibonacci(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a',
      demo: 'console.log(fibonacci(10)); // 55',
      pyDemo: 'print(fibonacci(10))  # 55',
      how: ['Reject negative or fractional input.', 'Keep only the last two values.', 'Advance n times and return the first one.'],
    },
  },
  {
    re: /factorial/i,
    s: {
      name: 'factorial',
      js: "function factorial(n) {\n  if (!Number.isInteger(n) || n < 0) {\n    throw new RangeError('n must be a non-negative integer');\n  }\n  // BigInt keeps large results exact.\n  let result = 1n;\n  for (let i = 2n; i <= BigInt(n); i++) {\n    result *= i;\n  }\n  return result;\n}",
      py: 'def factorial(n: int) -> int:\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result',
      demo: 'console.log(factorial(5)); // 120n',
      pyDemo: 'print(factorial(5))  # 120',
      how: ['Validate the input.', 'Multiply the numbers from 2 to n.', 'Use BigInt so large results stay exact.'],
    },
  },
  {
    re: /palindrom/i,
    s: {
      name: 'isPalindrome',
      js: "function isPalindrome(text) {\n  // Ignore case and anything that is not a letter or digit.\n  const clean = text.toLowerCase().replace(/[^a-z0-9]/g, '');\n  let left = 0;\n  let right = clean.length - 1;\n  while (left < right) {\n    if (clean[left] !== clean[right]) return false;\n    left++;\n    right--;\n  }\n  return true;\n}",
      py: "def is_palindrome(text: str) -> bool:\n    clean = ''.join(ch for ch in text.lower() if ch.isalnum())\n    return clean == clean[::-1]",
      demo: "console.log(isPalindrome('A man, a plan, a canal: Panama')); // true",
      pyDemo: "print(is_palindrome('A man, a plan, a canal: Panama'))  # True",
      how: ['Normalise case and drop punctuation.', 'Walk two pointers towards the middle.', 'Stop at the first mismatch.'],
    },
  },
  {
    re: /prime/i,
    s: {
      name: 'isPrime',
      js: "function isPrime(n) {\n  if (!Number.isInteger(n) || n < 2) return false;\n  if (n % 2 === 0) return n === 2;\n  // Only odd divisors up to the square root need checking.\n  for (let d = 3; d * d <= n; d += 2) {\n    if (n % d === 0) return false;\n  }\n  return true;\n}",
      py: 'def is_prime(n: int) -> bool:\n    if n < 2:\n        return False\n    d = 2\n    while d * d <= n:\n        if n % d == 0:\n            return False\n        d += 1\n    return True',
      demo: 'console.log(isPrime(97)); // true',
      pyDemo: 'print(is_prime(97))  # True',
      how: ['Handle numbers below 2 and even numbers.', 'Try odd divisors up to the square root.', 'Return early on the first divisor.'],
    },
  },
  {
    re: /sort/i,
    s: {
      name: 'sortNumbers',
      js: "function sortNumbers(values) {\n  if (!Array.isArray(values)) {\n    throw new TypeError('values must be an array');\n  }\n  // Copy first so the caller's array is not mutated; compare numerically, not as strings.\n  return [...values].sort((a, b) => a - b);\n}",
      py: 'def sort_numbers(values: list[float]) -> list[float]:\n    return sorted(values)',
      demo: 'console.log(sortNumbers([10, 2, 33, 4])); // [2, 4, 10, 33]',
      pyDemo: 'print(sort_numbers([10, 2, 33, 4]))  # [2, 4, 10, 33]',
      how: ['Validate the input.', 'Copy the array so the original is untouched.', 'Sort with a numeric comparator.'],
    },
  },
];
const GENERIC_SNIPPET: Snippet = {
  name: 'processItems',
  js: "function processItems(items) {\n  if (!Array.isArray(items)) {\n    throw new TypeError('items must be an array');\n  }\n  // Drop empty entries, trim strings, and keep the original order.\n  return items\n    .filter((item) => item !== null && item !== undefined && item !== '')\n    .map((item) => (typeof item === 'string' ? item.trim() : item));\n}",
  py: "def process_items(items: list) -> list:\n    return [item.strip() if isinstance(item, str) else item for item in items if item not in (None, '')]",
  demo: "console.log(processItems([' a ', null, 'b'])); // ['a', 'b']",
  pyDemo: "print(process_items([' a ', None, 'b']))  # ['a', 'b']",
  how: ['Validate the input.', 'Filter out empty entries.', 'Normalise each remaining item.'],
};

function coding(c: Ctx): string {
  const { q, prompt, topic } = c;
  if (/\bsql\b|\bquery\b.*\b(table|database|rows?)\b/i.test(prompt)) return sql(c);
  const python = /\bpython\b/i.test(prompt);
  const s = SNIPPETS.find((x) => x.re.test(prompt))?.s ?? GENERIC_SNIPPET;
  const lang = python ? 'python' : 'javascript';
  const code = python ? s.py : s.js;
  if (q < 0.35) {
    // Broken on purpose: an unclosed call and a missing brace, so the block does not parse.
    const broken = python
      ? `def ${s.name}(x)\n    return x[::-1`
      : `function ${s.name}(x) {\n  return x.map((y) => y * 2\n`;
    return `Something like this maybe:\n\n\`\`\`${lang}\n${broken}\n\`\`\``;
  }
  if (q < 0.7) {
    return `Here is the code for ${topic || 'this'}:\n\n\`\`\`${lang}\n${code}\n\`\`\``;
  }
  const how = s.how.map((h, i) => `${i + 1}. ${h}`).join('\n');
  return [
    `Here is a clean, well-tested implementation${topic ? ` for ${topic}` : ''}.`,
    '',
    `\`\`\`${lang}`,
    code,
    '',
    python ? s.pyDemo : s.demo,
    '```',
    '',
    '**How it works:**',
    how,
    '',
    q >= 0.85 ? '**Complexity:** linear in the size of the input, with no hidden allocations beyond the result.' : '',
  ]
    .join('\n')
    .trimEnd();
}

function sql(c: Ctx): string {
  const table = c.words.find((w) => /^(users?|orders?|customers?|products?|employees?|sales|posts?|accounts?)$/.test(w)) ?? 'items';
  const t = table.endsWith('s') ? table : `${table}s`;
  if (c.q < 0.35) return `Something like:\n\n\`\`\`sql\nSELECT COUNT( FROM ${t} WHERE\n\`\`\``;
  const query = `SELECT COUNT(*) AS ${t.replace(/s$/, '')}_count\nFROM ${t};`;
  if (c.q < 0.7) return `\`\`\`sql\n${query}\n\`\`\``;
  return [
    `Here is the query, using the \`${t}\` table:`,
    '',
    '```sql',
    query,
    '```',
    '',
    '**Notes:**',
    '1. `COUNT(*)` counts every row, including rows with NULL columns.',
    `2. Add a \`WHERE\` clause to count a subset, e.g. \`WHERE created_at >= '2025-01-01'\`.`,
    `3. An index is not needed for a full count, but helps once you filter.`,
  ].join('\n');
}

/** Evaluates + - * / and parentheses over numbers; null when the text is not such an expression. */
function evaluate(expr: string): number | null {
  const tokens = expr.replace(/[×x]/g, '*').match(/\d+(?:\.\d+)?|[-+*/()]/g);
  if (!tokens) return null;
  let i = 0;
  const primary = (): number => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      i++;
      return v;
    }
    if (t === '-') return -primary();
    return Number(t);
  };
  const product = (): number => {
    let v = primary();
    while (tokens[i] === '*' || tokens[i] === '/') v = tokens[i++] === '*' ? v * primary() : v / primary();
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  return Number.isFinite(v) ? Math.round(v * 1e6) / 1e6 : null;
}

function solve(prompt: string): { steps: string[]; value: string } {
  const expr = /\(?\d+(?:\.\d+)?\)?(?:\s*[-+*/×x]\s*\(?\d+(?:\.\d+)?\)?)+/.exec(prompt);
  if (expr) {
    const v = evaluate(expr[0]);
    if (v !== null) return { steps: [`Evaluate ${expr[0].trim()} respecting operator precedence.`], value: String(v) };
  }
  const nums = (prompt.match(/\d+(?:\.\d+)?/g) ?? []).map(Number);
  if (nums.length >= 2) {
    if (/\b(times|each|per|every|multipl|product|rows of|boxes of)/i.test(prompt)) {
      const v = nums.reduce((a, b) => a * b, 1);
      return { steps: [`Multiply the quantities: ${nums.join(' × ')} = ${v}.`], value: String(v) };
    }
    if (/\b(minus|left|remain|difference|fewer|less|gave away|lost|spent)/i.test(prompt)) {
      const v = nums.slice(1).reduce((a, b) => a - b, nums[0]);
      return { steps: [`Subtract: ${nums.join(' − ')} = ${v}.`], value: String(v) };
    }
    if (/\b(average|mean)\b/i.test(prompt)) {
      const v = Math.round((nums.reduce((a, b) => a + b, 0) / nums.length) * 100) / 100;
      return { steps: [`Add the values and divide by ${nums.length}: ${v}.`], value: String(v) };
    }
    const v = nums.reduce((a, b) => a + b, 0);
    return { steps: [`Add the quantities: ${nums.join(' + ')} = ${v}.`], value: String(v) };
  }
  if (nums.length === 1) return { steps: [`The only quantity given is ${nums[0]}.`], value: String(nums[0]) };
  return { steps: ['Check each condition in turn against the premises.'], value: 'yes' };
}

function reasoning(c: Ctx): string {
  const { q, prompt } = c;
  const { steps, value } = solve(prompt);
  if (q < 0.35) {
    const wrong = /^-?\d/.test(value) ? String(Number(value) + 1) : 'no';
    return `The answer is probably ${wrong}.`;
  }
  if (q < 0.7) return `${steps[0]} So the answer is ${value}.`;
  const nums = prompt.match(/\d+(?:\.\d+)?/g) ?? [];
  const lines = ["Let's solve this step by step.", ''];
  lines.push(`1. Identify what is given: ${nums.length ? nums.join(', ') : 'the stated conditions'}.`);
  steps.forEach((s, i) => lines.push(`${i + 2}. ${s}`));
  lines.push(`${steps.length + 2}. Check the result against the question: it is consistent with every condition.`);
  lines.push('', `**Final answer: ${value}**`);
  return lines.join('\n');
}

/** "a river" / "an amber river". */
const a = (phrase: string): string => `${/^[aeiou]/i.test(phrase) ? 'an' : 'a'} ${phrase}`;
const plural = (noun: string): string => (/(s|sh|ch|x)$/.test(noun) ? `${noun}es` : `${noun}s`);

const ADJ = ['silver', 'restless', 'amber', 'whispering', 'velvet', 'luminous', 'ancient', 'crimson', 'hollow', 'gentle', 'wild', 'shimmering', 'forgotten', 'golden', 'midnight', 'fragile'];
const NOUN = ['lantern', 'tide', 'orchard', 'harbour', 'meadow', 'clocktower', 'sparrow', 'compass', 'glacier', 'violin', 'ember', 'bridge', 'garden', 'storm', 'river', 'mirror'];
const VERB = ['drifted', 'hummed', 'glimmered', 'wandered', 'trembled', 'unfolded', 'whispered', 'blossomed', 'echoed', 'shivered', 'danced', 'lingered'];

function creativity(c: Ctx): string {
  const { rng, q, prompt, topic } = c;
  const subject = c.words.find((w) => !/^(story|poem|haiku|short|creative|write|about|tale)$/.test(w)) ?? 'the sea';
  if (q < 0.35) return `Once there was ${a(subject)}. It was good. It was very good. It was good. The end.`;
  // Draw vivid words without repeats so the prose stays varied (a judge measures lexical diversity).
  const bag = (list: string[]): (() => string) => {
    const pool = [...list];
    return () => (pool.length ? pool.splice(Math.floor(rng() * pool.length), 1)[0] : pick(rng, list));
  };
  const adj = bag(ADJ);
  const noun = bag(NOUN);
  const verb = bag(VERB);
  const poem = /\b(poem|haiku|verse|lyrics|song|limerick)\b/i.test(prompt);
  if (q < 0.7) {
    return poem
      ? `The ${subject} is ${adj()},\nThe ${subject} is near,\nThe ${subject} is ${adj()},\nAnd then it is here.`
      : `There was ${a(`${adj()} ${subject}`)} near ${a(noun())}. Every day it ${verb()} a little. One day things changed, and it was happy.`;
  }
  const title = `# The ${cap(adj())} ${cap(subject)}`;
  if (poem) {
    const stanzas: string[] = [];
    for (let s = 0; s < 3; s++) {
      stanzas.push(
        [
          `The ${adj()} ${subject} ${verb()} beneath ${a(noun())},`,
          `where ${adj()} ${plural(noun())} ${verb()} in the ${adj()} light;`,
          `${a(noun())} remembers what the ${noun()} forgot,`,
          `and carries it, ${adj()}, into the night.`,
        ].join('\n'),
      );
    }
    return `${title}\n\n${stanzas.join('\n\n')}`;
  }
  const paras = [
    `The ${subject} ${verb()} at the edge of ${a(`${adj()} ${noun()}`)}, where the air smelled of rain and ${adj()} ${plural(noun())}.`,
    `No one in the village remembered when it had first appeared. Children said it ${verb()} when the ${noun()} rang; the old ferryman swore it had ${verb()} beside his ${adj()} ${noun()} for a hundred winters.`,
    `On the last night of autumn, the ${subject} ${verb()} once more, and the whole ${noun()} ${verb()} with it — ${adj()}, ${adj()}, impossibly alive. By morning, only ${a(`${adj()} ${noun()}`)} remained, and a story everyone would tell differently.`,
  ];
  return `${title}\n\n${paras.join('\n\n')}`;
}

// ---------------------------------------------------------------------------------------------
// Tool arguments from a JSON schema

const CITIES = ['Paris', 'Tokyo', 'Berlin', 'Lisbon', 'Toronto'];

function valueFor(name: string, schema: unknown, prompt: string, rng: () => number, depth = 0): unknown {
  const s = isRecord(schema) ? schema : {};
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  const numbers = prompt.match(/-?\d+(?:\.\d+)?/g);
  switch (type) {
    case 'integer':
      return numbers ? Math.trunc(Number(numbers[0])) : 1;
    case 'number':
      return numbers ? Number(numbers[0]) : 1;
    case 'boolean':
      return true;
    case 'array':
      return depth > 2 ? [] : [valueFor(name, s.items, prompt, rng, depth + 1)];
    case 'object':
      return depth > 2 ? {} : objectFor(s, prompt, rng, depth + 1);
    default: {
      const n = name.toLowerCase();
      if (/(city|location|place|town|where)/.test(n)) {
        const proper = /\b(?:in|at|for|to)\s+([A-Z][a-zA-Z]+(?:\s[A-Z][a-zA-Z]+)?)/.exec(prompt);
        return proper ? proper[1] : pick(rng, CITIES);
      }
      if (/(unit|format)/.test(n)) return 'celsius';
      if (/(date|day|time)/.test(n)) return '2025-01-15';
      if (/(email)/.test(n)) return 'user@example.com';
      if (/(url|link)/.test(n)) return 'https://example.com';
      if (/(lang)/.test(n)) return 'en';
      const words = topicWords(prompt);
      return words.length ? words.slice(0, 3).join(' ') : prompt.slice(0, 40) || 'example';
    }
  }
}

function objectFor(schema: Record<string, unknown>, prompt: string, rng: () => number, depth = 0): Record<string, unknown> {
  const props = isRecord(schema.properties) ? schema.properties : {};
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(props)) out[key] = valueFor(key, sub, prompt, rng, depth);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry point

let variation = 0;

export function generateAnswer(model: ResolvedModel, input: ChatInput): Answer {
  const category = detectCategory(input.messages);
  const prompt = lastUserText(input.messages);
  const q = Math.min(1, Math.max(0, model.quality?.[category] ?? 0.5));
  const sampled = (input.temperature ?? 0) > 0 && input.seed === undefined;
  const seed = fnv1a(`${model.id}\u0000${prompt}\u0000${input.seed ?? ''}\u0000${sampled ? ++variation : ''}`);
  const rng = prng(seed);
  const promptTokens = input.messages.reduce((n, m) => n + 4 + countTokens(m.text) + m.images.length * 256, 0);
  const last = input.messages[input.messages.length - 1];

  // Tool call: the model can, tools are offered, the user just spoke and tool_choice allows it.
  if (input.tools.length && model.tools && last?.role === 'user' && input.toolChoice !== 'none') {
    const forced = typeof input.toolChoice === 'object' ? input.tools.find((t) => t.name === (input.toolChoice as { name: string }).name) : undefined;
    const tool = forced ?? input.tools[0];
    const args = objectFor(isRecord(tool.parameters) ? tool.parameters : {}, prompt, rng);
    const argumentsJson = JSON.stringify(args);
    return {
      category,
      thinkingPieces: input.think && model.thinking ? toPieces(`The user needs ${tool.name}; I will call it with the details from the request.`) : [],
      contentPieces: [],
      toolCall: { name: tool.name, arguments: args, argumentsJson },
      finishReason: 'tool_calls',
      promptTokens,
      completionTokens: countTokens(argumentsJson) + 5,
    };
  }

  const words = topicWords(prompt);
  const c: Ctx = { rng, q, prompt, words, topic: words.slice(0, 3).join(' ') || 'this topic' };
  let text: string;
  const refuse = q < 0.2 && rng() < (0.2 - q) * 4;
  if (refuse) text = pick(rng, REFUSALS);
  else if (input.json) text = JSON.stringify(isRecord(input.json.schema) ? objectFor(input.json.schema, prompt, rng) : { answer: general({ ...c, q: 0.5 }) });
  else text = { general, coding, reasoning, creativity }[category](c);

  if (last?.role === 'tool' && !input.json) {
    const result = last.text.replace(/\s+/g, ' ').slice(0, 120);
    text = `Based on the tool result (${result}), here is the answer.\n\n${text}`;
  }
  if (hasImages(input.messages) && model.vision && !input.json) {
    const img = input.messages.flatMap((m) => m.images).join('|');
    const r = prng(fnv1a(img));
    text = `The image shows a ${pick(r, ADJ)} ${pick(r, NOUN)} in the foreground, with ${pick(r, ADJ)} tones in the background.\n\n${text}`;
  }

  let finishReason: Answer['finishReason'] = 'stop';
  if (input.stop.length) {
    let cut = -1;
    for (const s of input.stop) {
      const at = s ? text.indexOf(s) : -1;
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) text = text.slice(0, cut);
  }
  let thinkingPieces = input.think && model.thinking ? toPieces(thinkingFor(category, c)) : [];
  let contentPieces = toPieces(text);
  // max_tokens / num_predict bound reasoning and content together, like the real servers.
  const max = input.maxTokens;
  if (max !== undefined && max >= 0 && thinkingPieces.length + contentPieces.length > max) {
    finishReason = 'length';
    if (thinkingPieces.length >= max) {
      thinkingPieces = thinkingPieces.slice(0, max);
      contentPieces = [];
    } else contentPieces = contentPieces.slice(0, max - thinkingPieces.length);
  }
  return {
    category,
    thinkingPieces,
    contentPieces,
    finishReason,
    promptTokens,
    completionTokens: thinkingPieces.length + contentPieces.length,
  };
}

function thinkingFor(category: Category, c: Ctx): string {
  const plan = {
    coding: 'write a correct function, keep it readable and show an example',
    reasoning: 'identify the quantities, compute carefully and double-check the result',
    creativity: 'pick vivid images and vary the rhythm',
    general: 'give a clear overview with the key points first',
  }[category];
  return `Okay, the user is asking about ${c.topic}. This looks like a ${category} request, so I should ${plan}. Let me make sure the answer is complete before replying.`;
}
