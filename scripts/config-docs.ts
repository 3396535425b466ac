/** Writes ENV_DEFAULT and docs/configuration.md from the config module. */
import { writeFileSync } from 'node:fs';
import { renderConfigDocs, renderEnvDefault } from '../src/config/render.js';

writeFileSync(new URL('../ENV_DEFAULT', import.meta.url), renderEnvDefault());
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs());
console.log('wrote ENV_DEFAULT and docs/configuration.md');
