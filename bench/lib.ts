/** Small helpers shared by the benchmarks: medians, a printed table, an in-process server. */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../core/config/load-config.js';
import { projectRoot } from '../core/paths.js';
import { FlowgateServer } from '../core/server.js';

/**
 * A server on its own database of the benchmark's MongoDB (`MONGODB_URI`) and its own Redis key
 * prefix, with no HTTP listener, no job processing and no log: for timing services directly.
 * `overrides` names the plugins and their settings.
 */
export async function bootInProcess(database: string, overrides: { plugins: string[]; pluginSettings?: Record<string, unknown> }): Promise<FlowgateServer> {
  const uri = new URL(process.env.MONGODB_URI as string);
  uri.pathname = `/${database}`;
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: uri.toString() },
    overrides: { log: { level: 'silent' }, workflows: { watch: false }, scheduler: { enabled: false }, redis: { keyPrefix: `bench-${database}:` }, ...overrides },
  });
  const server = new FlowgateServer(config);
  await server.start({ listen: false });
  return server;
}
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
