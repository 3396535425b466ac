/**
 * Benchmark sources named by an admin (ROUTER_BENCHMARK_SOURCES, ProfilerService.SyncBenchmarks) are
 * read as benchmark files only, and a source that is not one never has its content echoed back in the
 * error: a call naming /proc/self/environ must not return the process environment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSource } from '../src/core/benchmarks/importers.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'ROUTER_ADMIN_API_KEY=adminsecret-123';

async function failure(source: string): Promise<string> {
  const error = await loadSource(source).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

describe('local benchmark sources', () => {
  it('refuses files that are not benchmark files by name, without reading them', async () => {
    for (const source of ['/proc/self/environ', '/etc/passwd', join(dir, 'notes.txt')]) {
      expect(await failure(source)).toContain('must end in .csv, .json, .jsonl or .ndjson');
    }
  });

  it('refuses schemes that are not files or http(s)', async () => {
    expect(await failure('ftp://example.com/scores.csv')).toContain('unsupported source');
    expect(await failure('data:text/csv,model,rating')).toContain('unsupported source');
  });

  it('never quotes a file\'s content in the error: not a long CSV first line, not the text JSON choked on', async () => {
    const csv = join(dir, 'secret.csv');
    writeFileSync(csv, `${SECRET}${'x'.repeat(100)}\nsecond line\n`);
    const csvError = await failure(csv);
    expect(csvError).toContain('CSV needs a model column and a rating column');
    expect(csvError).not.toContain('adminsecret');
    const json = join(dir, 'secret.json');
    writeFileSync(json, `{"a": ${SECRET}}`);
    const jsonError = await failure(json);
    expect(jsonError).toMatch(/: invalid JSON( at position \d+)?$/);
    expect(jsonError).not.toContain('adminsecret');
  });

  it('still names the columns of an ordinary header that lacks a rating', async () => {
    const csv = join(dir, 'arena.csv');
    writeFileSync(csv, 'model,votes\nllama-3-8b,1000\n');
    expect(await failure(csv)).toContain('found model, votes');
  });
});
