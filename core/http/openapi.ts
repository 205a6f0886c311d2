/**
 * Builds the OpenAPI 3.1 document from the route declarations: the same schemas that validate
 * requests describe them here, so the document cannot drift from the server.
 */
import type { JsonSchema, RouteDefinition } from '../plugin-api.js';
import { commonSchemas } from './route-mounter.js';

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
}

/** Turns an object schema of path or query fields into OpenAPI parameters. */
function toParameters(schema: JsonSchema | undefined, location: 'path' | 'query'): unknown[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' ? true : required.has(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/**
 * A schema with an `$id` (the workflow schema, say) may be defined only once in an OpenAPI 3.1
 * document, yet several routes use it: the first use puts it under components.schemas, every
 * use becomes a `$ref` to it.
 */
class SharedSchemas {
  readonly components: Record<string, unknown> = {};
  private readonly nameById = new Map<string, string>();

  /** A copy of `schema` in which every subschema with an `$id` is a reference. */
  use(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map((item) => this.use(item));
    if (!schema || typeof schema !== 'object') return schema;
    const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, this.use(value)]));
    const id = (schema as { $id?: unknown }).$id;
    if (typeof id !== 'string') return copy;
    let name = this.nameById.get(id);
    if (!name) {
      const base = (id.split(/[/#]/).filter(Boolean).pop() ?? 'Schema').replace(/\.json$/, '').replace(/[^A-Za-z0-9_.-]/g, '_');
      name = base in this.components ? `${base}_${this.nameById.size}` : base;
      this.nameById.set(id, name);
      this.components[name] = copy;
    }
    return { $ref: `#/components/schemas/${name}` };
  }
}

export function buildOpenApi(routes: ReadonlyArray<{ plugin: string; route: RouteDefinition }>, version: string): OpenApiDocument {
  const shared = new SharedSchemas();
  const paths: OpenApiDocument['paths'] = {};
  for (const { plugin, route } of routes) {
    const path = route.path.replace(/:([A-Za-z_]\w*)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema || response.contentType
          ? { content: Object.fromEntries([response.contentType ?? 'application/json'].flat().map((type) => [type, { schema: shared.use(response.schema ?? {}) }])) }
          : {}),
      };
    }
    const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    responses['400'] ??= errorResponse('The request is malformed or fails its schema');
    if (route.permission !== 'public') {
      responses['401'] ??= errorResponse('Missing, expired or invalid credentials');
      responses['403'] ??= errorResponse('The caller lacks the required permission');
    }
    responses['429'] ??= errorResponse('Too many requests; see Retry-After');
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: `${route.method}${path.replace(/[{}]/g, '').split(/[/-]/).filter(Boolean).map((s) => s[0]?.toUpperCase() + s.slice(1)).join('')}`,
      summary: route.summary,
      tags: route.tags ?? [plugin],
      'x-permission': route.permission,
      'x-plugin': plugin,
      ...(route.permission === 'public' ? { security: [] } : {}),
      parameters: shared.use([...toParameters(route.params, 'path'), ...toParameters(route.query, 'query')]),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: shared.use(route.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flowgate',
      version,
      description: 'Workflow automation for businesses that message customers on WhatsApp. Every route lists the permission it needs in x-permission.',
    },
    paths,
    components: {
      schemas: { Error: commonSchemas.errorEnvelope, ...shared.components },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
    ...({ security: [{ bearer: [] }, { apiKey: [] }] }),
  };
}
