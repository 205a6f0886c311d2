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

export function buildOpenApi(routes: ReadonlyArray<{ plugin: string; route: RouteDefinition }>, version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const { plugin, route } of routes) {
    const path = route.path.replace(/:([A-Za-z_]\w*)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema || response.contentType ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema ?? {} } } } : {}),
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
      parameters: [...toParameters(route.params, 'path'), ...toParameters(route.query, 'query')],
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
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
      schemas: { Error: commonSchemas.errorEnvelope },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
    ...({ security: [{ bearer: [] }, { apiKey: [] }] }),
  };
}
