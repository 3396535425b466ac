/**
 * A one-line live progress bar for terminals (redrawn in place with \r) that degrades to one line
 * per event when the output is a pipe or a file, so logs stay readable.
 */
export interface ProgressView {
  done: number;
  total: number;
  label: string;
  elapsedSeconds: number;
  etaSeconds?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function renderBar(view: ProgressView, width = 28): string {
  const ratio = view.total > 0 ? Math.min(1, view.done / view.total) : 0;
  const filled = Math.round(ratio * width);
  const pct = String(Math.round(ratio * 100)).padStart(3);
  const eta = view.etaSeconds === undefined ? '' : ` ETA ${formatDuration(view.etaSeconds)}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${view.label} · ${formatDuration(view.elapsedSeconds)}${eta}`;
}

export class ProgressBar {
  private lastLength = 0;
  constructor(private readonly out: NodeJS.WriteStream | NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {}

  update(view: ProgressView): void {
    const tty = (this.out as { isTTY?: boolean }).isTTY;
    const columns = (this.out as { columns?: number }).columns ?? 100;
    const line = renderBar(view);
    if (!tty) {
      this.out.write(`${line}\n`);
      return;
    }
    const clipped = line.length > columns - 1 ? line.slice(0, columns - 1) : line;
    this.out.write(`\r${clipped}${' '.repeat(Math.max(0, this.lastLength - clipped.length))}`);
    this.lastLength = clipped.length;
  }

  /** Prints a message on its own line without breaking the bar. */
  log(message: string): void {
    if ((this.out as { isTTY?: boolean }).isTTY && this.lastLength) {
      this.out.write(`\r${' '.repeat(this.lastLength)}\r`);
      this.lastLength = 0;
    }
    this.out.write(`${message}\n`);
  }

  end(): void {
    if ((this.out as { isTTY?: boolean }).isTTY && this.lastLength) this.out.write('\n');
    this.lastLength = 0;
  }
}
