/**
 * The progress line of long CLI commands (backups, restores, audit verification), written to
 * stderr so stdout keeps only results. On a terminal it is one line redrawn in place; elsewhere
 * (logs, CI, a pipe) it prints a plain line every tenth of the way, or every few seconds when the
 * total is unknown, so the output stays readable either way.
 */

const WIDTH = 30;
/** A terminal redraw at most this often: millions of updates must not cost millions of writes. */
const REDRAW_MS = 100;
/** Without a total, a plain line at most this often. */
const PLAIN_EVERY_MS = 5_000;

export interface ProgressBarOptions {
  /** What is counted, e.g. `documents` or `entries`. */
  readonly unit?: string;
  /** Force the terminal or the plain form; by default the stream's `isTTY` decides. */
  readonly tty?: boolean;
}

export class ProgressBar {
  private readonly tty: boolean;
  private readonly unit: string;
  private lastTenth = -1;
  private lastWrite = 0;
  private lastLine = '';

  constructor(private readonly out: NodeJS.WritableStream, private readonly label: string, options: ProgressBarOptions = {}) {
    this.tty = options.tty ?? (out as NodeJS.WriteStream).isTTY === true;
    this.unit = options.unit ?? 'items';
  }

  /** Reports `done` of `total` (undefined when unknown); `detail` says what is being worked on. Never throws. */
  update(done: number, total?: number, detail = ''): void {
    const known = total !== undefined && total > 0;
    const fraction = known ? Math.min(1, done / Math.max(total, done)) : 0;
    const count = known ? `${done.toLocaleString('en')}/${Math.max(total, done).toLocaleString('en')}` : done.toLocaleString('en');
    const bar = known ? ` [${'#'.repeat(Math.round(fraction * WIDTH))}${'-'.repeat(WIDTH - Math.round(fraction * WIDTH))}] ${String(Math.floor(fraction * 100)).padStart(3)}%` : '';
    const line = `${this.label}${bar} ${count} ${this.unit}${detail ? `  ${detail}` : ''}`;
    const now = Date.now();
    if (this.tty) {
      if (line === this.lastLine || (now - this.lastWrite < REDRAW_MS && fraction < 1)) return;
      this.write(`\r${line}\u001b[K`, line, now);
      return;
    }
    if (known) {
      const tenth = Math.floor(fraction * 10);
      if (tenth === this.lastTenth) return;
      this.lastTenth = tenth;
    } else if (now - this.lastWrite < PLAIN_EVERY_MS) {
      return;
    }
    this.write(`${line}\n`, line, now);
  }

  /** Replaces the progress line with a final message, or on a terminal just clears it. */
  done(message?: string): void {
    const clear = this.tty && this.lastLine ? '\r\u001b[K' : '';
    if (message !== undefined || clear) this.out.write(`${clear}${message !== undefined ? `${message}\n` : ''}`);
  }

  private write(text: string, line: string, now: number): void {
    this.out.write(text);
    this.lastLine = line;
    this.lastWrite = now;
  }
}
