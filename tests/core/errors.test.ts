import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../../core/paths.js';

/**
 * The ways code in core/ and plugins/ names an error code: as the code argument of an error or a
 * deferral, as a `code:` field, or as any upper-case snake-case string literal (issue codes are
 * passed to helpers). Single-word codes (`CONFLICT`) are caught by the first three forms.
 */
const THROWN = [
  /\b(?:CoreError|HttpError|StepError|super)\(\s*(?:\d+\s*,\s*)?'([A-Z][A-Z0-9_]*)'/g,
  /\bStepDeferral\([^,()]+,\s*'([A-Z][A-Z0-9_]*)'/g,
  /\bcode: '([A-Z][A-Z0-9_]*)'/g,
  /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g,
];
/** Upper-case literals that are not Flowgate's codes. */
const NOT_OURS = new Set(['ERR_MODULE_NOT_FOUND', /* Meta's template button types */ 'QUICK_REPLY', 'PHONE_NUMBER', 'COPY_CODE', /* Meta's messaging limit tiers */ 'TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    // An example plugin keeps its tests beside it; their strings (variable names) are not codes.
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !/(^|[\\/])tests([\\/]|$)/.test(relative(projectRoot, entry.parentPath)))
    .map((entry) => join(entry.parentPath, entry.name));
}

function codesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of ['core', 'plugins', 'examples'].flatMap((dir) => sourceFiles(join(projectRoot, dir)))) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of THROWN) {
      for (const match of text.matchAll(pattern)) {
        if (!NOT_OURS.has(match[1] as string)) found.set(match[1] as string, file.slice(projectRoot.length + 1));
      }
    }
  }
  return found;
}

function codesInDocs(): Set<string> {
  const text = readFileSync(join(projectRoot, 'docs', 'error-codes.md'), 'utf8');
  return new Set([...text.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((match) => match[1] as string));
}

describe('core/errors: docs/error-codes.md', () => {
  it('lists every error code thrown in core/, plugins/ and examples/', () => {
    const documented = codesInDocs();
    const missing = [...codesInSource()].filter(([code]) => !documented.has(code)).map(([code, file]) => `${code} (${file})`);
    assert.deepEqual(missing, [], `add these to docs/error-codes.md: ${missing.join(', ')}`);
  });

  it('lists no code that nothing throws any more', () => {
    const thrown = codesInSource();
    const stale = [...codesInDocs()].filter((code) => !thrown.has(code));
    assert.deepEqual(stale, [], `remove these from docs/error-codes.md or throw them: ${stale.join(', ')}`);
  });
});
