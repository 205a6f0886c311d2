/**
 * Prints the configuration table of the README from the config schema, the environment mapping
 * and config/default.json, so the documentation cannot drift from what the server accepts.
 * `node dist/scripts/config-table.js` prints it, `--write` puts it into the README between the
 * config-table markers; a test checks the README holds exactly this.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { configSchema, environmentMapping } from '../core/config/config-schema.js';
import { projectRoot } from '../core/paths.js';

interface SchemaNode {
  type?: string;
  enum?: readonly unknown[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  description?: string;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  'x-secret'?: boolean;
}

function describeType(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const bounds = [
    node.minimum !== undefined ? `≥ ${node.minimum}` : '',
    node.maximum !== undefined ? `≤ ${node.maximum}` : '',
    node.pattern ? `matching \`${node.pattern.replace(/\|/g, '\\|')}\`` : '',
  ].filter(Boolean).join(', ');
  return `${node.type ?? 'any'}${bounds ? ` (${bounds})` : ''}`;
}

function valueAt(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** One row per leaf setting, in schema order. */
export function configTable(): string {
  const defaults: unknown = JSON.parse(readFileSync(join(projectRoot, 'config', 'default.json'), 'utf8'));
  const variableOf = new Map(Object.entries(environmentMapping).map(([variable, path]) => [path, variable]));
  const rows: string[] = [
    '| Key | Type | Default (config/default.json) | Environment variable | Meaning |',
    '|---|---|---|---|---|',
  ];
  const walk = (node: SchemaNode, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (key === '$schema') continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (child.type === 'object' && child.properties) {
        walk(child, path);
        continue;
      }
      const variable = variableOf.get(path);
      const fallback = valueAt(defaults, path);
      const meaning = `${child.description ?? ''}${child['x-secret'] ? '. May hold credentials: set it through the environment' : ''}`;
      rows.push(`| \`${path}\` | ${describeType(child)} | \`${JSON.stringify(fallback)}\` | ${variable ? `\`${variable}\`` : ''} | ${meaning} |`);
    }
  };
  walk(configSchema as unknown as SchemaNode, '');
  return rows.join('\n');
}

const MARKED = /<!-- config-table:start -->\n[\s\S]*?<!-- config-table:end -->/;

/** The table as it stands in the README, or undefined when the markers are missing. */
export function readmeTable(readme: string): string | undefined {
  return /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--write')) {
    const file = join(projectRoot, 'README.md');
    const readme = readFileSync(file, 'utf8');
    if (!MARKED.test(readme)) throw new Error('README.md lacks the config-table markers');
    writeFileSync(file, readme.replace(MARKED, () => `<!-- config-table:start -->\n${configTable()}\n<!-- config-table:end -->`));
  } else {
    console.log(configTable());
  }
}
