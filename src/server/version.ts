/** The router's version, read once from package.json (shown by /health and ListPlugins). */
import { existsSync, readFileSync } from 'node:fs';

// src/server/version.ts under tsx, dist/src/server/version.js when compiled: the package root is two
// or three folders up, so take the nearest package.json above this file.
function packageJsonUrl(): URL {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    const candidate = new URL('package.json', dir);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('package.json not found above src/server/version');
}

export const VERSION: string = (JSON.parse(readFileSync(packageJsonUrl(), 'utf8')) as { version: string }).version;
