// Runs before `npm start`, `npm test` and `npm run bench`: installs the locked dependencies when
// they are missing or older than package-lock.json, so both README commands work on a fresh
// clone. Plain JavaScript because nothing is compiled yet at this point.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('[deps] installing the locked dependencies (npm ci)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
