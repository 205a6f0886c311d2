/** Small helpers shared by the benchmarks: medians and a printed table. */
import { appendFileSync } from 'node:fs';
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number) => (typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : value);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c] ?? '').length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c] ?? ''))));
}

/** One headline figure of a benchmark for the combined table `npm run bench` prints at the end. */
export interface Figure {
  figure: string;
  value: number | string;
  /** The in-run baseline, target, load average… whatever makes the value readable. */
  detail?: string;
}

/**
 * Hands headline figures to the runner (bench/run.ts), which collects them from every
 * benchmark into one table; a benchmark run on its own just prints its tables.
 */
export function recordFigures(bench: string, figures: Figure[]): void {
  const file = process.env.BENCH_FIGURES_FILE;
  if (!file) return;
  appendFileSync(file, figures.map((f) => JSON.stringify({ bench, ...f })).join('\n') + '\n');
}
