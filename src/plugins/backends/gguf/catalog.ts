/**
 * The model folder: which .gguf files exist (scanned on every call, so dropping a file in is enough)
 * and what their headers say. Only the header is read, never the weights; results are cached by a
 * cheap size+mtime digest so a listModels over many multi-GB files costs a few stat calls.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { GgmlType, GgufFileType, readGgufFileInfo, type GgufFileInfo } from 'node-llama-cpp';
import type { BackendModelInfo } from '../../../plugin-api/index.js';

export interface GgufFile {
  /** Backend-local id: path below the folder, "/" separated, without ".gguf" (and without a split suffix). */
  id: string;
  /** File to load: the only file, or the first part of a split model. */
  path: string;
  /** All parts together. */
  sizeBytes: number;
  digest: string;
}

/** "name-00001-of-00003.gguf": llama.cpp's split convention; the first part is loaded, the rest follow. */
const SPLIT_PART = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;
/** Vision projectors ship as .gguf beside the model but cannot chat on their own. */
const PROJECTOR = /mmproj/i;
const MAX_DEPTH = 4;

/** Large tokenizer arrays are skipped: listModels needs none of them. */
const IGNORED_KEYS = ['tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.token_type', 'tokenizer.ggml.merges'];

export async function scanModelFolder(root: string, recursive: boolean): Promise<GgufFile[]> {
  const groups = new Map<string, { path: string; parts: Array<{ size: number; mtimeMs: number }>; first: boolean }>();
  await walk(root, 0);
  const files: GgufFile[] = [];
  for (const [id, group] of groups) {
    if (!group.first) continue; // a split model without its first part cannot load
    const sizeBytes = group.parts.reduce((sum, part) => sum + part.size, 0);
    const fingerprint = group.parts.map((part) => `${part.size}:${Math.trunc(part.mtimeMs)}`).join(',');
    files.push({ id, path: group.path, sizeBytes, digest: createHash('sha256').update(`${id}|${fingerprint}`).digest('hex') });
  }
  return files.sort((a, b) => a.id.localeCompare(b.id));

  async function walk(dir: string, depth: number): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      let info: { size: number; mtimeMs: number } | undefined;
      if (entry.isSymbolicLink() || isFile) {
        // Symlinks are common (models shared with Ollama or a download cache): follow them.
        try {
          const s = await stat(full);
          isDirectory = s.isDirectory();
          isFile = s.isFile();
          info = { size: s.size, mtimeMs: s.mtimeMs };
        } catch {
          continue; // dangling link or file removed while scanning
        }
      }
      if (isDirectory) {
        if (recursive && depth < MAX_DEPTH) await walk(full, depth + 1).catch(() => undefined);
        continue;
      }
      if (!isFile || !info || !/\.gguf$/i.test(entry.name) || PROJECTOR.test(entry.name)) continue;
      const rel = relative(root, full).split(sep).join('/');
      const split = SPLIT_PART.exec(rel);
      const id = split ? split[1] : rel.replace(/\.gguf$/i, '');
      const group = groups.get(id) ?? { path: full, parts: [], first: !split };
      if (split && Number(split[2]) === 1) {
        group.path = full;
        group.first = true;
      }
      group.parts.push(info);
      groups.set(id, group);
    }
  }
}

/** Reads model facts from the header; cached per file digest. */
export class ModelInfoCache {
  private readonly cache = new Map<string, { digest: string; info: BackendModelInfo }>();

  async describe(file: GgufFile): Promise<BackendModelInfo> {
    const hit = this.cache.get(file.path);
    if (hit && hit.digest === file.digest) return hit.info;
    const header = await readGgufFileInfo(file.path, { sourceType: 'filesystem', ignoreKeys: IGNORED_KEYS, logWarnings: false });
    const info = describeHeader(file, header);
    this.cache.set(file.path, { digest: file.digest, info });
    return info;
  }

  /** Drops entries of files that no longer exist. */
  retain(files: readonly GgufFile[]): void {
    const alive = new Set(files.map((f) => f.path));
    for (const path of this.cache.keys()) if (!alive.has(path)) this.cache.delete(path);
  }
}

export function describeHeader(file: GgufFile, header: GgufFileInfo): BackendModelInfo {
  const general = header.metadata.general as unknown as Record<string, unknown>;
  const architecture = typeof general.architecture === 'string' ? general.architecture : undefined;
  const contextLength = toNumber((header.architectureMetadata as Record<string, unknown>).context_length);
  return {
    id: file.id,
    family: architecture,
    parameterCountB: parameterCountB(general, header),
    quantization: quantization(general, header),
    contextLength,
    sizeBytes: file.sizeBytes,
    digest: file.digest,
    capabilities: { chat: true, vision: false, tools: false, embeddings: true },
  };
}

function parameterCountB(general: Record<string, unknown>, header: GgufFileInfo): number | undefined {
  let count = toNumber(general.parameter_count);
  if (count === undefined) {
    // Older converters do not write general.parameter_count: count the tensor elements instead.
    const tensors = header.fullTensorInfo ?? header.tensorInfo;
    if (!tensors || tensors.length === 0) return undefined;
    count = 0;
    for (const tensor of tensors) count += tensor.dimensions.reduce<number>((product, dim) => product * Number(dim), 1);
  }
  // Keep small models distinguishable (260K params = 0.00026B) without float noise.
  return Number((count / 1e9).toPrecision(4));
}

function quantization(general: Record<string, unknown>, header: GgufFileInfo): string | undefined {
  const fileType = toNumber(general.file_type);
  if (fileType !== undefined && GgufFileType[fileType] !== undefined) {
    return GgufFileType[fileType].replace(/^(MOSTLY|ALL)_/, '');
  }
  // No file_type key: report the tensor type holding most of the weights.
  const tensors = header.fullTensorInfo ?? header.tensorInfo;
  if (!tensors || tensors.length === 0) return undefined;
  const elementsByType = new Map<number, number>();
  for (const tensor of tensors) {
    const elements = tensor.dimensions.reduce<number>((product, dim) => product * Number(dim), 1);
    elementsByType.set(tensor.ggmlType, (elementsByType.get(tensor.ggmlType) ?? 0) + elements);
  }
  const [dominant] = [...elementsByType.entries()].sort((a, b) => b[1] - a[1])[0];
  return GgmlType[dominant];
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}
