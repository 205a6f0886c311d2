/**
 * Writes the generated parts of docs/realtime.md — every Socket.IO topic with its permission and
 * every event with its payload fields, and the example client — from the registry the server
 * itself fills: the core's topics and those of every plugin in config/default.json, registered
 * (nothing is connected). A plugin that adds a topic appears here without touching this script.
 * `node dist/scripts/realtime-doc.js` prints the topics, `--write` updates the doc; a test fails
 * while the doc differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../core/config/load-config.js';
import type { JsonSchema } from '../core/plugin-api.js';
import { projectRoot } from '../core/paths.js';
import { FlowgateServer } from '../core/server.js';

interface SchemaNode {
  type?: string | string[];
  enum?: readonly unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: readonly string[];
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  additionalProperties?: boolean | SchemaNode;
}

export const CLIENT_EXAMPLE = 'examples/realtime-client/live-feed.mjs';
const DOC = join(projectRoot, 'docs', 'realtime.md');

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function describeType(node: SchemaNode): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' or ');
  const alternatives = node.oneOf ?? node.anyOf;
  if (alternatives) return alternatives.map(describeType).join(' or ');
  if (node.type === 'array') return `array of ${node.items ? describeType(node.items) : 'any'}`;
  const types = Array.isArray(node.type) ? node.type.join(' or ') : node.type ?? (node.properties ? 'object' : 'any');
  return `${types}${node.format ? ` (${node.format})` : ''}`;
}

/** One row per field, nested objects as `a.b` and arrays of objects as `a[].b`. */
function fieldRows(node: SchemaNode, prefix = ''): string[] {
  const required = new Set(node.required ?? []);
  // A field only named in `required` has no schema of its own: say so rather than guess a type.
  const properties: Record<string, SchemaNode | null> = { ...Object.fromEntries([...required].map((name) => [name, null])), ...(node.properties ?? {}) };
  return Object.entries(properties).flatMap(([name, declared]) => {
    const path = `${prefix}${name}`;
    const child = declared ?? {};
    const row = `| \`${path}\` | ${declared ? cell(describeType(child)) : '(not declared)'} | ${required.has(name) ? 'yes' : ''} | ${cell(child.description ?? '')} |`;
    const nested = child.properties ? fieldRows(child, `${path}.`)
      : child.items?.properties ? fieldRows(child.items, `${path}[].`)
        : [];
    return [row, ...nested];
  });
}

function eventSection(name: string, schema: JsonSchema): string {
  const node = schema as SchemaNode;
  const rows = fieldRows(node);
  const open = node.additionalProperties !== false;
  return [
    `#### \`${name}\``,
    '',
    ...(node.description ? [node.description, ''] : []),
    '| Field | Type | Always there | Meaning |',
    '|---|---|---|---|',
    ...rows,
    ...(open ? ['', 'Besides the envelope, the payload may carry fields not listed here.'] : []),
  ].join('\n');
}

/** The topics section of docs/realtime.md, from the registry of a server with the default plugins. */
export async function realtimeTopics(): Promise<string> {
  const config = loadConfig({ configDir: join(projectRoot, 'config'), env: {}, overrides: { log: { level: 'silent' }, scheduler: { enabled: false } } });
  const server = new FlowgateServer(config);
  await server.registerPlugins();
  const topics = [...server.contributions.topics.values()].sort((a, b) => a.definition.name.localeCompare(b.definition.name));
  const index = [
    '| Topic | From | Permission (lowest role) | What it carries |',
    '|---|---|---|---|',
    ...topics.map(({ plugin, definition: d }) => {
      const role = d.permission === 'public' ? 'anyone' : server.permissions.lowestRoleFor(d.permission) ?? 'nobody';
      return `| [\`${d.name}\`](#topic-${d.name}) | ${plugin === 'core' ? 'core' : `plugin \`${plugin}\``} | \`${d.permission}\` (${role}) | ${cell(d.summary)} |`;
    }),
  ];
  const sections = topics.map(({ definition: d }) => [
    `### Topic \`${d.name}\``,
    '',
    `${d.summary}. Needs \`${d.permission}\`. Events: ${Object.keys(d.events).map((e) => `\`${e}\``).join(', ')}.`,
    '',
    ...Object.entries(d.events).map(([event, schema]) => eventSection(event, schema)).join('\n\n').split('\n'),
  ].join('\n'));
  return [...index, '', ...sections.join('\n\n').split('\n')].join('\n');
}

/** The example client as it is in `examples/`, fenced. */
export function clientExample(): string {
  return `\`\`\`js\n${readFileSync(join(projectRoot, CLIENT_EXAMPLE), 'utf8').trimEnd()}\n\`\`\``;
}

const between = (name: string) => new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);

/** docs/realtime.md with both generated parts replaced by what the code says now. */
export async function renderRealtimeDoc(current: string): Promise<string> {
  for (const name of ['realtime-topics', 'realtime-client']) {
    if (!between(name).test(current)) throw new Error(`docs/realtime.md lacks the ${name} markers`);
  }
  const topics = await realtimeTopics();
  return current
    .replace(between('realtime-topics'), (_, start: string, end: string) => `${start}${topics}\n${end}`)
    .replace(between('realtime-client'), (_, start: string, end: string) => `${start}${clientExample()}\n${end}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--write')) {
    writeFileSync(DOC, await renderRealtimeDoc(readFileSync(DOC, 'utf8')));
    console.log('wrote docs/realtime.md');
  } else {
    console.log(await realtimeTopics());
  }
}
