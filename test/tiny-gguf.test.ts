import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLlama, readGgufFileInfo } from 'node-llama-cpp';
import {
  buildTinyGguf,
  buildTinyVocabulary,
  probeGgufInChildProcess,
  resolveTinyGgufOptions,
  TINY_GGUF_FIRST_TEXT_TOKEN,
  writeTinyGguf,
} from './support/tiny-gguf.js';

let dir: string;
let path: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tiny-gguf-'));
  path = join(dir, 'tiny.gguf');
  await writeTinyGguf(path, { seed: 7 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny GGUF generator', () => {
  it('is deterministic per seed and 100-250 KB', () => {
    const a = buildTinyGguf({ seed: 3 });
    expect(buildTinyGguf({ seed: 3 }).equals(a)).toBe(true);
    expect(buildTinyGguf({ seed: 4 }).equals(a)).toBe(false);
    expect(a.length).toBeGreaterThan(100_000);
    expect(a.length).toBeLessThan(250_000);
  });

  it('writes a GGUF v3 header with 32-byte aligned, contiguous tensor data', async () => {
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(bytes.readUInt32LE(4)).toBe(3);
    const tensorCount = Number(bytes.readBigUInt64LE(8));
    expect(tensorCount).toBe(3 + 2 * 9); // embeddings, output norm, output + 9 per block

    const info = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false });
    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe('llama');
    const llama = info.architectureMetadata;
    expect(llama.context_length).toBeGreaterThanOrEqual(1024);
    expect(llama.embedding_length).toBe(32);
    expect(llama.block_count).toBe(2);
    expect(llama.feed_forward_length).toBe(64);

    const tensors = info.tensorInfo ?? [];
    expect(tensors).toHaveLength(tensorCount);
    let expectedOffset = 0;
    for (const tensor of tensors) {
      expect(tensor.ggmlType).toBe(0);
      expect(Number(tensor.offset)).toBe(expectedOffset);
      const bytesOf = tensor.dimensions.reduce<number>((n, d) => n * Number(d), 4);
      expectedOffset += Math.ceil(bytesOf / 32) * 32;
    }
    const dataStart = info.infoEndOffset ?? 0;
    expect(dataStart % 32).toBe(0);
    expect(bytes.length).toBe(dataStart + expectedOffset);
  });

  it('has a vocabulary with unique tokens, all 256 byte tokens and zeroed special/byte output rows', async () => {
    const info = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false });
    const tokens = info.metadata.tokenizer.ggml.tokens as readonly string[];
    const types = info.metadata.tokenizer.ggml.token_type as readonly number[];
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(types).toHaveLength(tokens.length);
    expect(tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    for (let b = 0; b < 256; b++) expect(tokens[3 + b]).toBe(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    expect(tokens).toContain('\u2581the');

    const output = (info.tensorInfo ?? []).find((t) => t.name === 'output.weight');
    expect(output).toBeDefined();
    const bytes = await readFile(path);
    const start = (info.infoEndOffset ?? 0) + Number(output!.offset);
    const rows = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + tokens.length * 32 * 4));
    expect(rows.subarray(0, TINY_GGUF_FIRST_TEXT_TOKEN * 32).every((v) => v === 0)).toBe(true);
    expect(rows.subarray(TINY_GGUF_FIRST_TEXT_TOKEN * 32).some((v) => v !== 0)).toBe(true);
  });

  it('rejects settings that would abort llama.cpp', () => {
    expect(() => resolveTinyGgufOptions({ embeddingLength: 12, headCount: 4 })).toThrow(/even/); // head size 3
    expect(() => resolveTinyGgufOptions({ embeddingLength: 32, headCount: 5 })).toThrow(/multiple/);
    expect(() => resolveTinyGgufOptions({ headCount: 4, headCountKv: 3 })).toThrow(/headCountKv/);
    expect(() => resolveTinyGgufOptions({ contextLength: 512 })).toThrow(/contextLength/);
    expect(() => resolveTinyGgufOptions({ feedForwardLength: 0 })).toThrow(/feedForwardLength/);
    expect(() => resolveTinyGgufOptions({ words: ['<0x41>'] })).toThrow(/special/);
    expect(() => resolveTinyGgufOptions({ seed: 1.5 })).toThrow(/seed/);
    // Duplicates (and words colliding with single characters) are folded, never written twice.
    const vocab = buildTinyVocabulary(['\u2581cat', '\u2581cat', 'ab', 'ab']);
    expect(new Set(vocab.tokens).size).toBe(vocab.tokens.length);
    expect(vocab.tokens).toContain('\u2581ca');
  });

  it('loads and generates in a child process, then in this one', async () => {
    // The child goes first: if the file aborted llama.cpp, only the child would die.
    const probe = await probeGgufInChildProcess(path);
    expect(probe.output).not.toMatch(/error/i);
    expect(probe.ok).toBe(true);
    expect(probe.signal).toBeNull();
    expect(probe.report?.trainContextSize).toBe(2048);
    expect(probe.report?.text.length).toBeGreaterThan(0);
    expect(probe.report?.text).toMatch(/^[\x20-\x7e]+$/); // specials and bytes are never sampled

    const llama = await getLlama({ gpu: false, build: 'never' });
    const model = await llama.loadModel({ modelPath: path });
    try {
      expect(model.trainContextSize).toBe(2048);
      // Whole words are single tokens: the prefix chain lets the tokenizer merge up to them.
      const tokens = model.tokenize('hello world');
      expect(tokens.length).toBeLessThanOrEqual(3);
      expect(model.detokenize(tokens).trim()).toBe('hello world');
    } finally {
      await model.dispose();
    }
  });
});
