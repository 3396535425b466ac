/**
 * Child processes for the bench: every server under test runs in its own process so the load
 * generator (this process) never shares an event loop with what it measures. Also reads a child's
 * memory and CPU time from /proc, which needs no cooperation from the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

export const ROOT = new URL('..', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');

export interface Child {
  proc: ChildProcess;
  /** The first line the child prints on stdout (its URL, for our own servers). */
  firstLine: Promise<string>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Run TypeScript through tsx (default true). */
  tsx?: boolean;
  /** Keep stdout out of the first-line reader (e.g. a child that draws spinners). */
  quietStdout?: boolean;
}

export function spawnChild(args: string[], options: SpawnOptions = {}): Child {
  const nodeArgs = [...(options.nodeArgs ?? []), ...(options.tsx === false ? [] : ['--import', TSX])];
  const proc = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', options.quietStdout ? 'ignore' : 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const firstLine = new Promise<string>((resolve, reject) => {
    let buf: string | undefined = '';
    proc.stdout?.on('data', (d: Buffer) => {
      // After the first line the output is drained and dropped: a child that logs every request
      // must neither block on a full pipe nor make this process rescan an ever-growing buffer.
      if (buf === undefined) return;
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        resolve(buf.slice(0, nl).trim());
        buf = undefined;
      }
    });
    proc.once('exit', (code, signal) => reject(new Error(`${args[0]} exited early (${code ?? signal})`)));
  });
  // Callers that never read the first line must not see an unhandled rejection when it exits.
  firstLine.catch(() => undefined);
  return {
    proc,
    firstLine,
    async stop(graceMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Polls `url` until `ready(response)` holds; returns the milliseconds it took. */
export async function waitReady(url: string, child: Child, ready: (res: Response) => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (child.proc.exitCode !== null) throw new Error(`${url}: the process exited with ${child.proc.exitCode} before it was ready`);
    try {
      if (await ready(await fetch(url))) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

function status(pid: number): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8');
}

/** Resident memory now (VmRSS), in MB; NaN where /proc is not available. */
export function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(status(pid))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** User + system CPU time the process has used so far, in ms (clock ticks are 10 ms on Linux). */
export function cpuMs(pid: number): number {
  try {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest value seen. */
export function rssSampler(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    const now = rssMb(pid);
    if (now > peak) peak = now;
  }, everyMs);
  // Never what keeps the bench process alive, even when a run fails before stop().
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}
