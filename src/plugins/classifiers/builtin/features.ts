/**
 * One sparse feature vector for a whole conversation, shared by the training script and the
 * classifier (so the two can never drift apart).
 *
 * Families, by key prefix:
 *   w:<stem>         word present (prose), scaled by 1/sqrt(#distinct words) so long texts don't dominate
 *   b:<stem>_<stem>  adjacent word pair ("how many", "write a", "fix this")
 *   c:<stem>         word inside a code block, at reduced weight (code is mostly identifiers)
 *   g:<4 chars>      character 4-grams of the prose words ("^pyt", "thon", "hon$"), for typos and inflections
 *   l:<lexicon>      hand-curated lexicon hit (see lexicons.ts)
 *   s:<name>         structural feature (see structure.ts)
 *   y:<name>         what the system prompt sets up (a persona, a domain), added to the last turn's vector so
 *                    that "what do you deduce?" under "You are Sherlock Holmes" is read as role-play
 * Each conversation segment is featurised on its own and added with its weight (conversation.ts).
 */
import type { Segment, WeightedConversation } from './conversation.js';
import { LEXICONS, type LexiconName } from './lexicons.js';
import { structuralFeatures, systemPromptFeatures } from './structure.js';
import { stem, tokenize } from './tokenize.js';

export type FeatureVector = Map<string, number>;

const FENCED_RE = /```[^\n]*\n?([\s\S]*?)(?:```|$)/g;
/** Code inside fences counts for less: its words are identifiers, not the user's ask. */
const CODE_TOKEN_WEIGHT = 0.35;
const MAX_CODE_TOKENS = 400;
const MAX_PROSE_TOKENS = 1_000;

// ---- lexicons, compiled once ---------------------------------------------------------------

const WORD_ONLY_RE = /^[\p{L}\p{N}]+$/u;
const wordLexicons = new Map<string, LexiconName[]>();
const phraseLexicons: Array<{ name: LexiconName; re: RegExp }> = [];

for (const [name, entries] of Object.entries(LEXICONS) as Array<[LexiconName, readonly string[]]>) {
  const phrases: string[] = [];
  for (const entry of entries) {
    const lower = entry.toLowerCase();
    if (WORD_ONLY_RE.test(lower)) {
      const key = stem(lower);
      const list = wordLexicons.get(key) ?? [];
      if (!list.includes(name)) list.push(name);
      wordLexicons.set(key, list);
    } else {
      phrases.push(lower.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
  }
  if (phrases.length) {
    // Longest first so "short story" wins over a shorter overlapping entry.
    phrases.sort((a, b) => b.length - a.length);
    phraseLexicons.push({ name, re: new RegExp(`(?<![\\p{L}\\p{N}_])(?:${phrases.join('|')})(?![\\p{L}\\p{N}_])`, 'gu') });
  }
}

function lexiconHits(prose: string, tokens: readonly string[]): Map<LexiconName, number> {
  const hits = new Map<LexiconName, number>();
  for (const token of tokens) {
    const names = wordLexicons.get(token);
    if (names) for (const name of names) hits.set(name, (hits.get(name) ?? 0) + 1);
  }
  const lower = prose.toLowerCase();
  for (const { name, re } of phraseLexicons) {
    re.lastIndex = 0;
    let n = 0;
    while (n < 4 && re.exec(lower) !== null) n++;
    if (n) hits.set(name, (hits.get(name) ?? 0) + n);
  }
  return hits;
}

// ---- character n-grams ------------------------------------------------------------------------

/** How much the character n-grams of a text count, against its word features. */
const CHAR_GRAM_WEIGHT = 0.7;
/** 4-grams: 3-grams were no better on the dev sets and match more unrelated words. */
const CHAR_GRAM_N = 4;
/** Distinct words whose n-grams are taken: enough for any ask, bounded for long pastes. */
const MAX_CHAR_GRAM_WORDS = 200;
const CHAR_GRAM_SKIP_RE = /^<|[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * Character n-grams of the distinct words (`g:`): a misspelt "fucntion" or "pyhton" shares most of its
 * n-grams with the right word, and so do inflected forms in German, French, Spanish, Portuguese or
 * Italian ("programmation", "programmazione") that the stemmer does not merge.
 */
function addCharGrams(out: FeatureVector, localKeys: ReadonlySet<string>, weight: number): void {
  const grams = new Set<string>();
  let words = 0;
  for (const key of localKeys) {
    if (key.charCodeAt(0) !== 119 /* w */) continue;
    if (++words > MAX_CHAR_GRAM_WORDS) break;
    const word = key.slice(2);
    if (word.length < 3 || CHAR_GRAM_SKIP_RE.test(word)) continue;
    const padded = `^${word}$`;
    for (let i = 0; i + CHAR_GRAM_N <= padded.length; i++) grams.add(padded.slice(i, i + CHAR_GRAM_N));
  }
  if (!grams.size) return;
  const scale = (weight * CHAR_GRAM_WEIGHT) / Math.sqrt(grams.size);
  for (const gram of grams) add(out, `g:${gram}`, scale);
}

// ---- one segment ----------------------------------------------------------------------------

function splitCode(text: string): { prose: string; code: string } {
  if (!text.includes('```')) return { prose: text, code: '' };
  let code = '';
  FENCED_RE.lastIndex = 0;
  const prose = text.replace(FENCED_RE, (_m, body: string) => {
    code += `${body}\n`;
    return ' ';
  });
  return { prose, code };
}

function add(target: FeatureVector, key: string, value: number): void {
  target.set(key, (target.get(key) ?? 0) + value);
}

/** Adds the features of one segment, multiplied by `weight`, into `out`. */
export function addSegmentFeatures(out: FeatureVector, text: string, weight: number): void {
  if (!text || weight <= 0) return;
  const { prose, code } = splitCode(text);
  const tokens = tokenize(prose);
  if (tokens.length > MAX_PROSE_TOKENS) tokens.splice(MAX_PROSE_TOKENS / 2, tokens.length - MAX_PROSE_TOKENS);

  const local = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    local.add(`w:${tokens[i]}`);
    if (i + 1 < tokens.length) local.add(`b:${tokens[i]}_${tokens[i + 1]}`);
  }
  if (local.size) {
    const scale = weight / Math.sqrt(local.size);
    for (const key of local) add(out, key, scale);
  }

  addCharGrams(out, local, weight);

  if (code) {
    const codeTokens = new Set(tokenize(code).slice(0, MAX_CODE_TOKENS));
    if (codeTokens.size) {
      const scale = (weight * CODE_TOKEN_WEIGHT) / Math.sqrt(codeTokens.size);
      for (const token of codeTokens) add(out, `c:${token}`, scale);
    }
  }

  // A lexicon hit counts fully once; repeats add a little (a poem about poems is still one poem).
  for (const [name, count] of lexiconHits(prose, tokens)) add(out, `l:${name}`, weight * (1 + 0.25 * (Math.min(count, 4) - 1)));

  const structure = structuralFeatures(text, prose, code);
  for (const key in structure) add(out, `s:${key}`, weight * structure[key]);
}

/**
 * The feature vector of some weighted segments: the last user turn alone, or the context. The two
 * are scored separately and mixed in classify.ts, so that a clear new ask is never outvoted by a
 * long earlier discussion, while a vague follow-up inherits that discussion's category.
 */
export function featurizeSegments(segments: readonly Segment[]): FeatureVector {
  const out: FeatureVector = new Map();
  let total = 0;
  for (const segment of segments) total += segment.weight;
  // Normalise the weights so that a long context looks like one message to the model.
  for (const segment of segments) addSegmentFeatures(out, segment.text, total > 0 ? segment.weight / total : 0);
  // Always-on feature: lets the model learn a prior for prompts with no other signal.
  out.set('bias', 1);
  return out;
}

/** Features of a single text, as if it were the only user message. */
export function featurizeText(text: string): FeatureVector {
  return featurizeSegments([{ text, weight: 1, fullLength: text.length }]);
}

/**
 * The vector of the last user turn, plus a few features of the system prompt (its lexicon families and
 * whether it sets up a character to play). The system prompt is also part of the context (mixing.ts),
 * but there it only speaks when the last turn is unsure; a persona should colour even a clear-looking
 * in-character question, which needs the model to see both at once.
 */
const SYSTEM_LEXICON_SKIP: ReadonlySet<LexiconName> = new Set<LexiconName>(['roleplay', 'question', 'advice']);

export function featurizeLastTurn(conversation: Pick<WeightedConversation, 'last' | 'systemText'>): FeatureVector {
  const out = featurizeSegments([conversation.last]);
  const system = conversation.systemText;
  if (system) {
    const tokens = tokenize(system);
    for (const [name, count] of lexiconHits(system, tokens)) {
      // "You are a …" and "what is" say nothing about the domain here; the persona flag decides role-play.
      if (!SYSTEM_LEXICON_SKIP.has(name)) add(out, `y:l:${name}`, Math.min(1, 0.5 + 0.25 * count));
    }
    const flags = systemPromptFeatures(system);
    for (const key in flags) add(out, `y:s:${key}`, flags[key]);
  }
  return out;
}
