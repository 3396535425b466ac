/**
 * Writes a deterministic random-weight llama GGUF (~150-200 KB) for tests, so a fresh clone can run
 * real inference without downloading a model. Layout follows ggml's docs/gguf.md (version 3).
 *
 * llama.cpp aborts the whole process (SIGABRT, uncatchable) on some malformed vocabularies and
 * hyper-parameters, so every setting is validated here before a byte is written, and
 * `probeGgufInChildProcess` lets a suite load a file in a throwaway process before loading it in its own.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface TinyGgufOptions {
  /** PRNG seed for the weights; the same options always give the same bytes. Default 1. */
  seed?: number;
  /** llama.context_length. At least 1024 so node-llama-cpp's default chat system prompt fits. Default 2048. */
  contextLength?: number;
  /** n_embd. Default 32. */
  embeddingLength?: number;
  /** Number of transformer blocks. Default 2. */
  blockCount?: number;
  /** Attention heads. Default 4. */
  headCount?: number;
  /** Key/value heads (grouped-query attention). Default 2. */
  headCountKv?: number;
  /** n_ff. Default 64. */
  feedForwardLength?: number;
  /**
   * Extra whole-word tokens (use U+2581 "▁" for a leading space). Each word's prefixes are added too,
   * because llama's tokenizer only reaches a word by merging tokens that exist.
   */
  words?: string[];
  /** general.name. Default "tiny-random-llama". */
  name?: string;
  /** tokenizer.chat_template (Jinja). Omitted by default: node-llama-cpp then picks a generic wrapper. */
  chatTemplate?: string;
}

/** Ids 0..2 are <unk>, <s>, </s>; ids 3..258 are the 256 byte tokens. */
export const TINY_GGUF_FIRST_TEXT_TOKEN = 259;

const DEFAULT_WORDS = [
  'the', 'a', 'and', 'to', 'of', 'in', 'is', 'it', 'was', 'on', 'for', 'with', 'that', 'he', 'she',
  'they', 'hello', 'world', 'once', 'upon', 'time', 'there', 'little', 'cat', 'dog', 'sun', 'tree',
  'happy', 'play', 'day', 'router', 'model', 'token',
].map((w) => `\u2581${w}`);

const SPACE_MARK = '\u2581';

// GGUF metadata value types.
const T_UINT32 = 4;
const T_INT32 = 5;
const T_FLOAT32 = 6;
const T_BOOL = 7;
const T_STRING = 8;
const T_ARRAY = 9;

// tokenizer.ggml.token_type values.
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

const ALIGNMENT = 32;

interface ResolvedOptions {
  seed: number;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  headCount: number;
  headCountKv: number;
  feedForwardLength: number;
  words: string[];
  name: string;
  chatTemplate?: string;
}

export interface TinyGgufVocabulary {
  tokens: string[];
  types: number[];
  scores: number[];
}

/** Checks the settings that would otherwise crash llama.cpp, and fills in defaults. */
export function resolveTinyGgufOptions(options: TinyGgufOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    seed: options.seed ?? 1,
    contextLength: options.contextLength ?? 2048,
    embeddingLength: options.embeddingLength ?? 32,
    blockCount: options.blockCount ?? 2,
    headCount: options.headCount ?? 4,
    headCountKv: options.headCountKv ?? 2,
    feedForwardLength: options.feedForwardLength ?? 64,
    words: options.words ?? DEFAULT_WORDS,
    name: options.name ?? 'tiny-random-llama',
    chatTemplate: options.chatTemplate,
  };
  if (!Number.isInteger(resolved.seed)) throw new RangeError(`seed must be an integer, got ${resolved.seed}`);
  const limits: Array<[keyof ResolvedOptions, number, number]> = [
    ['contextLength', 1024, 1 << 20],
    ['embeddingLength', 8, 1024],
    ['blockCount', 1, 16],
    ['headCount', 1, 64],
    ['headCountKv', 1, 64],
    ['feedForwardLength', 8, 4096],
  ];
  for (const [key, min, max] of limits) {
    const value = resolved[key] as number;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${key} must be an integer in [${min}, ${max}], got ${value}`);
    }
  }
  if (resolved.embeddingLength % resolved.headCount !== 0) {
    throw new RangeError(`embeddingLength ${resolved.embeddingLength} is not a multiple of headCount ${resolved.headCount}`);
  }
  // RoPE rotates pairs of dimensions: an odd head size aborts llama.cpp.
  if ((resolved.embeddingLength / resolved.headCount) % 2 !== 0) {
    throw new RangeError(`head size ${resolved.embeddingLength / resolved.headCount} must be even`);
  }
  if (resolved.headCount % resolved.headCountKv !== 0) {
    throw new RangeError(`headCount ${resolved.headCount} is not a multiple of headCountKv ${resolved.headCountKv}`);
  }
  for (const word of resolved.words) {
    if (typeof word !== 'string' || [...word].length < 2) throw new RangeError(`word ${JSON.stringify(word)} must have at least 2 characters`);
    if (/^<.*>$/.test(word)) throw new RangeError(`word ${JSON.stringify(word)} looks like a special or byte token`);
  }
  return resolved;
}

/**
 * <unk>, <s>, </s>, the 256 byte tokens, printable ASCII plus "▁", then the words and their prefixes.
 * Duplicates are removed here: a duplicate token string aborts llama.cpp's vocabulary loader.
 */
export function buildTinyVocabulary(words: readonly string[]): TinyGgufVocabulary {
  const tokens: string[] = [];
  const types: number[] = [];
  const seen = new Set<string>();
  const add = (token: string, type: number): void => {
    if (seen.has(token)) return;
    seen.add(token);
    tokens.push(token);
    types.push(type);
  };
  add('<unk>', TOKEN_UNKNOWN);
  add('<s>', TOKEN_CONTROL);
  add('</s>', TOKEN_CONTROL);
  for (let byte = 0; byte < 256; byte++) add(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`, TOKEN_BYTE);
  add(SPACE_MARK, TOKEN_NORMAL);
  for (let code = 0x21; code <= 0x7e; code++) add(String.fromCharCode(code), TOKEN_NORMAL);
  for (const word of words) {
    const chars = [...word];
    for (let end = 1; end <= chars.length; end++) add(chars.slice(0, end).join(''), TOKEN_NORMAL);
  }
  if (tokens.length !== seen.size) throw new Error('duplicate token in tiny vocabulary');
  // SentencePiece merges the highest-scoring pair first; longer pieces score higher so words win.
  const scores = tokens.map((token, id) => (id < TINY_GGUF_FIRST_TEXT_TOKEN ? 0 : -100 + [...token].length));
  return { tokens, types, scores };
}

/** Writes the file (creating its folder). Deterministic for equal options. */
export async function writeTinyGguf(path: string, options: TinyGgufOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, buildTinyGguf(options));
}

/** The whole file in memory. */
export function buildTinyGguf(options: TinyGgufOptions = {}): Buffer {
  const o = resolveTinyGgufOptions(options);
  const vocab = buildTinyVocabulary(o.words);
  const nVocab = vocab.tokens.length;
  const nEmbd = o.embeddingLength;
  const headDim = nEmbd / o.headCount;
  const kvDim = headDim * o.headCountKv;
  const random = mulberry32(o.seed);

  const metadata = new Writer();
  let kvCount = 0;
  const kv = (key: string, write: () => void): void => {
    metadata.string(key);
    write();
    kvCount++;
  };
  const u32 = (key: string, value: number) => kv(key, () => (metadata.u32(T_UINT32), metadata.u32(value)));
  const f32 = (key: string, value: number) => kv(key, () => (metadata.u32(T_FLOAT32), metadata.f32(value)));
  const str = (key: string, value: string) => kv(key, () => (metadata.u32(T_STRING), metadata.string(value)));
  const bool = (key: string, value: boolean) => kv(key, () => (metadata.u32(T_BOOL), metadata.u8(value ? 1 : 0)));

  str('general.architecture', 'llama');
  str('general.name', o.name);
  u32('general.file_type', 0); // ALL_F32
  u32('llama.context_length', o.contextLength);
  u32('llama.embedding_length', nEmbd);
  u32('llama.block_count', o.blockCount);
  u32('llama.feed_forward_length', o.feedForwardLength);
  u32('llama.attention.head_count', o.headCount);
  u32('llama.attention.head_count_kv', o.headCountKv);
  u32('llama.rope.dimension_count', headDim);
  f32('llama.attention.layer_norm_rms_epsilon', 1e-5);
  str('tokenizer.ggml.model', 'llama');
  kv('tokenizer.ggml.tokens', () => {
    metadata.u32(T_ARRAY);
    metadata.u32(T_STRING);
    metadata.u64(nVocab);
    for (const token of vocab.tokens) metadata.string(token);
  });
  kv('tokenizer.ggml.scores', () => {
    metadata.u32(T_ARRAY);
    metadata.u32(T_FLOAT32);
    metadata.u64(nVocab);
    for (const score of vocab.scores) metadata.f32(score);
  });
  kv('tokenizer.ggml.token_type', () => {
    metadata.u32(T_ARRAY);
    metadata.u32(T_INT32);
    metadata.u64(nVocab);
    for (const type of vocab.types) metadata.i32(type);
  });
  u32('tokenizer.ggml.unknown_token_id', 0);
  u32('tokenizer.ggml.bos_token_id', 1);
  u32('tokenizer.ggml.eos_token_id', 2);
  bool('tokenizer.ggml.add_bos_token', true);
  bool('tokenizer.ggml.add_eos_token', false);
  if (o.chatTemplate !== undefined) str('tokenizer.chat_template', o.chatTemplate);

  // Tensors: [row length, rows], row length first as GGUF stores dimensions.
  const tensors: Array<{ name: string; dims: number[]; data: Float32Array }> = [];
  const ones = (n: number) => new Float32Array(n).fill(1);
  const randomMatrix = (cols: number, rows: number, scale: number) => {
    const data = new Float32Array(cols * rows);
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * scale;
    return data;
  };
  tensors.push({ name: 'token_embd.weight', dims: [nEmbd, nVocab], data: randomMatrix(nEmbd, nVocab, 1) });
  tensors.push({ name: 'output_norm.weight', dims: [nEmbd], data: ones(nEmbd) });
  const output = randomMatrix(nEmbd, nVocab, 1);
  // Zero logits rows for specials and byte tokens: generation then yields only printable text
  // and never ends early on </s>, so maxTokens decides the length.
  output.fill(0, 0, TINY_GGUF_FIRST_TEXT_TOKEN * nEmbd);
  tensors.push({ name: 'output.weight', dims: [nEmbd, nVocab], data: output });
  const attnScale = 1 / Math.sqrt(nEmbd);
  const ffnScale = 1 / Math.sqrt(o.feedForwardLength);
  for (let block = 0; block < o.blockCount; block++) {
    const p = `blk.${block}.`;
    tensors.push({ name: `${p}attn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) });
    tensors.push({ name: `${p}attn_q.weight`, dims: [nEmbd, nEmbd], data: randomMatrix(nEmbd, nEmbd, attnScale) });
    tensors.push({ name: `${p}attn_k.weight`, dims: [nEmbd, kvDim], data: randomMatrix(nEmbd, kvDim, attnScale) });
    tensors.push({ name: `${p}attn_v.weight`, dims: [nEmbd, kvDim], data: randomMatrix(nEmbd, kvDim, attnScale) });
    tensors.push({ name: `${p}attn_output.weight`, dims: [nEmbd, nEmbd], data: randomMatrix(nEmbd, nEmbd, attnScale) });
    tensors.push({ name: `${p}ffn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) });
    tensors.push({ name: `${p}ffn_gate.weight`, dims: [nEmbd, o.feedForwardLength], data: randomMatrix(nEmbd, o.feedForwardLength, attnScale) });
    tensors.push({ name: `${p}ffn_up.weight`, dims: [nEmbd, o.feedForwardLength], data: randomMatrix(nEmbd, o.feedForwardLength, attnScale) });
    tensors.push({ name: `${p}ffn_down.weight`, dims: [o.feedForwardLength, nEmbd], data: randomMatrix(o.feedForwardLength, nEmbd, ffnScale) });
  }

  const tensorInfo = new Writer();
  let offset = 0;
  for (const tensor of tensors) {
    tensorInfo.string(tensor.name);
    tensorInfo.u32(tensor.dims.length);
    for (const dim of tensor.dims) tensorInfo.u64(dim);
    tensorInfo.u32(0); // F32
    tensorInfo.u64(offset);
    offset += alignUp(tensor.data.byteLength);
  }

  const header = new Writer();
  header.bytes(Buffer.from('GGUF', 'latin1'));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(kvCount);

  const info = Buffer.concat([header.toBuffer(), metadata.toBuffer(), tensorInfo.toBuffer()]);
  const dataStart = alignUp(info.length);
  const file = Buffer.alloc(dataStart + offset); // zero-filled: padding comes for free
  info.copy(file, 0);
  let at = dataStart;
  for (const tensor of tensors) {
    Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).copy(file, at);
    at += alignUp(tensor.data.byteLength);
  }
  return file;
}

export interface ChildProbeResult {
  ok: boolean;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** JSON the child printed on success: vocabulary size, train context, a short generation. */
  report?: { nVocab: number; trainContextSize: number; text: string };
  output: string;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Loads a GGUF with node-llama-cpp in a separate Node process and generates a few tokens. A file
 * that would SIGABRT llama.cpp kills only that child, so the calling test process survives to report it.
 */
export async function probeGgufInChildProcess(path: string, timeoutMs = 30_000): Promise<ChildProbeResult> {
  // A script file, not `node -e`: node-llama-cpp forks a binding test process that inherits execArgv,
  // and `--input-type` there would break it. The package is imported by absolute URL from the repo.
  const entry = pathToFileURL(createRequire(join(REPO_ROOT, 'package.json')).resolve('node-llama-cpp')).href;
  const script = `
    import { getLlama, LlamaCompletion } from ${JSON.stringify(entry)};
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
    const model = await llama.loadModel({ modelPath: ${JSON.stringify(path)} });
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const text = await completion.generateCompletion('hello', { maxTokens: 8, temperature: 0 });
    process.stdout.write(JSON.stringify({ nVocab: model.fileInfo.metadata.tokenizer.ggml.tokens.length, trainContextSize: model.trainContextSize, text }));
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  `;
  const dir = await mkdtemp(join(tmpdir(), 'gguf-probe-'));
  const scriptPath = join(dir, 'probe.mjs');
  await writeFile(scriptPath, script);
  try {
    return await runChild(scriptPath, timeoutMs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runChild(scriptPath: string, timeoutMs: number): Promise<ChildProbeResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [scriptPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let report: ChildProbeResult['report'];
      try {
        report = code === 0 ? JSON.parse(stdout) : undefined;
      } catch {
        report = undefined;
      }
      resolvePromise({ ok: code === 0 && report !== undefined, code, signal, report, output: `${stdout}\n${stderr}`.trim() });
    });
  });
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}

/** Small, fast, deterministic PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Little-endian growable byte writer. */
class Writer {
  private chunks: Buffer[] = [];
  u8(value: number): void {
    const b = Buffer.alloc(1);
    b.writeUInt8(value);
    this.chunks.push(b);
  }
  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.chunks.push(b);
  }
  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.chunks.push(b);
  }
  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.chunks.push(b);
  }
  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.chunks.push(b);
  }
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.chunks.push(bytes);
  }
  bytes(value: Buffer): void {
    this.chunks.push(value);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
