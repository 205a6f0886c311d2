import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { CORE_PROBE_PLUGIN, startTestServer, type TestServer } from '../../helpers/test-host.js';

interface Operation { 'x-permission': string; 'x-plugin': string; operationId: string; parameters: Array<{ name: string; in: string }>; requestBody?: unknown; responses: Record<string, unknown> }
interface Document { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { $id?: string }> } }

describe('core/http/openapi', () => {
  let t: TestServer;
  let document: Document;
  before(async () => {
    t = await startTestServer({ label: 'openapi', plugins: ['hello', CORE_PROBE_PLUGIN] });
    const response = await t.request<Document>('get', '/api/openapi.json');
    assert.equal(response.status, 200);
    document = response.body;
  });
  after(async () => { await t?.stop(); });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(document) as unknown as Record<string, unknown>);
    assert.equal(document.openapi, '3.1.0');
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  it('lists every declared route, with its permission and plugin', () => {
    const declared = t.server.contributions.routes;
    assert.ok(declared.length >= 10);
    for (const { plugin, route } of declared) {
      const operation = document.paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method];
      assert.ok(operation, `${route.method.toUpperCase()} ${route.path} is in the document`);
      assert.equal(operation['x-permission'], route.permission);
      assert.equal(operation['x-plugin'], plugin);
    }
    const documented = Object.values(document.paths).reduce((n, operations) => n + Object.keys(operations).length, 0);
    assert.equal(documented, declared.length, 'and nothing else');
  });

  it('describes parameters, bodies and error responses from the same schemas that validate requests', () => {
    const record = document.paths['/api/core-probe/records/{id}']?.get;
    assert.deepEqual(record?.parameters.map((p) => `${p.in}:${p.name}`), ['path:id', 'query:fields']);
    const echo = document.paths['/api/core-probe/echo']?.post;
    assert.ok(echo?.requestBody);
    assert.ok(echo.responses['400'] && echo.responses['401'] && echo.responses['403']);
    assert.equal(document.paths['/api/health']?.get?.responses['401'], undefined, 'public routes need no credentials');
    assert.equal(new Set(Object.values(document.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId))).size,
      t.server.contributions.routes.length, 'operation ids are unique');
  });

  it('defines a schema with an $id once, under components, and refers to it from every route that uses it', () => {
    const text = JSON.stringify(document);
    const ids = [...text.matchAll(/"\$id":"([^"]+)"/g)].map((match) => match[1]);
    assert.ok(ids.length > 0, 'the workflow schema has an $id');
    assert.equal(new Set(ids).size, ids.length);
    const named = Object.entries(document.components.schemas).find(([, schema]) => schema.$id === ids[0])?.[0];
    assert.ok(named && text.split(`"$ref":"#/components/schemas/${named}"`).length > 2, 'referenced from more than one place');
  });

  it('serves /docs, a page that reads the document', async () => {
    const page = await t.request('get', '/docs');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.text, /openapi\.json/);
    const script = await t.request('get', '/docs/reader.js');
    assert.equal(script.status, 200);
  });
});
