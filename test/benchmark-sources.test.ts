/**
 * Benchmark sources named by an admin (ROUTER_BENCHMARK_SOURCES, ProfilerService.SyncBenchmarks) are
 * read as benchmark files only, and a source that is not one never has its content echoed back in the
 * error: a call naming /proc/self/environ must not return the process environment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSource, MAX_SOURCE_BYTES } from '../src/core/benchmarks/importers.js';
import { BenchmarkSourceError } from '../src/core/benchmarks/types.js';

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

describe('source size cap', () => {
  const CSV = 'model,rating\nllama-3-8b,1150\n';

  it('refuses a local file over the cap without reading it, and reads one under it', async () => {
    expect(MAX_SOURCE_BYTES).toBe(64 * 1024 * 1024);
    const csv = join(dir, 'big.csv');
    writeFileSync(csv, CSV + 'x'.repeat(200));
    const error = await loadSource(csv, fetch, { maxBytes: 100 }).catch((e: unknown) => e);
    expect(BenchmarkSourceError.is(error) && error.code).toBe('too_large');
    expect((error as Error).message).toContain('not a benchmark export');
    expect(await loadSource(join(dir, 'arena-ok.csv'), fetch, { maxBytes: 100 }).catch((e: unknown) => (e as BenchmarkSourceError).code)).toBe('not_found');
    writeFileSync(join(dir, 'arena-ok.csv'), CSV);
    expect((await loadSource(join(dir, 'arena-ok.csv'), fetch, { maxBytes: 100 })).length).toBe(1);
  });

  it('stops a download over the cap, whether the server declares its length or streams without one', async () => {
    let served = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/declared.csv') {
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(10 * 1024 * 1024) });
        res.end(); // the length alone refuses it; the client must not wait for 10 MB that never come
        return;
      }
      if (req.url === '/endless.csv') {
        res.writeHead(200, { 'content-type': 'text/csv' }); // chunked, no length
        res.write(CSV);
        const timer = setInterval(() => {
          served += 64 * 1024;
          if (!res.write('x'.repeat(64 * 1024))) res.once('drain', () => undefined);
        }, 1);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(CSV);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const options = { maxBytes: 512 * 1024 };
      for (const path of ['/declared.csv', '/endless.csv']) {
        const error = await loadSource(`${base}${path}`, fetch, options).catch((e: unknown) => e);
        expect(BenchmarkSourceError.is(error) && error.code, path).toBe('too_large');
      }
      // The endless download was cut soon after the cap, not read on.
      expect(served).toBeLessThan(4 * 1024 * 1024);
      expect((await loadSource(`${base}/small.csv`, fetch, options)).length).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
