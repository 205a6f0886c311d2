// Runs before `npm start`, `npm test` and `npm run bench`: installs the locked dependencies when
// they are missing or differ from package-lock.json, so both README commands work on a fresh
// clone. Plain JavaScript because nothing is compiled yet at this point.
//
// Two rules keep it from destroying what it does not own:
//  - it compares the locked versions with the installed ones, not file times: a fresh checkout
//    (a new git worktree) has a new package-lock.json whose content is the same;
//  - it never installs into a node_modules that is a symbolic link: `npm ci` empties the folder the
//    link points to (another checkout's dependencies, in use) before it installs.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const versions = (file) => {
  const packages = JSON.parse(readFileSync(file, 'utf8')).packages ?? {};
  return new Map(Object.entries(packages).filter(([path, entry]) => path.startsWith('node_modules/') && !entry.optional).map(([path, entry]) => [path, entry.version]));
};
const differences = () => {
  const installed = versions(marker);
  return [...versions('package-lock.json')].filter(([path, version]) => installed.get(path) !== version).map(([path, version]) => `${path.slice('node_modules/'.length)}@${version}`);
};

const missing = existsSync(marker) ? differences() : ['everything'];
if (missing.length) {
  if (existsSync('node_modules') && lstatSync('node_modules').isSymbolicLink()) {
    console.error(`[deps] node_modules is a link to a shared install, left alone; it lacks ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? '…' : ''}`);
    process.exit(0);
  }
  console.error('[deps] installing the locked dependencies (npm ci)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
