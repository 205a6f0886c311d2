/**
 * Writes the published JSON Schemas (`workflows/schema.json`, `workflows/fixture.schema.json`)
 * from the schemas the server validates with. Run after changing them: `npm run schemas`.
 * A test fails while the published files differ from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../core/paths.js';
import { publishedSchemas } from '../core/engine/published-schemas.js';

for (const [file, schema] of Object.entries(publishedSchemas())) {
  writeFileSync(join(projectRoot, file), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
