/**
 * The heuristic judge: scores an answer without any model or network, from signals a careful reader
 * would check first. Per category: coding (is there code, does it parse, is it explained, in the
 * requested language), reasoning (steps, a stated final answer, arithmetic that holds, the reference
 * result), creativity (form and length, lexical variety, imagery, no clichés), general (answers the
 * question, has substance, structure in proportion, commits to an answer). Everywhere: refusals,
 * repetition, truncation and a length far from what the request implies pull the score down.
 *
 * Deterministic: the same input always gives the same verdict (no clock, no randomness, code is only
 * compiled, never run). It is the default judge and the LLM judge's fallback, so it must tell a good
 * model from a weak one on its own.
 */
import { SPECIFICATION_VERSION, type Category, type JudgeInput, type JudgePlugin, type JudgeVerdict, type PluginDefinition } from '../../plugin-api/index.js';
import { checkCode, extractCodeBlocks, findUnfencedCode, isCheckable, type CodeBlock, type CodeCheck } from './code-check.js';
import {
  checkEquations,
  contentWords,
  creativeForm,
  detectRefusal,
  expectedLength,
  hedgeCount,
  lengthFit,
  lexicalVariety,
  numbersIn,
  referenceOverlap,
  repetition,
  requestText,
  sameNumber,
  sentenceCount,
  stem,
  truncation,
  words,
} from './text-signals.js';

interface Analysis {
  category: Category;
  request: string;
  answer: string;
  /** The answer without fenced code. */
  prose: string;
  blocks: CodeBlock[];
  reference?: string;
}

/** A category score before the cross-category penalties, with the signals that explain it. */
interface Part {
  score: number;
  signals: string[];
}

/** Far beyond any profiling answer; bounds the work on runaway outputs. */
const MAX_ANALYSED_CHARS = 32_000;

const clamp = (v: number, lo = 0, hi = 1): number => Math.min(hi, Math.max(lo, v));
const pct = (v: number): string => v.toFixed(2);

export async function heuristicScore(input: JudgeInput): Promise<JudgeVerdict> {
  const answer = typeof input.answer === 'string' ? input.answer : '';
  const category = input.category;
  if (!answer.trim()) return { score: 0, reasoning: `${category}: empty answer` };

  const request = requestText(input.prompt ?? []).slice(0, MAX_ANALYSED_CHARS);
  // Signals are read from the head of a huge answer: the length penalty (from the full word count)
  // already sinks it, and bounded input keeps every pattern fast whatever a model emits.
  const head = answer.length > MAX_ANALYSED_CHARS ? answer.slice(0, MAX_ANALYSED_CHARS) : answer;
  const { blocks, prose } = extractCodeBlocks(head);
  const a: Analysis = { category, request, answer: head, prose, blocks, reference: input.reference?.trim().slice(0, 4000) || undefined };

  const part =
    category === 'coding' ? await scoreCoding(a) : category === 'reasoning' ? scoreReasoning(a) : category === 'creativity' ? scoreCreativity(a) : scoreGeneral(a);
  let score = part.score;
  const signals = [...part.signals];

  if (a.reference && category !== 'reasoning') {
    // Reasoning weighs its reference inside the category score (the final result matters most there).
    const overlap = referenceOverlap(head, a.reference);
    score = 0.7 * score + 0.3 * overlap;
    signals.push(`reference overlap ${pct(overlap)}`);
  }

  const penalties: string[] = [];
  const range = expectedLength(request, category);
  const count = words(answer).length;
  const fit = lengthFit(count, range);
  if (fit < 0.999) {
    score *= 0.45 + 0.55 * fit;
    penalties.push(`length ${count}w vs ${range.min}-${range.max} (${range.why})`);
  }
  const rep = repetition(prose);
  const repFactor = 1 - 0.75 * clamp((rep.ratio - 0.1) / 0.5);
  if (repFactor < 0.999) {
    score *= repFactor;
    penalties.push(`repetition (${rep.detail})`);
  }
  const verse = category === 'creativity' && (creativeForm(request)?.verse ?? false);
  const cut = blocks.some((b) => b.unterminated) ? { kind: 'strong' as const, why: 'code block never closed' } : truncation(answer.slice(-2000), verse);
  if (cut.kind !== 'none') {
    score *= cut.kind === 'strong' ? 0.55 : 0.85;
    penalties.push(`truncated? ${cut.why}`);
  }
  const refusal = detectRefusal(prose.trim() ? prose : head);
  if (refusal.kind === 'refusal') {
    score = Math.min(score, 0.1) * 0.5;
    penalties.push(`refusal ("${refusal.phrase}")`);
  } else if (refusal.kind === 'disclaimer') {
    score *= 0.85;
    penalties.push(`disclaimer ("${refusal.phrase}")`);
  }

  score = Math.round(clamp(score) * 1000) / 1000;
  const reasoning = `${category} ${score.toFixed(2)}: ${signals.join('; ')}${penalties.length ? `; penalties: ${penalties.join(', ')}` : ''}`;
  return { score, reasoning };
}

// ---------------------------------------------------------------------------------------------
// Coding

const WANTS_CODE =
  /\b(write|implement|create|build|code|function|script|program|snippet|class|method|query|regex|regular expression|fix|debug|refactor|rewrite|convert|generate|example|algorithm|endpoint|component)\b/i;
const EXPLAIN_ONLY = /^\s*(what|why|explain|describe|compare|when should|how does|what's|whats|difference)\b/i;

const REQUESTED_LANG: Array<[RegExp, string]> = [
  [/\btypescript\b|\bts\b/i, 'typescript'],
  [/\bjavascript\b|\bnode(\.?js)?\b|\bjs\b/i, 'javascript'],
  [/\bpython\b/i, 'python'],
  [/\bsql\b|\bquery\b.*\b(table|database)\b/i, 'sql'],
  [/\bjson\b/i, 'json'],
  [/\b(bash|shell|zsh)\b/i, 'shell'],
  [/\brust\b/i, 'rust'],
  [/\bgolang\b|\bin go\b/i, 'go'],
  [/\bjava\b/i, 'java'],
  [/\bc\+\+|\bcpp\b/i, 'cpp'],
  [/\bc#|\bcsharp\b/i, 'csharp'],
  [/\bruby\b/i, 'ruby'],
  [/\bphp\b/i, 'php'],
  [/\bkotlin\b/i, 'kotlin'],
  [/\bswift\b/i, 'swift'],
];

function langFit(requested: string | undefined, blocks: CodeBlock[]): number {
  if (!requested || blocks.length === 0) return 1;
  const langs = blocks.map((b) => b.lang);
  if (langs.includes(requested)) return 1;
  // TypeScript without annotations is written as JavaScript; JSON output may come as a JS object.
  if ((requested === 'typescript' && langs.includes('javascript')) || (requested === 'javascript' && langs.includes('typescript'))) return 0.8;
  if (requested === 'json' && langs.includes('javascript')) return 0.7;
  // Unknown-tag code could still be the right language.
  if (langs.every((l) => l === 'code')) return 0.6;
  return 0.2;
}

const VALIDITY: Record<CodeCheck['verdict'], number> = { valid: 1, plausible: 0.8, broken: 0 };

async function scoreCoding(a: Analysis): Promise<Part> {
  const signals: string[] = [];
  const wantsCode = WANTS_CODE.test(a.request) || !EXPLAIN_ONLY.test(a.request);
  let code = a.blocks.filter(isCheckable);
  let prose = a.prose;
  let unfenced = false;
  if (code.length === 0) {
    const found = findUnfencedCode(a.prose);
    if (found && isCheckable(found)) {
      code = [found];
      unfenced = true;
      prose = a.prose.replace(found.code, '');
    }
  }
  const checks = await Promise.all(code.map(checkCode));
  const validity = checks.length ? checks.reduce((s, c) => s + VALIDITY[c.verdict], 0) / checks.length : 0;
  if (checks.length) {
    const described = checks.map((c) => `${c.lang} ${c.verdict === 'broken' ? `broken (${(c.problem ?? '').slice(0, 60)})` : c.verdict}`);
    signals.push(`${unfenced ? 'unfenced code' : `${checks.length} code block${checks.length > 1 ? 's' : ''}`}: ${described.join(', ')}`);
  } else {
    signals.push(wantsCode ? 'no code although code was asked for' : 'no code');
  }

  const proseWords = words(prose).length;
  const structured = /^[ \t]*(\d+[.)]|[-*+])\s+\S/m.test(prose) || /\*\*[^*]+\*\*|^#{1,4}\s/m.test(prose);
  const hedges = hedgeCount(prose) + (/\b(something like|not tested|untested|might work|should work)\b/i.test(prose) ? 1 : 0);
  let explanation = clamp(proseWords / 40) + (structured ? 0.15 : 0) - 0.3 * Math.min(1, hedges);
  explanation = clamp(explanation);
  signals.push(`explanation ${proseWords}w${structured ? ' structured' : ''}${hedges ? `, ${hedges} hedge(s)` : ''}`);

  const requested = REQUESTED_LANG.find(([re]) => re.test(a.request))?.[1];
  const fitLang = langFit(requested, code);
  if (requested && code.length) signals.push(`language ${fitLang === 1 ? 'matches' : 'differs from'} ${requested}`);

  const allCode = code.map((b) => b.code).join('\n');
  const extras =
    (/console\.log|\bprint\(|\bassert|\/\/\s*(=>|→|output|returns|prints)|#\s*(=>|→|output|returns|prints)|\bexample\b|\bexpect\(/i.test(a.answer) ? 1 : 0) +
    (/\/\/|#\s|\/\*|"""|--\s/.test(allCode) ? 1 : 0) +
    (/\bthrow\b|\braise\b|\bisinstance\b|typeof\b|Array\.isArray|Number\.is|\btry\b|\bif\s*\(?\s*(!|not\b)|\bguard\b|edge case/i.test(a.answer) ? 1 : 0);
  if (extras) signals.push(`extras ${extras}/3 (usage, comments, input checks)`);

  const presence = code.length ? (unfenced ? 0.6 : 1) : 0;
  const score = wantsCode
    ? 0.2 * presence + 0.35 * validity + 0.25 * explanation + 0.1 * (code.length ? fitLang : 0) + 0.1 * (extras / 3)
    : 0.5 * explanation + 0.2 * (structured ? 1 : 0.5) + 0.3 * (code.length ? validity : 0.7);
  return { score, signals };
}

// ---------------------------------------------------------------------------------------------
// Reasoning

const FINAL_NUMBER =
  /(?:final answer|the answer is|answer\s*[:=]|result is|result\s*[:=]|therefore|thus|hence|so\b|in total|total (?:is|of))[^0-9\n-]{0,24}?(?:\b(?:probably|about|approximately|roughly|exactly|likely)\s+)?\**\s*\$?(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)/gi;
const FINAL_WORDS = /\b(final answer|the answer is|answer\s*:|in conclusion|therefore|so the answer|conclusion\s*:)/i;
const BOXED = /\\boxed\{([^}]*)\}/g;
const STEP_LINE = /^[ \t]*(\d+[.)]|step[ \t]*\d+\b|[-*•])[ \t]*\S/gim;
const CONNECTIVES = /\b(first|second|third|then|next|finally|so|therefore|thus|hence|because|since|which means|this gives|we get|we have|subtract|add|multiply|divide|substitut\w*|check)\b/gi;

function finalAnswer(text: string): { stated: boolean; value?: number; raw?: string } {
  const boxed = [...text.matchAll(BOXED)].pop();
  if (boxed) {
    const nums = numbersIn(boxed[1]);
    return { stated: true, value: nums.length ? nums[nums.length - 1] : undefined, raw: boxed[1] };
  }
  const numeric = [...text.matchAll(FINAL_NUMBER)].pop();
  if (numeric) return { stated: true, value: Number(numeric[1].replace(/,/g, '')), raw: numeric[1] };
  if (FINAL_WORDS.test(text)) return { stated: true };
  // A bold last line ("**42 apples**") is how many models state their result.
  const last = text.trim().split('\n').pop() ?? '';
  if (/^\s*\*\*.+\*\*\s*$/.test(last)) {
    const nums = numbersIn(last);
    return { stated: true, value: nums.length ? nums[nums.length - 1] : undefined, raw: last };
  }
  return { stated: false };
}

function scoreReasoning(a: Analysis): Part {
  const signals: string[] = [];
  const text = a.answer;
  const stepLines = (text.match(STEP_LINE) ?? []).length;
  const connectives = (text.match(CONNECTIVES) ?? []).length;
  const equations = checkEquations(text);
  const indicators = stepLines + Math.min(connectives, 4) + equations.total;
  const steps = clamp(indicators / 5);
  signals.push(`steps ${indicators} (${stepLines} lines, ${connectives} connectives, ${equations.total} equations)`);

  const final = finalAnswer(text);
  const finalScore = final.stated ? 1 : numbersIn(text.trim().split('\n').pop() ?? '').length ? 0.4 : 0;
  signals.push(final.stated ? `final answer stated${final.value !== undefined ? ` (${final.value})` : ''}` : 'no clear final answer');

  let consistency = equations.total ? (equations.total - equations.wrong.length) / equations.total : 0.6;
  if (equations.wrong.length) signals.push(`wrong arithmetic: ${equations.wrong.slice(0, 2).join(' | ')}`);
  if (final.value !== undefined && equations.total > 0) {
    // The stated result should come out of the work shown, not appear from nowhere.
    const before = numbersIn(text.slice(0, Math.max(0, text.lastIndexOf(final.raw ?? ''))));
    if (!derivable(final.value, before)) {
      consistency *= 0.5;
      signals.push('final answer not derived in the steps');
    }
  }

  const hedges = hedgeCount(text);
  const commitment = 1 - Math.min(1, hedges * 0.4);
  if (hedges) signals.push(`${hedges} hedge(s)`);

  if (!a.reference) return { score: 0.35 * steps + 0.25 * finalScore + 0.25 * consistency + 0.15 * commitment, signals };

  const correct = referenceCorrectness(text, final, a.reference);
  signals.push(`reference ${correct >= 1 ? 'matched' : correct > 0 ? 'partly matched' : 'not matched'}`);
  const score = 0.4 * correct + 0.25 * steps + 0.15 * finalScore + 0.1 * consistency + 0.1 * commitment;
  // Well-presented work that reaches the wrong result must not beat a right answer.
  return { score: correct < 0.5 ? Math.min(score, 0.35) : score, signals };
}

/** The value appears in the work, or is one step (+ - × ÷) from two numbers that do. */
function derivable(value: number, numbers: number[]): boolean {
  const seen = numbers.slice(0, 30);
  if (seen.some((n) => sameNumber(n, value))) return true;
  for (let i = 0; i < seen.length; i++) {
    for (let j = i + 1; j < seen.length; j++) {
      const [x, y] = [seen[i], seen[j]];
      if ([x + y, x - y, y - x, x * y, y ? x / y : NaN, x ? y / x : NaN].some((r) => Number.isFinite(r) && sameNumber(r, value))) return true;
    }
  }
  return false;
}

function referenceCorrectness(text: string, final: { value?: number }, reference: string): number {
  const expected = numbersIn(reference);
  if (expected.length) {
    if (final.value !== undefined) return expected.some((n) => sameNumber(final.value!, n)) ? 1 : 0;
    const tail = text.slice(Math.floor(text.length * 0.6));
    if (numbersIn(tail).some((n) => expected.some((e) => sameNumber(n, e)))) return 0.6;
    return numbersIn(text).some((n) => expected.some((e) => sameNumber(n, e))) ? 0.3 : 0;
  }
  // A worded result ("yes", "Alice", "the red box"): look for it near the end, where conclusions are.
  const tail = text.slice(Math.floor(text.length * 0.5));
  return Math.max(referenceOverlap(tail, reference), 0.8 * referenceOverlap(text, reference));
}

// ---------------------------------------------------------------------------------------------
// Creativity

const IMAGERY = new Set(
  (
    'red crimson scarlet gold golden silver amber azure blue green emerald violet purple grey gray black white pale dark bright ' +
    'glow glimmer shimmer gleam flicker luminous shadow light moonlight sunlight starlight dawn dusk twilight sparkle blaze ' +
    'whisper hum echo roar murmur silence hush rustle crackle sing song chime thunder creak sigh ' +
    'soft velvet cold warm rough smooth damp icy silk brittle frost heavy hollow tender ' +
    'scent fragrance smoke salt sweet bitter honey rain perfume ' +
    'river tide wind storm ember moon star sea ocean wave meadow orchard petal bloom blossom leaf leave mist fog snow ' +
    'lantern mirror garden bridge harbour harbor glacier sparrow violin clocktower compass fire flame sky cloud ' +
    'drift tremble unfold linger wander dance shiver gentle wild restless ancient forgotten fragile midnight'
  ).split(' '),
);
const FIGURATIVE = /\b(like an? |like the |as if|as though|as \w+ as)\b/gi;
const CLICHES = /\b(once upon a time|happily ever after|the end\b|it was good|very good|dark and stormy|in a world where|little did (he|she|they) know|all of a sudden|suddenly)\b/gi;
const VAGUE = /\b(thing|things|stuff|something|nice|good|bad|very|really|a lot)\b/gi;

function imageryStem(token: string): string {
  for (const suffix of ['ing', 'ed', 'es', 's', 'y']) {
    if (token.endsWith(suffix) && IMAGERY.has(token.slice(0, -suffix.length))) return token.slice(0, -suffix.length);
  }
  return token;
}

function scoreCreativity(a: Analysis): Part {
  const signals: string[] = [];
  const tokens = words(a.prose);
  const mattr = lexicalVariety(tokens);
  const variety = clamp((mattr - 0.45) / 0.35);
  signals.push(`lexical variety ${pct(mattr)}`);

  const vivid = tokens.filter((t) => IMAGERY.has(t) || IMAGERY.has(imageryStem(t))).length + (a.prose.match(FIGURATIVE) ?? []).length;
  const density = tokens.length ? (vivid * 100) / tokens.length : 0;
  const imagery = clamp(density / 7);
  signals.push(`imagery ${vivid} (${density.toFixed(1)}/100w)`);

  const form = creativeForm(a.request);
  const lines = a.prose.split('\n').filter((l) => l.trim());
  const paragraphs = a.prose.split(/\n\s*\n/).filter((p) => p.trim()).length;
  let formFit: number;
  if (form?.lines) {
    const [lo, hi] = form.lines;
    const n = lines.filter((l) => !/^#|^\*\*[^*]+\*\*$/.test(l.trim())).length;
    formFit = n >= lo && n <= hi ? 1 : clamp(1 - Math.abs(n < lo ? lo - n : n - hi) / Math.max(lo, 3));
    signals.push(`${form.form}: ${n} lines (want ${lo === hi ? lo : `${lo}-${hi}`})`);
  } else if (form && /story|description/.test(form.form)) {
    const sentences = sentenceCount(a.prose);
    const dialogue = /["“”]/.test(a.prose);
    formFit = clamp((paragraphs >= 2 ? 0.6 : 0.3) + (sentences >= 6 ? 0.3 : sentences / 20) + (dialogue ? 0.1 : 0));
    signals.push(`${form.form}: ${paragraphs} paragraph(s), ${sentences} sentences${dialogue ? ', dialogue' : ''}`);
  } else {
    formFit = sentenceCount(a.prose) >= 3 || lines.length >= 3 ? 1 : 0.6;
  }

  const cliches = (a.prose.match(CLICHES) ?? []).length;
  const vague = (a.prose.match(VAGUE) ?? []).length;
  const originality = clamp(1 - cliches * 0.25 - (tokens.length ? (vague / tokens.length) * 5 : 0));
  if (cliches || vague) signals.push(`${cliches} cliché(s), ${vague} vague word(s)`);

  return { score: 0.3 * variety + 0.3 * imagery + 0.2 * formFit + 0.2 * originality, signals };
}

// ---------------------------------------------------------------------------------------------
// General

const FILLER_OPENER = /^\s*((great|good|excellent|interesting|what a) (question|point)|that'?s a (great|good|tough|complex|interesting)|it depends\b|well,|hmm)/i;
const SPECIFICS = /\b(for example|e\.g\.|such as|for instance|i\.e\.|specifically|in particular)\b/gi;

function scoreGeneral(a: Analysis): Part {
  const signals: string[] = [];
  const text = a.answer;
  const tokens = words(text);

  const asked = [...new Set(contentWords(a.request).map(stem))];
  const have = new Set(contentWords(text).map(stem));
  const coverage = asked.length ? asked.filter((w) => have.has(w)).length / asked.length : 1;
  let directness = clamp(coverage / 0.6);
  const range = expectedLength(a.request, 'general');
  const complex = range.min >= 50;
  // "Paris." answers "What is the capital of France?" without repeating a single word of it.
  if (!complex && tokens.length <= 12) directness = Math.max(directness, 0.7);
  const opener = FILLER_OPENER.test(text);
  if (opener) directness *= 0.8;
  signals.push(`covers ${Math.round(coverage * 100)}% of the question's terms${opener ? ', filler opener' : ''}`);

  // Proper nouns after the first word of a sentence, numbers, examples, inline code: concrete content.
  const properNouns = (text.match(/(?<=[a-z,;]\s)[A-Z][a-z]{2,}/g) ?? []).length;
  const specifics = numbersIn(text).length + (text.match(SPECIFICS) ?? []).length * 2 + properNouns + (text.match(/`[^`\n]+`/g) ?? []).length;
  const density = tokens.length ? contentWords(text).length / tokens.length : 0;
  const vague = tokens.length ? (text.match(VAGUE) ?? []).length / tokens.length : 0;
  // What the answer adds beyond echoing the question's own words.
  const vagueWords = new Set(['thing', 'things', 'stuff', 'something', 'nice', 'good', 'bad', 'really', 'people']);
  const novel = new Set(contentWords(text).filter((w) => !vagueWords.has(w) && !asked.includes(stem(w))).map(stem)).size;
  const substance = clamp(
    0.4 * clamp(specifics / (complex ? 4 : 1)) + 0.4 * clamp(novel / (complex ? 25 : 4)) + 0.2 * clamp((density - 0.25) / 0.25) - vague * 4,
  );
  signals.push(`${specifics} specifics, ${novel} new terms, content density ${pct(density)}`);

  const listItems = (text.match(/^[ \t]*(\d+[.)]|[-*+•])[ \t]+\S/gm) ?? []).length;
  const paragraphs = text.split(/\n\s*\n/).filter((p) => p.trim()).length;
  const headings = (text.match(/^#{1,4}\s|^\*\*[^*\n]+\*\*\s*$/gm) ?? []).length;
  let structure: number;
  if (complex) structure = listItems >= 3 || paragraphs >= 3 || headings >= 1 ? 1 : paragraphs === 2 ? 0.75 : 0.45;
  else structure = headings >= 2 && tokens.length > 250 ? 0.7 : 1;
  signals.push(`structure ${listItems} list items, ${paragraphs} paragraph(s)${headings ? `, ${headings} heading(s)` : ''}`);

  const hedges = hedgeCount(text);
  const sentences = Math.max(1, sentenceCount(text));
  let commitment = 1 - Math.min(1, (hedges / sentences) * 1.2);
  // Hedges in most sentences and nothing concrete: the answer commits to nothing.
  if (hedges / sentences >= 0.75 && specifics === 0 && tokens.length < 60) {
    commitment = 0.1;
    signals.push('hedging only');
  } else if (hedges) signals.push(`${hedges} hedge(s)`);

  let score = 0.25 * directness + 0.45 * substance + 0.15 * structure + 0.15 * commitment;
  // "X is a thing that people use": vague words in bulk say nothing, whatever else the answer does right.
  const vagueFactor = 1 - 0.6 * clamp((vague - 0.04) / 0.1);
  if (vagueFactor < 0.999) {
    score *= vagueFactor;
    signals.push(`vague wording ${pct(vague)}`);
  }
  return { score, signals };
}

// ---------------------------------------------------------------------------------------------
// Plugin

export function createHeuristicJudge(): JudgePlugin {
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'heuristic',
    judge: (input) => heuristicScore(input),
  };
}

export const heuristicJudgeDefinition: PluginDefinition<'judge'> = {
  manifest: {
    name: 'heuristic',
    version: '1.0.0',
    kind: 'judge',
    specificationVersion: SPECIFICATION_VERSION,
    description: 'No-network judge: scores answers from code validity, worked steps, form, variety and refusal/repetition/truncation signals.',
  },
  create: () => createHeuristicJudge(),
};
