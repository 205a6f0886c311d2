import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../core/paths.js';
import { configTable, readmeTable } from '../../../scripts/config-table.js';

describe('core/config/config-schema', () => {
  it('the README configuration table is the one generated from the schema (node dist/scripts/config-table.js --write)', () => {
    const section = readmeTable(readFileSync(join(projectRoot, 'README.md'), 'utf8'));
    assert.ok(section, 'README.md has the config-table markers');
    assert.equal(section, configTable());
  });
});
