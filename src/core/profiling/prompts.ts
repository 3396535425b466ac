/**
 * The project's own profiling prompt set, MT-Bench style: per category a handful of tasks, some with
 * a follow-up turn that only makes sense after the model's first answer. References say what the
 * final turn must reach (a number for reasoning, required elements for coding) so judges can check
 * correctness, not just form.
 *
 * Order matters: a short run takes the first prompts of each category, so each category opens with
 * its most representative, unambiguous tasks and keeps the harder or longer ones for fuller runs.
 *
 * PROMPT_SET_VERSION is a hash of the content: editing any prompt changes it, and every model is
 * re-profiled against the new set (stored scores name the version they came from).
 */
import { createHash } from 'node:crypto';
import { CATEGORIES, type Category } from '../../plugin-api/index.js';
import type { ProfilePrompt } from './types.js';

export const PROMPT_SET: readonly ProfilePrompt[] = Object.freeze([
  // ------------------------------------------------------------------------------------------- coding
  {
    id: 'coding-01',
    category: 'coding',
    turns: [
      'Write a JavaScript function reverseString(text) that reverses a string without breaking emoji or other characters outside the Basic Multilingual Plane. Include a short usage example.',
      'Building on the function you just wrote, add a second function isPalindrome(text) that ignores case, spaces and punctuation. Show the code of both functions together.',
    ],
    reference: 'isPalindrome function; lower-case comparison; punctuation and spaces removed; code that runs',
  },
  {
    id: 'coding-02',
    category: 'coding',
    turns: [
      'Implement a Python function that returns the n-th Fibonacci number in O(n) time and O(1) memory. It must raise a ValueError for negative input. Add two assert-based tests.',
    ],
    reference: 'def fibonacci; iterative loop keeping two values; raise ValueError for negative n; assert tests',
  },
  {
    id: 'coding-03',
    category: 'coding',
    turns: [
      'In JavaScript, [10, 9, 1].sort() returns [1, 10, 9]. Explain why, then write a function sortNumbers(values) that sorts numbers correctly without mutating its input array.',
      'Now extend sortNumbers with an optional descending flag. Keep the input array untouched and show a usage example for both orders.',
    ],
    reference: 'numeric comparator (a, b) => a - b; copy of the array before sorting; descending option',
  },
  {
    id: 'coding-04',
    category: 'coding',
    turns: [
      'Write an SQL query that returns the five customers with the highest total order amount, using the tables customers(id, name) and orders(id, customer_id, amount). Explain each clause briefly.',
    ],
    reference: 'JOIN orders on customer_id; SUM(amount); GROUP BY customer; ORDER BY total DESC; LIMIT 5',
  },
  {
    id: 'coding-05',
    category: 'coding',
    turns: [
      'Write a TypeScript debounce function with generic parameter types. It delays a call until waitMs milliseconds have passed without a new call, and the returned function has a cancel() method.',
    ],
    reference: 'generic function type; setTimeout and clearTimeout; cancel method; last arguments used',
  },
  {
    id: 'coding-06',
    category: 'coding',
    turns: [
      'Write a JavaScript function primesUpTo(n) that returns every prime number up to n using the Sieve of Eratosthenes, and state its time complexity.',
    ],
    reference: 'boolean array sieve; marking multiples from i * i; O(n log log n)',
  },
  // ---------------------------------------------------------------------------------------- reasoning
  {
    id: 'reasoning-01',
    category: 'reasoning',
    turns: ['Maya had 50 marbles. She gave away 18 to her brother and lost 7 at school. How many marbles does she have left? Show your steps.'],
    reference: '25',
  },
  {
    id: 'reasoning-02',
    category: 'reasoning',
    turns: ['A runner completed five laps in 62, 58, 61, 59 and 60 seconds. What was the average lap duration in seconds? Show the calculation.'],
    reference: '60',
  },
  {
    id: 'reasoning-03',
    category: 'reasoning',
    turns: [
      'A bakery puts 6 rows of 4 muffins on each tray and bakes 3 trays every morning. How many muffins does it bake each morning? Show your steps.',
      'The bakery sells each of those muffins for 2 dollars. How much money does it take in per morning when every muffin is sold? Show the calculation.',
    ],
    reference: '144',
  },
  {
    id: 'reasoning-04',
    category: 'reasoning',
    turns: ['In 4 years Lena will be twice as old as she was 6 years ago. How old is Lena now? Show your working and check the result.'],
    reference: '16',
  },
  {
    id: 'reasoning-05',
    category: 'reasoning',
    turns: [
      'One pipe fills a tank alone in 6 hours, a second pipe fills it alone in 3 hours. Working together, how many hours do they take to fill the empty tank? Explain the reasoning.',
    ],
    reference: '2',
  },
  {
    id: 'reasoning-06',
    category: 'reasoning',
    turns: [
      'A jacket costs 80 dollars. It is discounted by 25 percent, then a 10 percent tax is added to the discounted price. What is the final price in dollars? Show each step.',
    ],
    reference: '66',
  },
  {
    id: 'reasoning-07',
    category: 'reasoning',
    turns: [
      "Three boxes are labelled 'apples', 'oranges' and 'mixed', and every label is wrong. You may take one fruit from one box without looking inside. Which box do you pick from so that you can relabel all three correctly? Explain the logic.",
    ],
    reference: "the box labelled 'mixed'",
  },
  // --------------------------------------------------------------------------------------- creativity
  {
    id: 'creativity-01',
    category: 'creativity',
    turns: ['Write a poem of three stanzas about a lighthouse keeper on the last night before the light is automated.'],
  },
  {
    id: 'creativity-02',
    category: 'creativity',
    turns: [
      'Write a short story of about 200 words about a clockmaker who discovers that one of her clocks runs backwards.',
      'Continue the story in about 150 words, told from the point of view of the backwards clock.',
    ],
  },
  {
    id: 'creativity-03',
    category: 'creativity',
    turns: ['Write a haiku about the first snow falling on a busy city street.'],
  },
  {
    id: 'creativity-04',
    category: 'creativity',
    turns: [
      'Invent a name and a slogan for a café that only opens during thunderstorms, then describe its interior in one vivid paragraph.',
    ],
  },
  {
    id: 'creativity-05',
    category: 'creativity',
    turns: ["Imagine you are a retired ship's cat. Write a letter to the kitten who replaced you, full of advice and salty memories."],
  },
  {
    id: 'creativity-06',
    category: 'creativity',
    turns: ['Write a limerick about a robot who is afraid of magnets.'],
  },
  // ------------------------------------------------------------------------------------------ general
  {
    id: 'general-01',
    category: 'general',
    turns: ['Why do people need sleep, and what happens to the body and the brain during the night?'],
  },
  {
    id: 'general-02',
    category: 'general',
    turns: [
      'Explain photosynthesis to a curious twelve-year-old.',
      'Summarise your explanation in three bullet points that a student could copy into their notes.',
    ],
  },
  {
    id: 'general-03',
    category: 'general',
    turns: ['What are the main differences between renting and buying a home? Give the key considerations for someone who has to decide.'],
  },
  {
    id: 'general-04',
    category: 'general',
    turns: ['Give practical advice for preparing for a job interview at a company you know little about.'],
  },
  {
    id: 'general-05',
    category: 'general',
    turns: ['What caused the fall of the Western Roman Empire? Mention the factors historians most widely accept.'],
  },
  {
    id: 'general-06',
    category: 'general',
    turns: [
      'I am visiting Lisbon for a weekend. Suggest an itinerary that balances sightseeing, food and rest.',
      'It will rain all of Saturday. Adjust your itinerary for that day and keep the rest as it was.',
    ],
  },
] satisfies ProfilePrompt[]);

/** sha256 of the set's JSON, first 12 hex digits: any change to a prompt gives a new version. */
export function promptSetVersion(prompts: readonly ProfilePrompt[]): string {
  return createHash('sha256').update(JSON.stringify(prompts)).digest('hex').slice(0, 12);
}

export const PROMPT_SET_VERSION = promptSetVersion(PROMPT_SET);

/**
 * The prompts a run uses: the first `perCategory` of each category, categories in the contract's
 * order. Throws on a set whose ids repeat, because ids are the resume key.
 */
export function selectPrompts(prompts: readonly ProfilePrompt[], perCategory: number): ProfilePrompt[] {
  const seen = new Set<string>();
  for (const p of prompts) {
    if (seen.has(p.id)) throw new Error(`prompt set: duplicate prompt id "${p.id}"`);
    if (p.turns.length === 0) throw new Error(`prompt set: prompt "${p.id}" has no turns`);
    seen.add(p.id);
  }
  const count = Math.max(0, Math.floor(perCategory));
  return CATEGORIES.flatMap((category: Category) => prompts.filter((p) => p.category === category).slice(0, count));
}
