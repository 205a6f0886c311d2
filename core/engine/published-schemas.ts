import { fixtureSchema } from './fixtures.js';
import { workflowSchema } from './workflow-schema.js';

/** The schemas published beside the workflows, for editors (`"$schema": "./schema.json"`). */
export function publishedSchemas(): Record<string, unknown> {
  return {
    'workflows/schema.json': { $schema: 'https://json-schema.org/draft/2020-12/schema', ...workflowSchema },
    'workflows/fixture.schema.json': { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'Flowgate workflow test fixture', ...fixtureSchema },
  };
}
