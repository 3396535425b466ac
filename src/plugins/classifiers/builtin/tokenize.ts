/**
 * Word tokens for the linear model: lower-cased, numbers folded into one token, a light suffix
 * stemmer so that "poems", "debugging" and "proved" share weights with "poem", "debug" and "prove"
 * (the training corpus is small; every merge of variants helps it generalise), and character
 * bigrams for CJK text, which has no spaces to split on.
 */

const TOKEN_RE = /[\p{L}\p{M}\p{N}_]+(?:['’][\p{L}]+)?/gu;
const CJK_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const DIGITS_RE = /^\d+$/;
/** Years ("in 2018", "the 1850s") are facts, not arithmetic: they get their own token. */
const YEAR_RE = /^(?:1[0-9]{3}|20[0-9]{2})s?$/;
const HAS_DIGIT_RE = /\d/;

/** Suffixes stripped, longest first; the stem must keep at least MIN_STEM characters. */
const SUFFIXES = ['ations', 'ation', 'ings', 'ing', 'ies', 'ied', 'ers', 'er', 'es', 'ed', 'ly', 's'] as const;
const MIN_STEM = 3;
/** Words whose ending is not an inflection (stemming would merge them with unrelated words). */
const NO_STEM = new Set([
  'this', 'is', 'was', 'has', 'does', 'yes', 'us', 'its', 'his', 'less', 'class', 'process', 'access', 'address',
  'across', 'analysis', 'basis', 'thesis', 'physics', 'mathematics', 'statistics', 'linux', 'redis', 'kubernetes',
  'series', 'species', 'news', 'always', 'perhaps', 'alias', 'canvas', 'status', 'bus', 'js', 'css', 'aws', 'jenkins',
  'during', 'string', 'thing', 'nothing', 'something', 'anything', 'everything', 'king', 'ring', 'spring', 'sing',
  'bring', 'swing', 'wing', 'sibling', 'ceiling', 'morning', 'evening', 'user', 'never', 'ever', 'over', 'under',
  'other', 'water', 'paper', 'number', 'order', 'better', 'letter', 'after', 'later', 'whether', 'either', 'neither',
  'rather', 'together', 'weather', 'server', 'docker', 'answer', 'power', 'computer', 'river', 'father', 'mother',
  'brother', 'sister', 'daughter', 'winter', 'summer', 'monster', 'poster', 'chapter', 'character', 'cancer',
  'register', 'filter', 'buffer', 'pointer', 'compiler', 'parser', 'render', 'border', 'header', 'footer', 'folder',
  'container', 'cluster', 'integer', 'browser', 'player', 'layer', 'tower', 'flower', 'dinner', 'finger', 'rules',
  'need', 'speed', 'seed', 'feed', 'indeed', 'bed', 'red', 'hundred', 'sacred', 'wed', 'embed',
]);

export function stem(word: string): string {
  if (word.length <= MIN_STEM + 1 || NO_STEM.has(word)) return word;
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= MIN_STEM && word.endsWith(suffix)) {
      const base = word.slice(0, -suffix.length);
      if (suffix === 'ies' || suffix === 'ied') return `${base}y`;
      // "running" -> "runn" -> "run": undo the doubled consonant an -ing/-ed/-er added.
      if ((suffix === 'ing' || suffix === 'ed' || suffix === 'er') && base.length > 3) {
        const a = base[base.length - 1];
        if (a === base[base.length - 2] && a !== 'l' && a !== 's' && a !== 'z') return base.slice(0, -1);
      }
      if (suffix === 's' && (base.endsWith('s') || base.endsWith('u') || base.endsWith('i'))) return word;
      return base;
    }
  }
  return word;
}

/** Tokens of a text, in order (duplicates kept; the caller decides how to count). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const lower = text.toLowerCase();
  TOKEN_RE.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = TOKEN_RE.exec(lower)) !== null) {
    const raw = match[0].replace('’', "'");
    if (YEAR_RE.test(raw)) {
      out.push('<year>');
      continue;
    }
    if (DIGITS_RE.test(raw)) {
      out.push('<num>');
      continue;
    }
    if (CJK_RE.test(raw)) {
      pushCjk(raw, out);
      continue;
    }
    // Identifiers like "utf8" or "x2" are not numbers but their digits vary freely.
    out.push(HAS_DIGIT_RE.test(raw) && raw.length > 2 ? raw.replace(/\d+/g, '0') : stem(raw));
  }
  return out;
}

function pushCjk(run: string, out: string[]): void {
  const chars = Array.from(run);
  if (chars.length === 1) {
    out.push(chars[0]);
    return;
  }
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
}
