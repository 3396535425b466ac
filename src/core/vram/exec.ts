/**
 * The only part of the VRAM monitor that touches the operating system: runs a command (nvidia-smi)
 * with execFile, never a shell, so nothing in the configured command or its arguments is interpreted,
 * and the binary is looked up on PATH by the OS. Everything else in src/core/vram is pure and is
 * tested with an injected runner.
 */
import { execFile } from 'node:child_process';

/** How one run ended. A runner resolves with one of these and does not reject. */
export type ExecOutcome =
  | { kind: 'exited'; exitCode: number; stdout: string; stderr: string }
  /** Killed after the timeout (a wedged driver can make nvidia-smi hang for minutes). */
  | { kind: 'timeout'; stdout: string; stderr: string }
  /**
   * The process could not be started (ENOENT: not installed, EACCES, ...) or did not end normally
   * (killed by a signal, output too large). `code` is the errno code or the signal name.
   */
  | { kind: 'error'; code: string; message: string }
  | { kind: 'aborted' };

export interface ExecOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export type ExecRunner = (command: string, args: readonly string[], options: ExecOptions) => Promise<ExecOutcome>;

/** nvidia-smi prints a few hundred bytes per GPU; anything near this is not nvidia-smi output. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

export const execFileRunner: ExecRunner = (command, args, options) =>
  new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        timeout: options.timeoutMs,
        // A query tool has nothing to clean up, and a hung one may ignore SIGTERM.
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: 'utf8',
        windowsHide: true,
        signal: options.signal,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ kind: 'exited', exitCode: 0, stdout, stderr });
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals | null; code?: string | number };
        if (failure.name === 'AbortError' || options.signal?.aborted) return resolve({ kind: 'aborted' });
        // With execFile a number is the exit code; a string is an errno code (spawn failed) or
        // ERR_CHILD_PROCESS_STDIO_MAXBUFFER.
        if (typeof failure.code === 'number') return resolve({ kind: 'exited', exitCode: failure.code, stdout, stderr });
        if (typeof failure.code === 'string') return resolve({ kind: 'error', code: failure.code, message: failure.message });
        // execFile sets `killed` when it sent killSignal itself, i.e. on timeout.
        if (failure.killed) return resolve({ kind: 'timeout', stdout, stderr });
        resolve({ kind: 'error', code: failure.signal ?? 'UNKNOWN', message: failure.message });
      },
    );
  });
