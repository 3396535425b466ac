/**
 * Maps the names backends report ("qwen2.5-coder:7b-instruct-q4_K_M", "hf.co/bartowski/...-GGUF:Q4_K_M",
 * "/models/Meta-Llama-3.1-8B-Instruct-Q5_K_M.gguf", "Qwen/Qwen2.5-72B-Instruct") to benchmark
 * catalogue entries ("qwen2.5-coder-7b-instruct").
 *
 * Both sides go through one parser that reads family (with its specialisation: coder, vision, a
 * distill), size, variant (instruct or base), version and leftover tokens. A match needs the same
 * family and the same size; everything else only lowers the confidence:
 *   - a size that is not in the name comes from Ollama's default tag for the family;
 *   - an instruct model matched to base-model figures (none published for the instruct model) 0.7,
 *     a base model matched to instruct figures 0.4 (a base model chats far worse than its scores say);
 *   - words we do not recognise (a fine-tune: "dolphin", "hermes") 0.6, a version mismatch 0.85.
 * So a coder model never matches the general model, qwen2.5:7b never matches qwen2.5:72b, and
 * unknown families give undefined. Pure functions; parsing is cached per name.
 */
import { parseParameterCountB } from '../model-priors.js';

export type Variant = 'instruct' | 'base';

export interface ParsedModelName {
  /** Canonical family with its specialisation, e.g. "qwen2.5-coder", "llama-3.2-vision"; "" when unknown. */
  family: string;
  /** Total parameters in billions (8x7b -> 56). */
  sizeB?: number;
  /** Active parameters of a mixture ("30b-a3b" -> 3). */
  activeB?: number;
  /** Where sizeB came from: the name ("7b", "mini") or the family's default tag. */
  sizeFrom?: 'name' | 'default';
  variant: Variant;
  /** How the variant is known: stated in the name, implied by the family or naming style, or assumed. */
  variantFrom: 'stated' | 'family' | 'convention' | 'assumed';
  /** "ollama" (name:tag), "hf" (org/repo, hf.co, a .gguf file) or "plain". */
  style: 'ollama' | 'hf' | 'plain';
  /** Version or date tokens ("v0.3", "2407", "1.6"), joined with ".". */
  version?: string;
  /** Tokens that are neither family, size, variant nor version: fine-tune names, sub-bases ("vicuna"). */
  extras: string[];
  /** Set when the family was resolved through an alias (Ollama's deepseek-r1 tags are distills). */
  alias?: { note: string; confidence: number };
}

export interface ModelMatch {
  entry: string;
  /** 0..1; 1 = same family, size and variant with nothing left unexplained. */
  confidence: number;
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Families

interface FamilySpec {
  id: string;
  /** Body of the family name in the normalised (lower-case, hyphenated) string. */
  body: string;
  /** Words some families use for sizes ("phi3:mini"). */
  sizeWords?: Record<string, number>;
  /** Released only as a chat/instruct model, so an unmarked name is the instruct model. */
  instructOnly?: boolean;
  /** Hosted models with no published size. */
  unsized?: boolean;
  /** Variant of an unmarked Ollama tag when it is not instruct (starcoder2 ships base models). */
  defaultVariant?: Variant;
  /** The family is itself a code model: a "code" tag means the base completion model. */
  codeFamily?: boolean;
}

const PHI_SIZES = { mini: 3.8, small: 7, medium: 14 };

// Order matters only between specs matching at the same position (the more specific first).
const FAMILIES: readonly FamilySpec[] = [
  { id: 'gpt-4o-mini', body: 'gpt-?4o-?mini', instructOnly: true, unsized: true },
  { id: 'gpt-4o', body: 'gpt-?4o(?!-?mini)', instructOnly: true, unsized: true },
  { id: 'codellama', body: 'code-?llama', codeFamily: true },
  { id: 'llama-3.3', body: '(?:meta-)?llama-?3\\.3' },
  { id: 'llama-3.2', body: '(?:meta-)?llama-?3\\.2' },
  { id: 'llama-3.1', body: '(?:meta-)?llama-?3\\.1' },
  { id: 'llama-3', body: '(?:meta-)?llama-?3(?![0-9.])' },
  { id: 'llava', body: 'llava', instructOnly: true },
  { id: 'qwen2.5', body: 'qwen-?2\\.5' },
  { id: 'qwen3', body: 'qwen-?3(?![0-9.])' },
  { id: 'gemma-2', body: 'gemma-?2(?![0-9.])' },
  { id: 'gemma-3', body: 'gemma-?3(?![0-9.])' },
  { id: 'mistral-nemo', body: 'mistral-?nemo' },
  { id: 'mistral-small', body: 'mistral-?small' },
  { id: 'mistral-large', body: 'mistral-?large' },
  { id: 'mixtral', body: 'mixtral' },
  { id: 'mistral', body: 'mistral(?!-?(?:nemo|small|large))' },
  { id: 'phi-4', body: 'phi-?4', instructOnly: true, sizeWords: PHI_SIZES },
  { id: 'phi-3.5', body: 'phi-?3\\.5', instructOnly: true, sizeWords: PHI_SIZES },
  { id: 'phi-3', body: 'phi-?3(?![0-9.])', instructOnly: true, sizeWords: PHI_SIZES },
  { id: 'deepseek-r1', body: 'deepseek-?r1', instructOnly: true },
  { id: 'deepseek-coder-v2', body: 'deepseek-?coder-?v2', codeFamily: true, sizeWords: { lite: 16 } },
  { id: 'deepseek-coder', body: 'deepseek-?coder(?!-?v2)', codeFamily: true },
  { id: 'starcoder2', body: 'starcoder-?2', codeFamily: true, defaultVariant: 'base' },
  { id: 'starcoder', body: 'starcoder(?!-?2)', codeFamily: true, defaultVariant: 'base' },
];

const FAMILY_RES = FAMILIES.map((spec) => ({ spec, re: new RegExp(`(^|-)(${spec.body})`, 'g') }));

/**
 * Size of the tag Ollama pulls when none is given ("llama3.1" = "llama3.1:latest" = 8b), keyed by
 * family with specialisation. From the Ollama library pages.
 */
export const OLLAMA_DEFAULT_SIZE_B: Readonly<Record<string, number>> = Object.freeze({
  'llama-3': 8,
  'llama-3.1': 8,
  'llama-3.2': 3,
  'llama-3.2-vision': 11,
  'llama-3.3': 70,
  llava: 7,
  'qwen2.5': 7,
  'qwen2.5-coder': 7,
  qwen3: 8,
  'gemma-2': 9,
  'gemma-3': 4,
  mistral: 7,
  'mistral-nemo': 12,
  'mistral-small': 24,
  mixtral: 56,
  'phi-3': 3.8,
  'phi-3.5': 3.8,
  'phi-4': 14,
  'deepseek-r1': 8,
  'deepseek-coder-v2': 16,
  codellama: 7,
  starcoder2: 3,
});

/**
 * Ollama's "deepseek-r1:<size>" tags are the distilled models, not R1 itself (671b). The 8b tag
 * was first Distill-Llama-8B and later re-pointed to DeepSeek-R1-0528-Qwen3-8B, hence the lower
 * confidence.
 */
const DEEPSEEK_R1_TAGS: ReadonlyArray<{ sizeB: number; family: string; confidence: number; note: string }> = [
  { sizeB: 1.5, family: 'deepseek-r1-distill-qwen', confidence: 0.95, note: 'Ollama deepseek-r1:1.5b is DeepSeek-R1-Distill-Qwen-1.5B' },
  { sizeB: 7, family: 'deepseek-r1-distill-qwen', confidence: 0.95, note: 'Ollama deepseek-r1:7b is DeepSeek-R1-Distill-Qwen-7B' },
  { sizeB: 14, family: 'deepseek-r1-distill-qwen', confidence: 0.95, note: 'Ollama deepseek-r1:14b is DeepSeek-R1-Distill-Qwen-14B' },
  { sizeB: 32, family: 'deepseek-r1-distill-qwen', confidence: 0.95, note: 'Ollama deepseek-r1:32b is DeepSeek-R1-Distill-Qwen-32B' },
  { sizeB: 70, family: 'deepseek-r1-distill-llama', confidence: 0.95, note: 'Ollama deepseek-r1:70b is DeepSeek-R1-Distill-Llama-70B' },
  { sizeB: 8, family: 'deepseek-r1-distill-llama', confidence: 0.7, note: 'Ollama deepseek-r1:8b was DeepSeek-R1-Distill-Llama-8B (later re-pointed to the 0528 Qwen3-8B distill)' },
];

// ---------------------------------------------------------------------------------------------
// Tokens

/** Tokens that make a different model of the family: "-coder", "-vision", "vl", "math", ... */
const SPECIALISATIONS: Readonly<Record<string, string>> = {
  coder: 'coder',
  code: 'coder',
  vision: 'vision',
  vl: 'vl',
  math: 'math',
  guard: 'guard',
  embed: 'embed',
  embedding: 'embed',
  audio: 'audio',
  omni: 'omni',
  reasoning: 'reasoning',
  python: 'python',
  n: 'n',
};
const INSTRUCT_TOKENS = new Set(['instruct', 'it', 'chat', 'sft', 'dpo', 'rlhf', 'inst']);
const BASE_TOKENS = new Set(['base', 'text', 'pt', 'pretrained']);
/** Tokens that say nothing about which model it is. */
const NEUTRAL_TOKENS = new Set(['hf', 'gguf', 'ggml', 'latest', 'model', 'models', 'meta', 'mlx', 'qat', 'imatrix', 'i1', 'fp16', 'bf16', 'f16', 'ollama', 'default']);
const QUANT_RE = /(^|[-.])(?:i?q[1-8](?:_[a-z0-9]+)*|f16|fp16|bf16|f32|fp32|fp8|int4|int8|awq|gptq|exl2|mlx|gguf|ggml|qat|\d+bits?|\d+(?:\.\d+)?bpw)(?=$|[-.])/g;
const FILE_EXT_RE = /\.(?:gguf|ggml|bin|safetensors|pth?|onnx|llamafile)$/;

const SIZE_TOKEN_RE = /^(?:\d+x)?\d+(?:\.\d+)?[bm]$/;
const ACTIVE_TOKEN_RE = /^a(\d+(?:\.\d+)?)b$/;
const VERSION_TOKEN_RE = /^(?:v\d+(?:\.\d+)*|\d+(?:\.\d+)+|\d{1,4})$/;
const CONTEXT_TOKEN_RE = /^\d+k$/;

export interface ParseOptions {
  /** Parse a catalogue entry id: an unmarked variant is the family's default, not a guess. */
  catalogue?: boolean;
}

const parseCache = new Map<string, ParsedModelName>();
const PARSE_CACHE_MAX = 10_000;

/** Reads family, size, variant, version and leftover tokens from a model name. Cached. */
export function parseModelName(name: string, options: ParseOptions = {}): ParsedModelName {
  const key = `${options.catalogue ? 'c' : 'n'}\u0000${name}`;
  const cached = parseCache.get(key);
  if (cached !== undefined) return cached;
  const parsed = parseUncached(name, options.catalogue === true);
  if (parseCache.size >= PARSE_CACHE_MAX) parseCache.clear();
  parseCache.set(key, parsed);
  return parsed;
}

function parseUncached(raw: string, catalogue: boolean): ParsedModelName {
  let s = raw.trim().toLowerCase();
  const hfHost = /^(?:https?:\/\/)?(?:hf\.co|huggingface\.co)\//.test(s);
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const isFile = FILE_EXT_RE.test(s) || /^(?:\.{0,2}\/|[a-z]:\\)/.test(s);
  const segments = s.split(/[/\\]/).filter((x) => x.length > 0);
  const hasOrg = segments.length > 1;
  s = segments.at(-1) ?? '';
  const hasTag = s.includes(':');
  const style: ParsedModelName['style'] = hfHost || isFile ? 'hf' : hasTag ? 'ollama' : hasOrg ? 'hf' : 'plain';
  s = s.replace(/:/g, '-').replace(FILE_EXT_RE, '').replace(QUANT_RE, '$1');
  s = s.replace(/[_\s]+/g, '-').replace(/-{2,}/g, '-').replace(/^[-.]+|[-.]+$/g, '').replace(/-\./g, '-').replace(/\.-/g, '-');

  // The earliest family name in the string wins ("llava-llama3" is llava, "hermes-3-llama-3.1" llama).
  let found: { spec: FamilySpec; start: number; end: number } | undefined;
  for (const { spec, re } of FAMILY_RES) {
    re.lastIndex = 0;
    const m = re.exec(s);
    if (m === null) continue;
    const start = m.index + m[1]!.length;
    if (found === undefined || start < found.start) found = { spec, start, end: start + m[2]!.length };
  }
  if (found === undefined) {
    return { family: '', variant: 'instruct', variantFrom: 'assumed', style, extras: [] };
  }

  const spec = found.spec;
  let family = spec.id;
  const extras: string[] = [];
  const versions: string[] = [];
  let sizeB: number | undefined;
  let activeB: number | undefined;
  let stated: Variant | undefined;

  for (const token of s.slice(0, found.start).split('-')) {
    if (token && !NEUTRAL_TOKENS.has(token)) extras.push(token);
  }
  let rest = s.slice(found.end);
  // Letters or digits glued to the family name: "qwen2.5vl", "gemma3n", "mistral-small3.1".
  const glued = /^[a-z0-9.]+/.exec(rest);
  const tokens: string[] = [];
  if (glued !== null) {
    tokens.push(glued[0].replace(/^\.+|\.+$/g, ''));
    rest = rest.slice(glued[0].length);
  }
  tokens.push(...rest.split('-'));

  const specialisations: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '' || NEUTRAL_TOKENS.has(token) || CONTEXT_TOKEN_RE.test(token)) continue;
    if (token === 'distill' && (tokens[i + 1] === 'qwen' || tokens[i + 1] === 'llama')) {
      specialisations.push(`distill-${tokens[i + 1]}`);
      i++;
      continue;
    }
    if (SIZE_TOKEN_RE.test(token)) {
      sizeB ??= parseParameterCountB(token);
      continue;
    }
    const active = ACTIVE_TOKEN_RE.exec(token);
    if (active !== null) {
      activeB ??= Number(active[1]);
      continue;
    }
    const word = spec.sizeWords?.[token];
    if (word !== undefined) {
      sizeB ??= word;
      continue;
    }
    if (INSTRUCT_TOKENS.has(token)) {
      stated = 'instruct';
      continue;
    }
    if (BASE_TOKENS.has(token)) {
      stated ??= 'base';
      continue;
    }
    if (token === 'code' && spec.codeFamily) {
      // codellama:7b-code is the base completion model.
      stated ??= 'base';
      continue;
    }
    const special = SPECIALISATIONS[token];
    if (special !== undefined && !(special === 'coder' && spec.codeFamily)) {
      specialisations.push(special);
      continue;
    }
    if (VERSION_TOKEN_RE.test(token)) {
      versions.push(token.replace(/^v/, ''));
      continue;
    }
    extras.push(token);
  }
  for (const special of [...new Set(specialisations)].sort()) family += `-${special}`;

  let sizeFrom: ParsedModelName['sizeFrom'] = sizeB === undefined ? undefined : 'name';
  if (sizeB === undefined && !spec.unsized) {
    const fallback = OLLAMA_DEFAULT_SIZE_B[family];
    if (fallback !== undefined) {
      sizeB = fallback;
      sizeFrom = 'default';
    }
  }

  let alias: ParsedModelName['alias'];
  if (family === 'deepseek-r1' && sizeB !== undefined) {
    const tag = DEEPSEEK_R1_TAGS.find((t) => sameSize(t.sizeB, sizeB!));
    if (tag !== undefined) {
      family = tag.family;
      alias = { note: tag.note, confidence: tag.confidence };
    }
  }

  let variant: Variant;
  let variantFrom: ParsedModelName['variantFrom'];
  if (stated !== undefined) {
    variant = stated;
    variantFrom = 'stated';
  } else if (spec.instructOnly) {
    variant = 'instruct';
    variantFrom = 'family';
  } else if (catalogue || style === 'ollama') {
    // Catalogue ids mark base models; Ollama's unmarked tags are the chat models (except base-only families).
    variant = spec.defaultVariant ?? 'instruct';
    variantFrom = 'convention';
  } else if (style === 'hf') {
    // Hugging Face repos and files say "Instruct"/"-it" when they are; an unmarked repo is the base model.
    variant = spec.defaultVariant ?? 'base';
    variantFrom = 'convention';
  } else {
    variant = spec.defaultVariant ?? 'instruct';
    variantFrom = 'assumed';
  }

  const parsed: ParsedModelName = { family, variant, variantFrom, style, extras };
  if (sizeB !== undefined) parsed.sizeB = sizeB;
  if (activeB !== undefined) parsed.activeB = activeB;
  if (sizeFrom !== undefined) parsed.sizeFrom = sizeFrom;
  if (versions.length > 0) parsed.version = versions.join('.');
  if (alias !== undefined) parsed.alias = alias;
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Catalogue

export interface CatalogueEntry {
  id: string;
  parsed: ParsedModelName;
}

/** Catalogue entries indexed by family, parsed once. */
export class Catalogue {
  private readonly byId = new Map<string, CatalogueEntry>();
  private readonly byFamily = new Map<string, CatalogueEntry[]>();

  constructor(ids: Iterable<string>) {
    for (const id of ids) this.add(id);
    this.sortFamilies();
  }

  /**
   * The same catalogue, built with a pause for the event loop every few milliseconds: parsing the
   * names of a leaderboard's thousands of models takes ~25 µs each, too long to hold requests up.
   */
  static async build(ids: Iterable<string>, sliceMs = 8): Promise<Catalogue> {
    const catalogue = new Catalogue([]);
    let sliceStart = performance.now();
    for (const id of ids) {
      catalogue.add(id);
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    catalogue.sortFamilies();
    return catalogue;
  }

  private add(id: string): void {
    if (this.byId.has(id)) return;
    const entry = { id, parsed: parseModelName(id, { catalogue: true }) };
    this.byId.set(id, entry);
    if (entry.parsed.family === '') return;
    const list = this.byFamily.get(entry.parsed.family) ?? [];
    list.push(entry);
    this.byFamily.set(entry.parsed.family, list);
  }

  private sortFamilies(): void {
    for (const list of this.byFamily.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): CatalogueEntry | undefined {
    return this.byId.get(id);
  }

  family(family: string): readonly CatalogueEntry[] {
    return this.byFamily.get(family) ?? [];
  }

  /** Entries of the same family, size and version with the given variant (the base model of an instruct entry). */
  siblings(id: string, variant: Variant): CatalogueEntry[] {
    const entry = this.byId.get(id);
    if (entry === undefined) return [];
    const p = entry.parsed;
    return this.family(p.family).filter(
      (c) =>
        c.id !== id &&
        c.parsed.variant === variant &&
        sizesCompatible(p, c.parsed) &&
        sameExtras(p.extras, c.parsed.extras) &&
        (p.version === undefined || c.parsed.version === undefined || p.version === c.parsed.version),
    );
  }
}

const builtCatalogues = new WeakMap<object, Catalogue>();

function asCatalogue(catalogue: Catalogue | Iterable<string>): Catalogue {
  if (catalogue instanceof Catalogue) return catalogue;
  const cached = builtCatalogues.get(catalogue);
  if (cached !== undefined) return cached;
  const built = new Catalogue(catalogue);
  builtCatalogues.set(catalogue, built);
  return built;
}

// ---------------------------------------------------------------------------------------------
// Matching

const BASE_FOR_INSTRUCT = 0.7;
const INSTRUCT_FOR_BASE = 0.4;
const UNKNOWN_WORDS = 0.6;
const ENTRY_MORE_SPECIFIC = 0.9;
const VERSION_MISMATCH = 0.85;
const VARIANT_ASSUMED = 0.9;
const DEFAULT_SIZE_OLLAMA = 0.95;
const DEFAULT_SIZE_OTHER = 0.85;
const AMBIGUOUS = 0.9;
const EXACT_NAME_ONLY = 0.9;

/**
 * The catalogue entry a backend model name refers to, with a confidence and a reason, or undefined
 * when the family is unknown or no entry of that family has the model's size.
 */
export function matchModel(name: string, catalogue: Catalogue | Iterable<string>): ModelMatch | undefined {
  const p = parseModelName(name);
  const cat = asCatalogue(catalogue);
  if (p.family === '') {
    // A family the parser does not know: only the very same name (e.g. an imported arena row for a
    // hosted model served through an OpenAI-compatible proxy) is a match.
    const id = entryIdFor(name);
    return cat.get(id) === undefined ? undefined : { entry: id, confidence: EXACT_NAME_ONLY, reason: `unknown family; same name as entry ${id}` };
  }
  const candidates = cat.family(p.family).filter((c) => sizesCompatible(p, c.parsed));
  if (candidates.length === 0) return undefined;

  let best: { entry: CatalogueEntry; confidence: number; notes: string[] } | undefined;
  let ties: string[] = [];
  for (const c of candidates) {
    const scored = score(p, c.parsed);
    if (best === undefined || scored.confidence > best.confidence + 1e-9) {
      best = { entry: c, ...scored };
      ties = [];
    } else if (Math.abs(scored.confidence - best.confidence) <= 1e-9) {
      // A name without a version ("mistral:latest") means the newest release: that is what Ollama's
      // default tag and a hub's unversioned name point at. Otherwise the first (alphabetical) stays.
      if (p.version === undefined && compareVersions(c.parsed.version, best.entry.parsed.version) > 0) {
        ties.push(best.entry.id);
        best = { entry: c, ...scored };
      } else {
        ties.push(c.id);
      }
    }
  }
  if (best === undefined) return undefined;

  const notes: string[] = [];
  let confidence = best.confidence;
  if (p.alias !== undefined) {
    confidence *= p.alias.confidence;
    notes.push(p.alias.note);
  }
  if (p.sizeFrom === 'default' && p.sizeB !== undefined) {
    confidence *= p.style === 'ollama' ? DEFAULT_SIZE_OLLAMA : DEFAULT_SIZE_OTHER;
    notes.push(`no size in the name: Ollama's default tag for ${p.family} is ${formatSize(p.sizeB)}`);
  }
  notes.push(...best.notes);
  if (ties.length > 0) {
    confidence *= AMBIGUOUS;
    const newest = p.version === undefined ? best.entry.parsed.version : undefined;
    notes.push(newest === undefined ? `as likely: ${ties.join(', ')}` : `no version in the name, the newest (${newest}) taken over ${ties.join(', ')}`);
  }
  const head = `${p.family}${p.sizeB === undefined ? '' : ` ${formatSize(p.sizeB)}`} ${p.variant}`;
  return {
    entry: best.entry.id,
    confidence: Math.round(confidence * 1000) / 1000,
    reason: notes.length === 0 ? `same family, size and variant (${head})` : `${head}; ${notes.join('; ')}`,
  };
}

function score(p: ParsedModelName, c: ParsedModelName): { confidence: number; notes: string[] } {
  let confidence = 1;
  const notes: string[] = [];
  if (p.variant !== c.variant) {
    if (p.variant === 'instruct') {
      confidence *= BASE_FOR_INSTRUCT;
      notes.push('instruct model scored with its base model\'s published figures');
    } else {
      confidence *= INSTRUCT_FOR_BASE;
      notes.push('base model: only the instruct model\'s figures are known');
    }
  } else if (p.variantFrom === 'assumed') {
    confidence *= VARIANT_ASSUMED;
    notes.push(`variant not in the name, assumed ${p.variant}`);
  }
  if (p.version !== undefined && c.version !== undefined && p.version !== c.version) {
    confidence *= VERSION_MISMATCH;
    notes.push(`version ${p.version} vs ${c.version}`);
  }
  const unknown = p.extras.filter((x) => !c.extras.includes(x));
  if (unknown.length > 0) {
    confidence *= UNKNOWN_WORDS;
    notes.push(`unrecognised words (a fine-tune?): ${unknown.join(', ')}`);
  }
  const unstated = c.extras.filter((x) => !p.extras.includes(x));
  if (unstated.length > 0) {
    confidence *= ENTRY_MORE_SPECIFIC;
    notes.push(`entry is more specific (${unstated.join(', ')})`);
  }
  return { confidence, notes };
}

function sizesCompatible(a: ParsedModelName, b: ParsedModelName): boolean {
  if (a.sizeB === undefined || b.sizeB === undefined) {
    // Hosted models carry no size on either side; a sized name never matches an unsized entry.
    if (a.sizeB !== b.sizeB) return false;
  } else if (!sameSize(a.sizeB, b.sizeB)) {
    return false;
  }
  return a.activeB === undefined || b.activeB === undefined || sameSize(a.activeB, b.activeB);
}

/** Sizes within 2.5% are the same model (rounding in names); 7b is never 8b, 30b never 32b, 70b never 72b. */
function sameSize(a: number, b: number): boolean {
  return Math.abs(a - b) <= 0.025 * Math.max(a, b);
}

function sameExtras(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Numeric comparison of dotted versions ("0.10" after "0.3"); a missing version sorts first. */
function compareVersions(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (Number.isNaN(d)) return a < b ? -1 : 1;
    if (d !== 0) return d;
  }
  return 0;
}

function formatSize(sizeB: number): string {
  return sizeB < 1 ? `${Math.round(sizeB * 1000)}m` : `${sizeB}b`;
}

/**
 * A catalogue entry id for a name with no catalogue match (an imported leaderboard row): the last
 * path segment, lower-case, without quantisation or file suffix, with "-base" added when the name
 * reads as a base model, so the id parses back to the same variant.
 */
export function entryIdFor(name: string): string {
  const parsed = parseModelName(name);
  let s = name.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.split(/[/\\]/).filter((x) => x.length > 0).at(-1) ?? s;
  s = s.replace(/:/g, '-').replace(FILE_EXT_RE, '').replace(QUANT_RE, '$1');
  s = s.replace(/[_\s]+/g, '-').replace(/-{2,}/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  if (parsed.family !== '' && parsed.variant === 'base' && parsed.variantFrom !== 'stated') s = `${s}-base`;
  return s;
}
