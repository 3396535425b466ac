#!/usr/bin/env node
// The `smarterrouter` command (package.json "bin"): loads tsx's loader, then the TypeScript CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/run.ts');
