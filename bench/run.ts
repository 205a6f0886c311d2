/**
 * `npm run bench`: runs every benchmark in bench/ one after another, each in its own process
 * (so one benchmark's memory and connections do not colour the next), against the services
 * `with-services` started. Each prints its own table; BENCH_ONLY=engine,backup picks some.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'lib.js'].includes(f))
  .map((f) => f.replace(/\.js$/, ''))
  .filter((name) => !only || only.includes(name))
  .sort();

let failures = 0;
for (const name of benches) {
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(process.execPath, ['--expose-gc', join(here, `${name}.js`)], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    failures++;
    console.log(`${name} failed with exit code ${result.status}`);
  }
}
process.exitCode = failures ? 1 : 0;
