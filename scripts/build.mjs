#!/usr/bin/env node
/**
 * `npm run build` (and `prestart`): compiles src/ and gen/ to plain JavaScript in dist/, one .js file
 * per .ts file at the same relative path (dist/src/..., dist/gen/...), so relative imports,
 * `import.meta.url` paths and the Piscina worker files resolve the same way as in the sources.
 * Files that are not TypeScript (the classifier weights, the dashboard assets) are copied alongside.
 *
 * Why esbuild and not tsc: it transpiles the whole tree in a second or two (tsc takes ~15 s here),
 * so `npm start` can rebuild every time and never run stale code. Type checking stays `npm run
 * typecheck`. Plain .mjs so it runs without tsx. It is the same transform tsx applies, minus tsx's
 * keepNames wrappers and inline source maps (external .map files instead: no run-time cost, and
 * `node --enable-source-maps` maps stack traces back to the sources).
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist');
const TREES = ['src', 'gen'];

/** Every file under `dir`, as paths relative to ROOT. */
function walk(dir) {
  const files = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walk(path));
    else files.push(path);
  }
  return files;
}

const isTest = (file) => /\.test\.ts$/.test(file);
const isTs = (file) => file.endsWith('.ts') && !file.endsWith('.d.ts');

const started = performance.now();
const sources = TREES.flatMap(walk).filter((f) => !isTest(f));
const entryPoints = sources.filter(isTs).map((f) => join(ROOT, f));
const assets = sources.filter((f) => !isTs(f));

await build({
  entryPoints,
  outdir: OUT,
  outbase: ROOT,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20.19', // package.json engines; keeps the JSON import attributes
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const file of assets) {
  mkdirSync(dirname(join(OUT, file)), { recursive: true });
  copyFileSync(join(ROOT, file), join(OUT, file));
}

// Drop outputs whose source is gone (a renamed module must not linger and be imported by mistake).
// Files are replaced in place rather than wiping dist/ first, so a router already running from dist/
// can still lazy-load its modules and worker files while another `npm start` rebuilds.
const expected = new Set([
  ...entryPoints.map((f) => relative(ROOT, f).replace(/\.ts$/, '.js')),
  ...entryPoints.map((f) => relative(ROOT, f).replace(/\.ts$/, '.js.map')),
  ...assets,
]);
let removed = 0;
for (const tree of TREES) {
  if (!existsSync(join(OUT, tree))) continue;
  for (const file of walk(join('dist', tree))) {
    const rel = relative('dist', file);
    if (!expected.has(rel)) {
      rmSync(join(ROOT, file));
      removed++;
    }
  }
}

if (!process.argv.includes('--quiet')) {
  const ms = Math.round(performance.now() - started);
  process.stderr.write(`built ${entryPoints.length} modules and ${assets.length} assets into dist/ in ${ms} ms${removed ? ` (${removed} stale files removed)` : ''}\n`);
}
