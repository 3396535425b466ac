/**
 * Reading a score out of whatever a judge model wrote. Local models rarely return clean JSON: they
 * fence it, wrap it in prose, use single quotes and trailing commas, or skip JSON and write
 * "Score: 7/10", "**8.5** out of 10", "Rating: 4/5" or "85%". They also mention other numbers first
 * ("3 of the 5 steps are right") and sometimes revise themselves ("Final score: 6").
 *
 * Precedence, strongest evidence first: a JSON object with a score field (the last one), a prose
 * score labelled final/overall (the last one), any other labelled score/rating (the last one), "I'd
 * give it N", the average of a per-criterion list ("Correctness: 8/10"), a lone "N/10", a bare number.
 * The value is normalised to 0..1 from its scale (explicit denominator, %, a stated scale, else 0-10
 * as the rubric asks, 0..1 for a decimal <= 1) and clamped.
 */

export interface ParsedJudgeScore {
  /** 0..1 */
  score: number;
  reasoning?: string;
}

interface RawScore {
  value: number;
  /** The number as written ("1" vs "1.0" decides between the 0-10 and the 0..1 scale). */
  text: string;
  scale?: number;
  percent?: boolean;
  reasoning?: string;
  /** Where the score was found (in `source`, else in the judge's text), so the reasoning can leave it out. */
  span?: [number, number];
  source?: string;
}

/** Verdicts sit at the end; a runaway output is cut to its tail so every pattern stays fast. */
const MAX_PARSED_CHARS = 40_000;

export function parseJudgeScore(input: string): ParsedJudgeScore | undefined {
  if (typeof input !== 'string' || !input.trim()) return undefined;
  // Long whitespace runs are collapsed so the optional \s* between label and number stay short.
  const text = (input.length > MAX_PARSED_CHARS ? input.slice(-MAX_PARSED_CHARS) : input).replace(/\s{3,}/g, (run) =>
    run.includes('\n') ? '\n\n' : ' ',
  );
  // Thinking models put deliberation (full of numbers) in <think>; the verdict comes after it.
  const visible = text
    .replace(/<(think|thinking|reasoning)>[\s\S]*?<\/\1>/gi, '')
    .replace(/<(think|thinking|reasoning)>[\s\S]*$/i, '')
    .trim();
  const attempts = visible ? [visible] : [];
  // A verdict cut off after the thinking may still carry a score inside it.
  if (visible !== text.trim()) attempts.push(text.replace(/<\/?(think|thinking|reasoning)>/gi, ' '));
  for (const attempt of attempts) {
    const found = parseOnce(attempt);
    if (found) return found;
  }
  return undefined;
}

function parseOnce(text: string): ParsedJudgeScore | undefined {
  const hint = scaleHint(text);
  const fromJson = scoreFromJson(text);
  if (fromJson) return finish(fromJson, text, hint);
  const prose = scoreFromProse(text);
  if (prose) return finish(prose, text, hint);
  return undefined;
}

function finish(raw: RawScore, text: string, hint: number | undefined): ParsedJudgeScore {
  const score = normalise(raw, hint);
  const reasoning = raw.reasoning ?? proseReasoning(raw.source ?? text, raw.span);
  return reasoning ? { score, reasoning } : { score };
}

/** Normalises to 0..1 and clamps out-of-range values. */
function normalise(raw: RawScore, hint: number | undefined): number {
  const v = raw.value;
  let score: number;
  if (raw.percent) score = v / 100;
  else if (raw.scale && raw.scale > 0) score = v / raw.scale;
  else if (hint && v <= hint && hint !== 1) score = v / hint;
  else if (v <= 1 && (raw.text.includes('.') || v <= 0)) score = v;
  else if (v <= 10) score = v / 10;
  else if (v <= 100) score = v / 100;
  else score = 1;
  return Math.round(Math.min(1, Math.max(0, score)) * 10000) / 10000;
}

/** "on a scale of 1 to 5", "(0-10)", "1–5 scale": the scale the judge says it used. */
function scaleHint(text: string): number | undefined {
  const m =
    /\bscale\s+(?:of\s+|from\s+)?(\d+)\s*(?:-|–|to)\s*(\d+)\b/i.exec(text) ??
    /\b(\d+)\s*(?:-|–|to)\s*(\d+)\s+scale\b/i.exec(text) ??
    /\b(?:score|rating|grade)\s*\(\s*(\d+)\s*(?:-|–|to)\s*(\d+)\s*\)/i.exec(text);
  if (!m) return undefined;
  const max = Number(m[2]);
  return max === 5 || max === 10 || max === 100 || max === 1 ? max : undefined;
}

// ---------------------------------------------------------------------------------------------
// JSON

const SCORE_KEYS = ['final_score', 'finalscore', 'overall_score', 'overallscore', 'total_score', 'score', 'rating', 'overall', 'grade', 'total'];
const SCALE_KEYS = ['max_score', 'maxscore', 'out_of', 'outof', 'scale', 'max', 'max_rating', 'scale_max', 'maximum'];
const REASON_KEYS = ['reasoning', 'reason', 'explanation', 'justification', 'rationale', 'comment', 'comments', 'feedback', 'analysis', 'summary'];

function scoreFromJson(text: string): RawScore | undefined {
  const spans = jsonSpans(text);
  for (let i = spans.length - 1; i >= 0; i--) {
    const [start, end] = spans[i];
    const source = text.slice(start, end);
    const parsed = lenientJson(source);
    // The field patterns are for small, broken objects; a huge brace span is code, not a verdict.
    const found = parsed === undefined ? (source.length <= 5000 ? scoreFromJsonish(source) : undefined) : scoreFromObject(parsed, 0);
    if (found) return { ...found, span: [start, end] };
  }
  return undefined;
}

function scoreFromObject(value: unknown, depth: number): RawScore | undefined {
  if (depth > 4 || typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = scoreFromObject(item, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const entries = new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase().replace(/[\s-]/g, '_'), v]));
  const reasonEntry = REASON_KEYS.map((k) => entries.get(k)).find((v): v is string => typeof v === 'string' && v.trim() !== '');
  for (const key of SCORE_KEYS) {
    if (!entries.has(key)) continue;
    const raw = scoreValue(entries.get(key));
    if (!raw) continue;
    if (!raw.scale && !raw.percent) {
      const scale = SCALE_KEYS.map((k) => entries.get(k)).find((v) => v !== undefined);
      const max = typeof scale === 'number' ? scale : typeof scale === 'string' ? Number(/(\d+(?:\.\d+)?)\s*$/.exec(scale)?.[1]) : NaN;
      if (Number.isFinite(max) && max > 0) raw.scale = max;
    }
    return reasonEntry ? { ...raw, reasoning: reasonEntry.trim() } : raw;
  }
  // {"evaluation": {"score": 8}}: the score one level down.
  for (const nested of entries.values()) {
    const found = scoreFromObject(nested, depth + 1);
    if (found) return found.reasoning || !reasonEntry ? found : { ...found, reasoning: reasonEntry.trim() };
  }
  return undefined;
}

/** A score field's value: 7, 0.85, "7/10", "85%", "8.5 out of 10". */
function scoreValue(value: unknown): RawScore | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return { value, text: String(value) };
  if (typeof value !== 'string') return undefined;
  const m = /^\s*\**\s*(-?\d+(?:\.\d+)?)\s*(?:(?:\/|out of|of)\s*(\d+(?:\.\d+)?))?\s*(%)?/i.exec(value);
  if (!m) return undefined;
  return { value: Number(m[1]), text: m[1], scale: m[2] ? Number(m[2]) : undefined, percent: Boolean(m[3]) };
}

/** JSON too broken to repair: read the fields with patterns. */
function scoreFromJsonish(source: string): RawScore | undefined {
  const keys = SCORE_KEYS.join('|');
  const m = new RegExp(`["']?\\b(${keys})\\b["']?\\s*[:=]\\s*["']?\\s*(-?\\d+(?:\\.\\d+)?(?:\\s*(?:\\/|out of)\\s*\\d+(?:\\.\\d+)?)?\\s*%?)`, 'i').exec(source);
  if (!m) return undefined;
  const raw = scoreValue(m[2]);
  if (!raw) return undefined;
  const reason = /["']?\b(?:reasoning|reason|explanation|justification|rationale|feedback)\b["']?\s*:\s*(["'])([\s\S]*?)\1\s*[,}]/i.exec(source);
  return reason ? { ...raw, reasoning: reason[2].trim() } : raw;
}

/** Start/end of every top-level {...} in the text, skipping braces inside strings. */
function jsonSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let depth = 0;
  let start = -1;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote || (ch === '\n' && quote === "'")) quote = undefined;
      continue;
    }
    if (depth > 0 && ch === '"') quote = ch;
    else if (depth > 0 && ch === "'" && /[\s{[,:]/.test(text[i - 1] ?? ' ')) quote = ch;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' && depth > 0) {
      depth--;
      if (depth === 0) spans.push([start, i + 1]);
    }
  }
  return spans;
}

/** JSON.parse, then a repair pass for what models get wrong (quotes, trailing commas, bare keys, Python literals). */
function lenientJson(source: string): unknown {
  try {
    return JSON.parse(source);
  } catch {
    // Repair below.
  }
  try {
    return JSON.parse(repairJson(source));
  } catch {
    return undefined;
  }
}

function repairJson(s: string): string {
  let out = '';
  let i = 0;
  const literals: Record<string, string> = { True: 'true', False: 'false', None: 'null', true: 'true', false: 'false', null: 'null' };
  while (i < s.length) {
    const ch = s[i];
    if (ch === '"' || ch === "'") {
      const { content, next } = readString(s, i, ch);
      out += JSON.stringify(content);
      i = next;
      continue;
    }
    if (ch === '/' && s[i + 1] === '/') {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    if (/[A-Za-z_$]/.test(ch)) {
      IDENT.lastIndex = i;
      const ident = IDENT.exec(s)![0];
      i += ident.length;
      if (ident in literals) out += literals[ident];
      else if (s[skipSpace(s, i)] === ':') out += JSON.stringify(ident);
      else out += ident;
      continue;
    }
    if (ch === ',' && '}]'.includes(s[skipSpace(s, i + 1)] ?? '')) {
      i++;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

const IDENT = /[A-Za-z_$][\w$-]*/y;

/** Index of the first non-whitespace character at or after `i` (s.length at the end). */
function skipSpace(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i])) i++;
  return i;
}

/**
 * Reads a quoted string starting at `start`. A single-quoted string only ends at a quote followed by
 * , } ] or : so apostrophes inside ('doesn't') stay in the text.
 */
function readString(s: string, start: number, quote: string): { content: string; next: number } {
  let content = '';
  for (let i = start + 1; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      const esc = s[i + 1];
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\', '/': '/' };
      content += map[esc] ?? esc;
      i++;
      continue;
    }
    if (ch === quote && (quote === '"' || ',}]:'.includes(s[skipSpace(s, i + 1)] ?? ','))) return { content, next: i + 1 };
    content += ch;
  }
  return { content, next: s.length };
}

// ---------------------------------------------------------------------------------------------
// Prose

const NUM = String.raw`(-?\d+(?:\.\d+)?)`;
const DENOM = String.raw`(?:\s*(?:\/|out of|of)\s*(\d+(?:\.\d+)?))?`;
/** A number followed by a range ("score 0-10") is the rubric being quoted, not a score. */
const NOT_RANGE = String.raw`(?!\s*(?:-|–|to)\s*\d)`;
const LABELLED = new RegExp(
  String.raw`\b(?:(final|overall|total)\s+)?(?:score|rating|grade|verdict|mark)s?\b(?:\s*\([^)\n]{0,30}\))?\s*(?:is|was|would be|of|[:=\-–—])?\s*(?:is\s+|of\s+|[:=]\s*)?${NUM}${NOT_RANGE}${DENOM}\s*(%)?`,
  'gi',
);
const GIVE = new RegExp(
  String.raw`\b(?:i(?:'d|’d| would| will)?\s+(?:give|rate|score|award|assign)|rated?|deserves?|earns?)\s+(?:(?:this|it|the)\s+(?:(?:answer|response|solution|reply|model)\s+)?)?(?:(?:an?|about|around|roughly|approximately|maybe|solid|strong|(?:score|rating)\s+of)\s+){0,3}${NUM}${NOT_RANGE}${DENOM}\s*(%)?`,
  'gi',
);
const FRACTION = /(?<![\d./])(\d+(?:\.\d+)?)\s*(?:\/|out of)\s*(10|5|100)\b(?![\d/])/gi;
const CRITERION_LINE = /^[ \t]*(?:[-*•]|\d+[.)])?[ \t]*([A-Za-z][\w &/-]{1,30}?)\s*[:=-]\s*(\d+(?:\.\d+)?)\s*\/\s*(10|5|100)\b/gim;
const SUB_SCORE = /\b(correctness|completeness|clarity|accuracy|relevance|helpfulness|fit|style|quality|readability|coherence|creativity|originality|format|depth)\s*$/i;

interface ProseMatch extends RawScore {
  kind: 'final' | 'plain' | 'sub';
}

function scoreFromProse(original: string): RawScore | undefined {
  // Markdown emphasis and headings separate labels from numbers ("**Score:** 7", "## Score\n7/10").
  const text = original.replace(/\*\*|__|`/g, '').replace(/^#{1,6}\s*/gm, '');
  const rebase = (index: number, length: number): [number, number] => [index, index + length];

  const labelled: ProseMatch[] = [];
  for (const m of text.matchAll(LABELLED)) {
    const before = text.slice(Math.max(0, m.index! - 25), m.index!);
    const kind = m[1] ? 'final' : SUB_SCORE.test(before) ? 'sub' : 'plain';
    const scaleInParens = /\(\s*\d+\s*(?:-|–|to)\s*(\d+)\s*\)/.exec(m[0]);
    labelled.push({
      kind,
      value: Number(m[2]),
      text: m[2],
      scale: m[3] ? Number(m[3]) : scaleInParens ? Number(scaleInParens[1]) : undefined,
      percent: Boolean(m[4]),
      span: rebase(m.index!, m[0].length),
    });
  }
  const last = (kind: ProseMatch['kind']): ProseMatch | undefined => labelled.filter((m) => m.kind === kind).pop();
  const best = last('final') ?? last('plain');
  if (best) return { ...best, source: text };

  const given = [...text.matchAll(GIVE)].pop();
  if (given) {
    return {
      value: Number(given[1]),
      text: given[1],
      scale: given[2] ? Number(given[2]) : undefined,
      percent: Boolean(given[3]),
      span: rebase(given.index!, given[0].length),
      source: text,
    };
  }

  // "Correctness: 8/10 / Clarity: 6/10 / Fit: 7/10" with no overall: the mean of the criteria.
  const criteria = [...text.matchAll(CRITERION_LINE)];
  if (criteria.length >= 2) {
    const mean = criteria.reduce((s, m) => s + Number(m[2]) / Number(m[3]), 0) / criteria.length;
    return { value: mean, text: String(mean), scale: 1 };
  }
  const sub = last('sub');
  if (sub) return { ...sub, source: text };

  const fraction = [...text.matchAll(FRACTION)].pop();
  if (fraction) {
    return { value: Number(fraction[1]), text: fraction[1], scale: Number(fraction[2]), span: rebase(fraction.index!, fraction[0].length), source: text };
  }

  // The whole answer is the score: "7", "8.5/10.", "85%", "0.9".
  const bare = /^\s*(-?\d+(?:\.\d+)?)\s*(?:(%)|\/\s*(\d+(?:\.\d+)?))?\s*[.!]?\s*$/.exec(text);
  if (bare) return { value: Number(bare[1]), text: bare[1], percent: Boolean(bare[2]), scale: bare[3] ? Number(bare[3]) : undefined };
  return undefined;
}

/** The judge's words without the score itself, trimmed to a log-friendly length. */
function proseReasoning(text: string, span: [number, number] | undefined): string | undefined {
  let rest = span ? `${text.slice(0, span[0])} ${text.slice(span[1])}` : text;
  rest = rest
    .replace(/```[a-z]*|```/gi, ' ')
    .replace(/\*\*|__|`/g, '')
    .replace(/^#{1,6}\s*/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!rest || /^[\W\d]*$/.test(rest)) return undefined;
  return rest.length > 500 ? `${rest.slice(0, 497)}...` : rest;
}
