/**
 * `npm run bench`: runs every benchmark in bench/ (each top-level file but this runner and
 * lib; helpers live in bench/support/) one after another, each in its own process (so one
 * benchmark's memory and connections do not colour the next), against the services
 * `with-services` started. Each prints its own tables with medians of BENCH_RUNS runs
 * (3 unless set) and its in-run baseline; at the end the runner prints one combined table of
 * the headline figures every benchmark recorded (`recordFigures` in lib), with the load average
 * around each. BENCH_ONLY=engine,stop-flow picks some; BENCH_SKIP=backup leaves some out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable, type Figure } from './lib.js';
import { loadAverage } from './support/processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const list = (value: string | undefined) => value?.split(',').map((s) => s.trim()).filter(Boolean);
const only = list(process.env.BENCH_ONLY);
const skip = list(process.env.BENCH_SKIP) ?? [];
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'lib.js'].includes(f))
  .map((f) => f.replace(/\.js$/, ''))
  .filter((name) => (!only || only.includes(name)) && !skip.includes(name))
  .sort();

const figuresFile = join(tmpdir(), `flowgate-bench-figures-${process.pid}.ndjson`);
rmSync(figuresFile, { force: true });
const env = { ...process.env, BENCH_RUNS: process.env.BENCH_RUNS ?? '3', BENCH_FIGURES_FILE: figuresFile };
const outcomes: Array<{ bench: string; status: string; seconds: number; loadBefore: string; loadAfter: string }> = [];

for (const name of benches) {
  console.log(`\n=== ${name} === (load average ${loadAverage()})`);
  const loadBefore = loadAverage().split(' ')[0] as string;
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--expose-gc', join(here, `${name}.js`)], { stdio: 'inherit', env });
  outcomes.push({ bench: name, status: result.status === 0 ? 'ok' : `failed (exit ${result.status ?? result.signal})`, seconds: Math.round((Date.now() - started) / 1000), loadBefore, loadAfter: loadAverage().split(' ')[0] as string });
}

const figures = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Figure & { bench: string })
  : [];
rmSync(figuresFile, { force: true });
const rows = outcomes.flatMap((outcome) => {
  const own = figures.filter((f) => f.bench === outcome.bench);
  const around = `${outcome.loadBefore} → ${outcome.loadAfter}`;
  if (!own.length) return [{ bench: outcome.bench, figure: '(its tables above)', value: '', detail: '', status: outcome.status, seconds: outcome.seconds, 'load average': around }];
  return own.map((f) => ({ bench: outcome.bench, figure: f.figure, value: f.value, detail: f.detail ?? '', status: outcome.status, seconds: outcome.seconds, 'load average': around }));
});
printTable(`All benchmarks: headline figures (medians of ${env.BENCH_RUNS} runs where a benchmark repeats; details and baselines in each benchmark's tables above)`, rows);
process.exitCode = outcomes.some((o) => o.status !== 'ok') ? 1 : 0;
