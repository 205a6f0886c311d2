/** Where things are on disk, relative to the compiled core (`dist/core`). */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const projectRoot = resolve(here, '..', '..');
export const distRoot = resolve(here, '..');
export const builtinPluginDir = join(distRoot, 'plugins');
export const coreVersion = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
