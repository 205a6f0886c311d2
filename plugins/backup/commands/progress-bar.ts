/**
 * A progress bar for the CLI on stderr: redrawn in place on a terminal, a line every tenth of the
 * way otherwise (logs, CI), so output stays readable either way.
 */
import type { ProgressReport } from '../announcer.js';

const WIDTH = 30;

export class ProgressBar {
  private lastTenth = -1;
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WritableStream, private readonly label: string) {
    this.tty = (out as NodeJS.WriteStream).isTTY === true;
  }

  update(report: ProgressReport): void {
    const total = Math.max(report.totalDocuments, report.documents, 1);
    const fraction = Math.min(1, report.documents / total);
    const filled = Math.round(fraction * WIDTH);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% `
      + `${report.documents.toLocaleString('en')}/${total.toLocaleString('en')} documents  ${report.phase} ${report.collection}`;
    if (this.tty) {
      this.out.write(`\r${line}\u001b[K`);
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${line}\n`);
    }
  }

  done(message: string): void {
    this.out.write(`${this.tty ? '\r\u001b[K' : ''}${message}\n`);
  }
}
