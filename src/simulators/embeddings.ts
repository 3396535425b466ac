/**
 * Deterministic embeddings: a signed, hashed bag of (lightly stemmed) words plus character trigrams,
 * L2-normalised. Paraphrases share most content words, so their vectors are close; unrelated texts land
 * near orthogonal. The model id seeds the hash, so two embedding models live in different spaces,
 * like real ones.
 */
import { fnv1a } from './util.js';

const STOP = new Set(
  'the a an and or but of to in on at for with about from by is are was were be been do does did have has had can could would should will i you it we they me my your our this that these those what which how please just also some any its as so if'.split(
    ' ',
  ),
);

// A few synonyms folded together so that typical paraphrases ("JS" / "JavaScript") meet.
const SYNONYMS: Record<string, string> = {
  js: 'javascript',
  ts: 'typescript',
  py: 'python',
  func: 'function',
  fn: 'function',
  method: 'function',
  invert: 'reverse',
  backwards: 'reverse',
  quick: 'fast',
  quickly: 'fast',
  speedy: 'fast',
  big: 'large',
  huge: 'large',
  little: 'small',
  tiny: 'small',
  car: 'automobile',
  auto: 'automobile',
  make: 'create',
  build: 'create',
  explain: 'describe',
  tell: 'describe',
};

function stem(word: string): string {
  let w = SYNONYMS[word] ?? word;
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('es')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  return SYNONYMS[w] ?? w;
}

export function embedText(text: string, dim: number, modelId: string): number[] {
  const seed = fnv1a(modelId);
  const v = new Float64Array(dim);
  const add = (feature: string, weight: number): void => {
    const h = fnv1a(feature, seed);
    v[h % dim] += h & 0x80000000 ? -weight : weight;
  };
  const words = text.toLowerCase().split(/[^a-z0-9+#]+/);
  let features = 0;
  for (const raw of words) {
    if (!raw || STOP.has(raw)) continue;
    const w = stem(raw);
    add(`w:${w}`, 1);
    // Trigrams catch morphology the stemmer misses ("reversing" vs "reversal"), at a lower weight.
    const padded = `^${w}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.25);
    features++;
  }
  if (features === 0) add(`raw:${text}`, 1); // empty or stop-words only: still a valid unit vector
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm) || 1;
  const out = new Array<number>(dim);
  for (let i = 0; i < dim; i++) out[i] = v[i] / norm;
  return out;
}

/** OpenAI `encoding_format: "base64"`: little-endian float32 bytes, base64-encoded. */
export function toBase64Float32(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i], i * 4);
  return buf.toString('base64');
}
