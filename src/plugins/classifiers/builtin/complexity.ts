/**
 * How hard a request is, from the shape of the last user turn: its length, how many separate asks
 * and constraints it stacks up, words that signal depth (proofs, system design, production
 * hardening) or brevity (a greeting, "briefly", a single definition), and how much code or context
 * comes with it. A hand-weighted sum through a sigmoid: the weights were set against the labelled
 * examples in training/complexity-examples.ts (the training script reports the agreement), and a
 * hand-set formula stays explainable where a router operator has to trust it.
 */
import type { Complexity } from '../../../plugin-api/index.js';
import { countWords, type Segment } from './conversation.js';

export interface ComplexityResult {
  complexity: Complexity;
  complexityScore: number;
}

const QUESTION_RE = /\?/g;
const LIST_ITEM_RE = /^\s*(?:[-*•]|\d+[.)]|[a-z][.)])\s+\S/gm;
const CONNECTOR_RE = /\b(?:and also|additionally|as well as|in addition|then|also|plus|followed by|after that|finally|furthermore)\b/gi;
const CONSTRAINT_RE =
  /\b(?:must|should|needs? to|at least|at most|no more than|exactly|without|ensure|make sure|requirements?|constraints?|limit(?:ed)? to|under \d+|within|each|every|handle|support|include|avoid|don't|do not|only)\b/gi;
/** Proofs and derivations are hard on their own, whatever their length. */
const PROOF_RE = /\b(?:prove|proof|derive|derivation|show that|demonstrate that)\b/gi;
/** Asks that call for an explanation or a composed text: more than a one-step answer. */
const MEDIUM_RE = /\b(?:explain|describe|summari[sz]e|compare|estimate|story|essay|walk me through|how does|how do|why does|why do|steps?)\b/gi;
const HARD_RE =
  /\b(?:design (?:a|an|the)|architect\w*|scal(?:able|ability|e to)|distributed|concurren\w*|thread[- ]safe|lock[- ]free|optimi[sz]\w*|production(?:-ready| grade)?|fault[- ]toleran\w*|high[- ]availability|consensus|compiler|interpreter|from scratch|end[- ]to[- ]end|comprehensive|in[- ]depth|detailed|rigorous(?:ly)?|formal(?:ly)?|theorem|asymptotic\w*|trade[- ]?offs?|multi[- ]?(?:step|part|region|tenant)|microservices?|kubernetes|benchmark\w*|security|threat model|migration strategy|novel|chapter|screenplay|research|thesis|dissertation|white ?paper|complete|entire|full[- ]featured|\d{3,}[- ]words?|several|multiple|compare and contrast|analy[sz]e|evaluate|critique|implications|edge cases|invariants?|complexity analysis|big[- ]o|np[- ]hard|dynamic programming|recurrence|eigen\w*|stochastic|bayesian|differential equations?|integral|induction|worldbuilding|magic system|multiple chapters|extensive|thorough(?:ly)?)\b/gi;
const SIMPLE_RE =
  /^\s*(?:hi|hello|hey|thanks|thank you|ok(?:ay)?|yes|no|cool|great|good (?:morning|night))\b|\b(?:quick(?:ly)?|briefly|in short|keep it short|one[- ]liner|one word|in one sentence|in a sentence|simple|tl;?dr|define|stand for|how do you spell|what time|capital of|synonym|antonym|spell|translate (?:this|the word)|what year|how old is|who (?:is|was) the|translate|(?:tell me|give me) a joke|when (?:did|was)|do i need (?:a|an)|what(?:'s| is) the (?:difference between \w+ and \w+|capital|population|boiling|normal|average|tallest|largest)|how (?:much|many) \w+ (?:is|are|in|does|do)|command (?:to|for)|how do (?:i|you) (?:check|say|exit|undo)|como se dice|wie sagt man|comment dit-on)\b/gi;
/** Asks that transform a pasted text (summarise it, explain it, turn it into an email): the paste is input, not work. */
const TRANSFORM_RE =
  /\b(?:summari[sz]e|summary|tl;?dr|recap|gist|explain (?:this|these|it|what)|what does (?:this|that) mean|rewrite|rephrase|proofread|turn (?:this|these|them)|make (?:this|it) (?:shorter|friendlier|more)|translate|zusammen|résume|resume|reply to)\b/i;

function count(re: RegExp, text: string, cap: number): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < cap && re.exec(text) !== null) n++;
  return n;
}

const FENCE_BODY_RE = /```[^\n]*\n?([\s\S]*?)(?:```|$)/g;

function codeChars(text: string): number {
  if (!text.includes('```')) return 0;
  let total = 0;
  FENCE_BODY_RE.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = FENCE_BODY_RE.exec(text)) !== null) total += match[1].length;
  return total;
}

export const SIMPLE_BELOW = 0.36;
export const HARD_FROM = 0.64;

export function scoreComplexity(last: Segment, context: readonly Segment[]): ComplexityResult {
  const text = last.text;
  if (!text.trim()) return { complexity: 'simple', complexityScore: 0.05 };
  // The analysed text may be capped: estimate the real length from the uncapped character count.
  const capped = countWords(text);
  const words = last.fullLength > text.length ? Math.round((capped * last.fullLength) / Math.max(1, text.length)) : capped;
  const code = codeChars(text);
  let proseWords = Math.max(1, words - Math.round(code / 6));
  // A pasted text to summarise or rewrite counts much less than a text of instructions of the same length.
  const transform = TRANSFORM_RE.test(text);
  if (transform && proseWords > 25) proseWords = 25 + (proseWords - 25) * 0.35;

  const questions = count(QUESTION_RE, text, 6);
  const items = count(LIST_ITEM_RE, text, 12);
  const connectors = count(CONNECTOR_RE, text, 6);
  const constraints = count(CONSTRAINT_RE, text, 10);
  const hard = count(HARD_RE, text, 6);
  const simple = count(SIMPLE_RE, text, 3);
  const proof = count(PROOF_RE, text, 2);
  const medium = count(MEDIUM_RE, text, 2);
  const userTurns = context.filter((s) => s.weight > 0).length;

  let raw = -1.85;
  raw += 1.2 * Math.log1p(proseWords / 6);
  raw += (transform ? 0.2 : 0.45) * Math.log1p(code / 250);
  raw += 0.25 * Math.max(0, Math.min(questions, 5) - 1);
  raw += (transform ? 0.04 : 0.12) * Math.min(items, 10);
  raw += 0.12 * Math.min(connectors, 5);
  raw += 0.15 * Math.min(constraints, 10);
  raw += 0.7 * Math.min(hard, 5);
  raw -= 0.9 * Math.min(simple, 2);
  raw += 1.1 * Math.min(proof, 1);
  raw += 0.55 * Math.min(medium, 1);
  // A follow-up continues a task already under way: it is rarely a one-step question on its own.
  raw += userTurns > 0 ? 0.3 + 0.05 * Math.min(userTurns, 6) : 0;

  const complexityScore = round(1 / (1 + Math.exp(-raw)));
  const complexity: Complexity = complexityScore < SIMPLE_BELOW ? 'simple' : complexityScore < HARD_FROM ? 'medium' : 'hard';
  return { complexity, complexityScore };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
