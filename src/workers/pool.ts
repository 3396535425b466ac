/**
 * The Piscina pool behind the semantic index: started once, sized by ROUTER_WORKER_THREADS
 * (0 = cores − 1, at least 1), shared by every index that is handed it.
 *
 * Workers are JavaScript under `npm start` (the compiled dist/) and TypeScript under tsx (tests, the
 * demo, the CLI): the entry is vector-search.js or .ts next to this file, and a .ts entry needs tsx's loader in the
 * worker. Under tsx the loader is already in process.execArgv (workers inherit it); under vitest it
 * is not, so `--import <tsx loader>` is added.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { SearchReply, SearchTask } from './vector-search.js';

export function resolveThreads(configured = 0): number {
  return configured > 0 ? configured : Math.max(1, os.availableParallelism() - 1);
}

/**
 * Piscina `filename` and `execArgv` for a worker entry module in this folder (e.g. 'vector-search').
 * Exported for other pools of this folder's entries (the scoring measurement in bench/semantic.ts).
 */
export function workerEntry(name: string): { filename: string; execArgv: string[] } {
  const typescript = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(new URL(`./${name}${typescript ? '.ts' : '.js'}`, import.meta.url));
  // `tsx file.ts` passes its loader by path; `node --import tsx` by name.
  const tsxLoaded = process.execArgv.some((arg) => arg === 'tsx' || arg.startsWith('tsx/') || /[\\/]tsx[\\/]/.test(arg));
  if (!typescript || tsxLoaded) return { filename, execArgv: process.execArgv };
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { filename, execArgv: [...process.execArgv, '--import', loader] };
}

export class VectorPool {
  readonly threads: number;
  private readonly piscina: Piscina;
  private failNext = false;
  private destroyed = false;

  constructor(options: { threads?: number } = {}) {
    this.threads = resolveThreads(options.threads);
    const { filename, execArgv } = workerEntry('vector-search');
    this.piscina = new Piscina({
      filename,
      execArgv,
      name: 'search',
      // Fixed size: threads start once and stay warm (a cold worker costs tens of ms to load tsx).
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 2 ** 31 - 1,
    });
  }

  get closed(): boolean {
    return this.destroyed;
  }

  search(task: SearchTask): Promise<SearchReply> {
    if (this.failNext) {
      this.failNext = false;
      return this.piscina.run({ ...task, exitForTest: true }, { name: 'search' });
    }
    return this.piscina.run(task, { name: 'search' });
  }

  /** Test hook: the worker that takes the next task exits mid-task (process.exit in the thread). */
  failNextTaskForTest(): void {
    this.failNext = true;
  }

  async close(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.piscina.destroy();
  }
}
