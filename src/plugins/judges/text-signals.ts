/**
 * Text measurements the heuristic judge combines: refusals, repetition, truncation, hedging, the
 * answer length a request implies, lexical variety, arithmetic in worked answers and overlap with a
 * reference. Each is a small pure function so the judge stays deterministic and each signal can be
 * tested and explained on its own.
 */
import type { Category, ChatMessage } from '../../plugin-api/index.js';

/** The text of the last user message (what the answer must fit), or of all messages as a fallback. */
export function requestText(messages: ChatMessage[]): string {
  const text = (m: ChatMessage): string =>
    typeof m.content === 'string' ? m.content : m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return text(messages[i]);
  return messages.map(text).join('\n');
}

/** Lower-case word tokens; typographic apostrophes folded so "I’m" and "I'm" are one word. */
export function words(text: string): string[] {
  return text.toLowerCase().replace(/[’‘]/g, "'").match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

export const STOP_WORDS = new Set(
  (
    'the a an and or but of to in on at for with about from by into onto over under is are was were be been being do does did ' +
    'have has had can could would should will shall may might must i you he she it we they me my your our their this that these ' +
    'those what which who whom whose when where why how please tell give write make explain describe show let lets some any all ' +
    'each every very just also than then there here its not no yes as so if one two using use used get like more most such only ' +
    'into out up down new want need way ways know'
  ).split(' '),
);

export function contentWords(text: string): string[] {
  return words(text).filter((w) => w.length >= 3 && !STOP_WORDS.has(w) && !/^\d+$/.test(w));
}

/** Crude stemming: enough that "sorting" matches "sorted" and "arrays" matches "array". */
export function stem(word: string): string {
  return word.length > 5 ? word.slice(0, 5) : word.replace(/(es|s)$/, '');
}

// ---------------------------------------------------------------------------------------------
// Refusal

const REFUSALS = [
  /\b(i'm|im|i am)\s+(really\s+|very\s+|so\s+)?(sorry|afraid)\b[^.!?\n]{0,80}?\b(can't|cannot|can not|unable|not able|won't|will not|must decline|not comfortable)\b/,
  /\bi\s+(can't|cannot|can not|won't|will not|am unable to|'m unable to|am not able to|must decline to|refuse to|am not comfortable)\s*(help|assist|provide|comply|do that|do this|write|create|fulfil+|answer|complete|generate|share|engage|with)?/,
  /\bi (must|have to) (decline|refuse)\b/,
  /\b(this|that|your) (request|content) (violates|goes against|is against)\b/,
  /\bunable to (help|assist|comply) with\b/,
];
const AI_DISCLAIMER =
  /\bas an ai\b|\bas an? (ai )?(language model|llm|ai assistant)\b|\bi('m| am) (just |only )?an ai\b|\bi don't have (personal|the ability|access to real-time)\b/;

export interface RefusalSignal {
  /** none; disclaimer: refusal words but a real answer follows; refusal: the answer is a refusal. */
  kind: 'none' | 'disclaimer' | 'refusal';
  phrase?: string;
}

export function detectRefusal(answer: string): RefusalSignal {
  const text = answer.toLowerCase().replace(/[’‘]/g, "'");
  const total = words(text).length;
  for (const pattern of REFUSALS) {
    const match = pattern.exec(text);
    if (!match) continue;
    const after = words(text.slice(match.index + match[0].length)).length;
    // A short answer that refuses is a refusal; a refusal sentence followed by a real answer
    // ("I can't run code, but here is ...") is only a disclaimer.
    const kind = total <= 60 || (match.index < 200 && after < 40) ? 'refusal' : 'disclaimer';
    return { kind, phrase: match[0].trim() };
  }
  const disclaimer = AI_DISCLAIMER.exec(text);
  if (disclaimer) return { kind: total < 40 ? 'refusal' : 'disclaimer', phrase: disclaimer[0] };
  return { kind: 'none' };
}

// ---------------------------------------------------------------------------------------------
// Repetition

export interface RepetitionSignal {
  /** 0 (none) .. 1 (the text is one thing said over and over). */
  ratio: number;
  detail: string;
}

/** Repeated lines, repeated sentences and repeated word 3-grams; the worst of the three counts. */
export function repetition(prose: string): RepetitionSignal {
  const norm = (s: string): string => words(s).join(' ');
  const dupRatio = (items: string[]): number => (items.length < 3 ? 0 : (items.length - new Set(items).size) / items.length);

  const lines = prose
    .split('\n')
    .map(norm)
    .filter((l) => l.split(' ').length >= 3);
  const sentences = prose
    .split(/(?<=[.!?])\s+|\n+/)
    .map(norm)
    .filter((s) => s.split(' ').length >= 2);
  const tokens = words(prose);
  let trigram = 0;
  if (tokens.length >= 12) {
    const grams: string[] = [];
    for (let i = 0; i + 2 < tokens.length; i++) grams.push(`${tokens[i]} ${tokens[i + 1]} ${tokens[i + 2]}`);
    // Natural prose repeats a few 3-grams ("one of the"); only the excess counts.
    trigram = Math.max(0, (1 - new Set(grams).size / grams.length - 0.1) / 0.9);
  }
  const parts = { lines: dupRatio(lines), sentences: dupRatio(sentences), trigrams: trigram };
  const [worst, ratio] = Object.entries(parts).reduce((a, b) => (b[1] > a[1] ? b : a));
  return { ratio, detail: ratio > 0 ? `${worst} ${ratio.toFixed(2)}` : 'none' };
}

// ---------------------------------------------------------------------------------------------
// Truncation

const DANGLING_WORD = /\b(and|or|the|a|an|of|to|with|for|in|that|which|is|are|because|but|then|if|when|from|by|as|we|this|its|their|our)$/i;

/**
 * strong: the answer stops mid-clause (a dangling connective, a trailing comma or colon).
 * mild: the last prose line is a long sentence without closing punctuation.
 * `verse` answers (poems) end lines without punctuation on purpose, so only strong cues count there.
 */
export function truncation(answer: string, verse: boolean): { kind: 'none' | 'mild' | 'strong'; why?: string } {
  const lines = answer.trimEnd().split('\n');
  const last = (lines[lines.length - 1] ?? '').trim();
  if (!last || /^(`{3,}|~{3,})$/.test(last)) return { kind: 'none' };
  let end = last.length;
  while (end > 0 && '*_`~'.includes(last[end - 1])) end--;
  const bare = last.slice(0, end).trimEnd();
  if (/[,:;(\[{–—-]$/.test(bare) && !/^[-*+]\s*$/.test(bare) && !/:-?\)$/.test(bare)) {
    return { kind: 'strong', why: `ends with "${bare.slice(-1)}"` };
  }
  if (DANGLING_WORD.test(bare) && words(bare).length >= 3) return { kind: 'strong', why: `ends mid-sentence ("${bare.split(/\s+/).pop()}")` };
  if (verse) return { kind: 'none' };
  const isStructure = /^([-*+]\s|\d+[.)]\s|#|\||>)/.test(last);
  if (!isStructure && words(bare).length >= 8 && /[\p{L}\p{N}]$/u.test(bare)) return { kind: 'mild', why: 'last sentence has no end' };
  return { kind: 'none' };
}

// ---------------------------------------------------------------------------------------------
// Hedging

const HEDGES =
  /\b(it depends|depends on|may or may not|might|perhaps|possibly|probably|maybe|not sure|i think|i believe|i guess|hard to say|difficult to say|it varies|vary|varies|in some cases|generally speaking|to some extent|could be|unclear|not certain)\b/g;

export function hedgeCount(text: string): number {
  return (text.toLowerCase().match(HEDGES) ?? []).length;
}

export function sentenceCount(text: string): number {
  return text.split(/(?<=[.!?])\s+|\n+/).filter((s) => words(s).length >= 2).length;
}

// ---------------------------------------------------------------------------------------------
// Length the request implies

export interface LengthRange {
  min: number;
  max: number;
  why: string;
}

const NUMBER_WORDS: Record<string, number> = { one: 1, a: 1, an: 1, single: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 };

function countOf(token: string): number | undefined {
  return /^\d+$/.test(token) ? Number(token) : NUMBER_WORDS[token.toLowerCase()];
}

/** Creative forms and the word counts they usually take. */
export const CREATIVE_FORMS: Array<{ form: string; re: RegExp; range: [number, number]; verse: boolean; lines?: [number, number] }> = [
  { form: 'haiku', re: /\bhaikus?\b/i, range: [8, 30], verse: true, lines: [3, 3] },
  { form: 'limerick', re: /\blimericks?\b/i, range: [20, 70], verse: true, lines: [5, 5] },
  { form: 'slogan', re: /\b(slogan|tagline|motto|title|headline)\b/i, range: [2, 25], verse: false },
  { form: 'sonnet', re: /\bsonnet\b/i, range: [80, 180], verse: true, lines: [14, 14] },
  { form: 'poem', re: /\b(poem|verse|lyrics|song|rhyme|ode)\b/i, range: [30, 350], verse: true, lines: [4, 60] },
  { form: 'short story', re: /\b(short story|flash fiction|micro.?story|very short)\b/i, range: [100, 900], verse: false },
  { form: 'story', re: /\b(story|tale|fable|narrative|fiction|scene|chapter)\b/i, range: [200, 2000], verse: false },
  { form: 'description', re: /\b(describe|description|imagine)\b/i, range: [60, 600], verse: false },
];

export function creativeForm(request: string): (typeof CREATIVE_FORMS)[number] | undefined {
  return CREATIVE_FORMS.find((f) => f.re.test(request));
}

/** Explicit sizes first ("in 100 words", "three sentences"), then the form, then the category. */
export function expectedLength(request: string, category: Category): LengthRange {
  const r = request.toLowerCase();
  let m = /\b(under|at most|no more than|less than|fewer than|max(?:imum)?|up to|within)\s+(\d+)\s*words?\b/.exec(r);
  if (m) return { min: Math.max(1, Math.round(Number(m[2]) * 0.3)), max: Math.round(Number(m[2]) * 1.15), why: `at most ${m[2]} words` };
  m = /\b(\d+)(?:\s*[-–]\s*(\d+))?[\s-]*words?\b/.exec(r);
  if (m && Number(m[1]) > 0) {
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    return { min: Math.max(1, Math.round(lo * 0.6)), max: Math.round(hi * 1.35) + 2, why: `${m[0]} requested` };
  }
  if (/\b(one|single|1)[\s-]word\b|\byes or no\b/.test(r)) return { min: 1, max: 25, why: 'one word / yes-no requested' };
  m = /\b(\d+|one|a|an|single|two|three|four|five|six|seven|eight|nine|ten)[\s-]+(sentences?|paragraphs?|lines?|bullet points?|bullets|points|steps)\b/.exec(r);
  if (m) {
    const n = countOf(m[1]) ?? 1;
    const unit = m[2];
    const per: [number, number] = unit.startsWith('sentence') || unit.startsWith('line') ? [6, 30] : unit.startsWith('paragraph') ? [35, 180] : [4, 40];
    return { min: Math.round(n * per[0] * 0.6), max: Math.round(n * per[1] * 1.3) + 10, why: `${m[0]} requested` };
  }
  if (category === 'creativity' || /\b(poem|haiku|story|limerick|slogan)\b/.test(r)) {
    const form = creativeForm(r);
    if (form) {
      const scale = /\b(long|epic|detailed)\b/.test(r) ? 2 : /\b(short|brief|tiny|quick)\b/.test(r) && form.form !== 'short story' ? 0.6 : 1;
      return { min: Math.round(form.range[0] * (scale < 1 ? 0.5 : scale)), max: Math.round(form.range[1] * scale), why: form.form };
    }
  }
  if (/\b(briefly|brief|short answer|in short|quick(ly)?|tl;?dr|concise(ly)?|summari[sz]e in|one.liner)\b/.test(r)) {
    return { min: 3, max: category === 'coding' ? 400 : 150, why: 'brief answer requested' };
  }
  if (/\b(in detail|detailed|comprehensive|thorough(ly)?|in depth|in-depth|essay|guide|tutorial|step.by.step)\b/.test(r)) {
    return { min: category === 'coding' ? 60 : 120, max: 2500, why: 'detailed answer requested' };
  }
  switch (category) {
    case 'coding':
      return { min: 15, max: 1500, why: 'coding default' };
    case 'reasoning':
      return { min: 12, max: 900, why: 'reasoning default' };
    case 'creativity':
      return { min: 40, max: 1200, why: 'creative default' };
    default: {
      const complex = /\b(explain|compare|difference|differences|pros and cons|how (do|does|to|can)|why|overview|advantages|steps|list)\b/.test(r) || words(r).length > 25;
      return complex ? { min: 50, max: 1000, why: 'open question' } : { min: 8, max: 500, why: 'short question' };
    }
  }
}

/** 1 inside the range, falling off smoothly (and not to zero) outside it. */
export function lengthFit(count: number, range: LengthRange): number {
  if (count <= 0) return 0;
  if (count < range.min) return Math.pow(count / range.min, 0.7);
  if (count > range.max) return Math.pow(range.max / count, 0.5);
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Lexical variety

/**
 * Moving-average type/token ratio: plain TTR falls as texts grow, so a fixed window keeps a haiku and
 * a long story comparable.
 */
export function lexicalVariety(tokens: string[], window = 40): number {
  if (tokens.length === 0) return 0;
  const w = Math.min(window, tokens.length);
  if (tokens.length === w) return new Set(tokens).size / tokens.length;
  let sum = 0;
  let count = 0;
  // A step keeps long stories cheap; the average barely moves.
  const step = Math.max(1, Math.floor((tokens.length - w) / 200));
  for (let i = 0; i + w <= tokens.length; i += step) {
    sum += new Set(tokens.slice(i, i + w)).size / w;
    count++;
  }
  return sum / count;
}

// ---------------------------------------------------------------------------------------------
// Numbers and arithmetic

const NUMBER = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?/g;

export function numbersIn(text: string): number[] {
  return (text.match(NUMBER) ?? []).map((n) => Number(n.replace(/,/g, ''))).filter(Number.isFinite);
}

export function sameNumber(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(1e-9, Math.abs(b) * 0.005);
}

/** Evaluates + - * / ^ and parentheses; undefined when the text is not such an expression. */
export function evaluateArithmetic(expr: string): number | undefined {
  const tokens = expr
    .replace(/[×x]/g, '*')
    .replace(/÷/g, '/')
    .replace(/[−–]/g, '-')
    .replace(/\$/g, '')
    .replace(/(\d),(\d{3})/g, '$1$2')
    .match(/\d+(?:\.\d+)?|[-+*/^()]|\S/g);
  if (!tokens) return undefined;
  let i = 0;
  let bad = false;
  const primary = (): number => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') bad = true;
      return v;
    }
    if (t === '-') return -primary();
    if (t === undefined || !/^\d/.test(t)) {
      bad = true;
      return NaN;
    }
    return Number(t);
  };
  const power = (): number => {
    const base = primary();
    if (tokens[i] === '^') {
      i++;
      return Math.pow(base, power());
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    while (tokens[i] === '*' || tokens[i] === '/') v = tokens[i++] === '*' ? v * power() : v / power();
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const value = sum();
  return bad || i !== tokens.length || !Number.isFinite(value) ? undefined : value;
}

// Unambiguous number tokens and a bounded operator count keep the pattern linear on any input
// (a run like "1,1,1,..." or "1 + 1 + 1 ..." with no "=" would otherwise backtrack quadratically).
const NUM_TOKEN = String.raw`(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?`;
// Spaces only around operators (the text is flattened first): each space has one place to go.
const OPERAND = String.raw`\(?\$?-?${NUM_TOKEN}\)?`;
const OPERATOR = String.raw`(?:[-+*/×÷−^]| x )`;
// Starts only where a number starts, never inside a long digit run.
const EQUATION = new RegExp(String.raw`(?<![\d.,])(${OPERAND}(?: ?${OPERATOR} ?${OPERAND}){1,12}) ?= ?\$?(-?${NUM_TOKEN})`, 'g');

/** "a op b = c" statements in a worked answer, each checked. */
export function checkEquations(text: string): { total: number; wrong: string[] } {
  let total = 0;
  const wrong: string[] = [];
  // One space between tokens, so the pattern needs no open-ended \s* runs.
  const flat = text.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')');
  for (const match of flat.matchAll(EQUATION)) {
    const value = evaluateArithmetic(match[1]);
    if (value === undefined) continue;
    total++;
    const stated = Number(match[2].replace(/,/g, ''));
    const decimals = match[2].split('.')[1]?.length ?? 0;
    // Stated results are often rounded: accept anything the stated precision could have come from.
    const tolerance = Math.max(0.5 * Math.pow(10, -decimals), Math.abs(value) * 0.005);
    if (Math.abs(value - stated) > tolerance + 1e-9) wrong.push(match[0].replace(/\s+/g, ' ').trim());
  }
  return { total, wrong };
}

// ---------------------------------------------------------------------------------------------
// Reference overlap

/** 0..1: how much of the reference (its numbers first, then its key words) the answer contains. */
export function referenceOverlap(answer: string, reference: string): number {
  const normAnswer = words(answer).join(' ');
  const normRef = words(reference).join(' ');
  if (!normRef) return 1;
  if (normAnswer.includes(normRef)) return 1;
  const refNumbers = numbersIn(reference);
  const answerNumbers = numbersIn(answer);
  const numberShare = refNumbers.length ? refNumbers.filter((n) => answerNumbers.some((a) => sameNumber(a, n))).length / refNumbers.length : undefined;
  const refWords = [...new Set(contentWords(reference).map(stem))];
  const answerStems = new Set(contentWords(answer).map(stem));
  const wordShare = refWords.length ? refWords.filter((w) => answerStems.has(w)).length / refWords.length : undefined;
  if (numberShare !== undefined && wordShare !== undefined) return 0.7 * numberShare + 0.3 * wordShare;
  return numberShare ?? wordShare ?? 1;
}
