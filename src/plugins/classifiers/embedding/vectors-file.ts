/**
 * The embedded exemplars on disk, so a restart does not embed the corpus again.
 *
 * One small binary file: "SREV" | u32 header length | header JSON (model, corpus hash, count, dims) |
 * zero padding to 4 bytes | count x dims float32 little-endian. Labels are not stored: they come from
 * the corpus, which the hash pins. Written to a temporary file and renamed, so a crash mid-write
 * leaves the old file or none, never half of one. Anything unexpected on read is "no usable file".
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const MAGIC = 'SREV';
const FORMAT_VERSION = 1;

export interface VectorsKey {
  /** The embedding model name (ROUTER_EMBED_MODEL). */
  model: string;
  /** Hash of the exemplar texts and labels (exemplars.ts). */
  corpusHash: string;
  count: number;
}

export interface StoredVectors {
  dims: number;
  /** count x dims floats, row after row. */
  vectors: Float32Array;
}

interface Header extends VectorsKey {
  version: number;
  dims: number;
}

/** The stored vectors when the file exists and matches `key`; otherwise why not (for the log). */
export async function readVectors(path: string, key: VectorsKey): Promise<StoredVectors | { missing: string }> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { missing: code === 'ENOENT' ? 'no file yet' : `cannot read it (${(error as Error).message})` };
  }
  if (buffer.length < 8 || buffer.toString('latin1', 0, 4) !== MAGIC) return { missing: 'not an exemplar vectors file' };
  const headerLength = buffer.readUInt32LE(4);
  if (8 + headerLength > buffer.length) return { missing: 'truncated header' };
  let header: Header;
  try {
    header = JSON.parse(buffer.toString('utf8', 8, 8 + headerLength)) as Header;
  } catch {
    return { missing: 'unreadable header' };
  }
  if (header.version !== FORMAT_VERSION) return { missing: `format ${String(header.version)}, expected ${FORMAT_VERSION}` };
  if (header.model !== key.model) return { missing: `made with another embedding model (${String(header.model)})` };
  if (header.corpusHash !== key.corpusHash || header.count !== key.count) return { missing: 'made from another version of the corpus' };
  const dims = header.dims;
  if (!Number.isInteger(dims) || dims <= 0) return { missing: 'bad dimensions in header' };
  const start = align4(8 + headerLength);
  const floats = header.count * dims;
  if (buffer.length !== start + floats * 4) return { missing: `size ${buffer.length} does not match ${header.count} vectors of ${dims}` };
  const vectors = new Float32Array(floats);
  for (let i = 0; i < floats; i++) vectors[i] = buffer.readFloatLE(start + i * 4);
  return { dims, vectors };
}

export async function writeVectors(path: string, key: VectorsKey, stored: StoredVectors): Promise<void> {
  const header = Buffer.from(JSON.stringify({ version: FORMAT_VERSION, ...key, dims: stored.dims } satisfies Header), 'utf8');
  const start = align4(8 + header.length);
  const buffer = Buffer.alloc(start + stored.vectors.length * 4);
  buffer.write(MAGIC, 0, 'latin1');
  buffer.writeUInt32LE(header.length, 4);
  header.copy(buffer, 8);
  for (let i = 0; i < stored.vectors.length; i++) buffer.writeFloatLE(stored.vectors[i]!, start + i * 4);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, buffer);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

const align4 = (n: number): number => (n + 3) & ~3;
