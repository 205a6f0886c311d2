import assert from 'node:assert/strict';
import { orderTemplate, startTemplates, type TemplatesHarness } from './harness.js';

type Json = Record<string, unknown>;
interface ErrorBody { error: { code: string; message: string } }
interface TemplateBody { id: string; name: string; language: string; category: string; status: string; version: number; archivedAt: string | null }

describe('plugin template: the 8 routes over HTTP', () => {
  let h: TemplatesHarness;
  let draftId: string;
  before(async () => {
    h = await startTemplates('tpl_routes');
    draftId = (await h.t.request<TemplateBody>('post', '/api/templates', { as: 'manager', body: orderTemplate('routes_draft') })).body.id;
  });
  after(async () => { await h.stop(); });

  const create = async (name: string, over: Json = {}): Promise<TemplateBody> => {
    const res = await h.t.request<TemplateBody>('post', '/api/templates', { as: 'manager', body: orderTemplate(name, over) });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };

  describe('permissions', () => {
    const routes = (): Array<[string, string, Json | undefined, string, string]> => [
      // method, path, body, lowest role allowed, a role below it
      ['get', '/api/templates', undefined, 'viewer', ''],
      ['get', `/api/templates/${draftId}`, undefined, 'viewer', ''],
      ['post', `/api/templates/${draftId}/preview`, { variables: { header: ['1'], body: ['a', 'b'], buttons: { 0: 'x' } } }, 'viewer', ''],
      ['post', '/api/templates', orderTemplate('perm_create'), 'manager', 'agent'],
      ['put', `/api/templates/${draftId}`, { category: 'UTILITY', components: [{ type: 'BODY', text: 'Hello.' }] }, 'manager', 'agent'],
      ['post', `/api/templates/${draftId}/submit`, undefined, 'manager', 'agent'],
      ['put', `/api/templates/${draftId}/status`, { status: 'PENDING' }, 'admin', 'manager'],
      ['delete', `/api/templates/${draftId}`, undefined, 'manager', 'agent'],
    ];

    it('refuses anyone without credentials (401) and roles below the route\'s permission (403)', async () => {
      for (const [method, path, body, , below] of routes()) {
        const anonymous = await h.t.request<ErrorBody>(method, path, { body });
        assert.equal(anonymous.status, 401, `${method} ${path}`);
        if (!below) continue;
        const forbidden = await h.t.request<ErrorBody>(method, path, { as: below, body });
        assert.equal(forbidden.status, 403, `${method} ${path} as ${below}`);
        assert.equal(forbidden.body.error.code, 'FORBIDDEN');
      }
    });

    it('lets the lowest permitted role in', async () => {
      for (const [method, path, body, role] of routes()) {
        const res = await h.t.request(method, path, { as: role, body });
        assert.ok(res.status >= 200 && res.status < 300, `${method} ${path} as ${role}: ${res.status} ${res.text}`);
      }
    });
  });

  describe('bad input', () => {
    it('answers 4xx with the error envelope', async () => {
      const id = (await create('bad_input')).id;
      const cases: Array<[string, string, { body?: unknown; rawBody?: string; headers?: Record<string, string> }, number, string]> = [
        ['post', '/api/templates', { rawBody: '{"name": ', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
        ['post', '/api/templates', { rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['post', '/api/templates', {}, 400, 'BODY_REQUIRED'],
        ['post', '/api/templates', { body: [] }, 400, 'VALIDATION_FAILED'],
        ['post', '/api/templates', { body: { ...orderTemplate('x'), name: 42 } }, 400, 'VALIDATION_FAILED'],
        ['post', '/api/templates', { body: { ...orderTemplate('proto'), variables: { body: { ['__proto__']: 'x' } } } }, 400, 'FORBIDDEN_KEY'],
        ['get', '/api/templates/not-an-id', {}, 400, 'VALIDATION_FAILED'],
        ['get', '/api/templates/0123456789abcdef01234567', {}, 404, 'TEMPLATE_NOT_FOUND'],
        ['get', '/api/templates?limit=0', {}, 400, 'VALIDATION_FAILED'],
        ['get', '/api/templates?limit=101', {}, 400, 'VALIDATION_FAILED'],
        ['get', '/api/templates?status=LIVE', {}, 400, 'VALIDATION_FAILED'],
        ['get', '/api/templates?category=promo', {}, 400, 'VALIDATION_FAILED'],
        ['get', '/api/templates?cursor=abc', {}, 400, 'VALIDATION_FAILED'],
        ['get', '/api/templates?owner=me', {}, 400, 'VALIDATION_FAILED'],
        ['put', `/api/templates/${id}`, { body: { name: 'renamed', category: 'UTILITY', components: [{ type: 'BODY', text: 'x' }] } }, 400, 'VALIDATION_FAILED'],
        ['put', `/api/templates/${id}`, { body: { components: [{ type: 'BODY', text: 'x' }] } }, 400, 'VALIDATION_FAILED'],
        ['put', '/api/templates/0123456789abcdef01234567', { body: { category: 'UTILITY', components: [{ type: 'BODY', text: 'x' }] } }, 404, 'TEMPLATE_NOT_FOUND'],
        ['delete', '/api/templates/0123456789abcdef01234567', {}, 404, 'TEMPLATE_NOT_FOUND'],
        ['post', `/api/templates/${id}/preview`, {}, 400, 'BODY_REQUIRED'],
        ['post', `/api/templates/${id}/preview`, { body: { values: {} } }, 400, 'VALIDATION_FAILED'],
        ['post', `/api/templates/${id}/preview`, { body: { variables: { footer: ['x'] } } }, 400, 'VALIDATION_FAILED'],
        ['post', `/api/templates/${id}/preview`, { body: { variables: { body: [1, 2] } } }, 400, 'VALIDATION_FAILED'],
        ['post', `/api/templates/${id}/preview`, { body: { version: 0 } }, 400, 'VALIDATION_FAILED'],
        ['post', '/api/templates/0123456789abcdef01234567/submit', {}, 404, 'TEMPLATE_NOT_FOUND'],
        ['put', `/api/templates/${id}/status`, {}, 400, 'BODY_REQUIRED'],
        ['put', `/api/templates/${id}/status`, { body: { status: 'DRAFT' } }, 400, 'VALIDATION_FAILED'],
        ['put', `/api/templates/${id}/status`, { body: { status: 'FLAGGED' } }, 400, 'VALIDATION_FAILED'],
        ['put', `/api/templates/${id}/status`, { body: { status: 'APPROVED', reason: '' } }, 400, 'VALIDATION_FAILED'],
        ['put', `/api/templates/${id}/status`, { body: { status: 'APPROVED', by: 'me' } }, 400, 'VALIDATION_FAILED'],
      ];
      const role: Record<string, string> = { get: 'viewer', post: 'manager', put: 'admin', delete: 'manager' };
      for (const [method, path, options, status, code] of cases) {
        const res = await h.t.request<ErrorBody>(method, path, { as: role[method], ...options });
        assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(options)}: ${res.text}`);
        assert.equal(res.body.error.code, code, `${method} ${path} ${JSON.stringify(options)}`);
      }
    });
  });

  describe('create, read, version, list', () => {
    it('keeps one template per name and language (409), any number of languages per name', async () => {
      await create('welcome_message');
      const twice = await h.t.request<ErrorBody>('post', '/api/templates', { as: 'manager', body: orderTemplate('welcome_message') });
      assert.equal(twice.status, 409);
      assert.equal(twice.body.error.code, 'TEMPLATE_EXISTS');
      const spanish = await h.t.request<TemplateBody>('post', '/api/templates', { as: 'manager', body: orderTemplate('welcome_message', { language: 'es_MX' }) });
      assert.equal(spanish.status, 201);
    });

    it('PUT stores a new version; GET shows every version and the status history', async () => {
      const created = await create('versioned');
      const next = { category: 'MARKETING', components: [{ type: 'BODY', text: 'Sale: {{1}} off.' }], variables: { body: ['20%'] } };
      const updated = await h.t.request<TemplateBody & { components: Json[] }>('put', `/api/templates/${created.id}`, { as: 'manager', body: next });
      assert.equal(updated.status, 200, updated.text);
      assert.deepEqual([updated.body.version, updated.body.category, updated.body.status, updated.body.name], [2, 'MARKETING', 'DRAFT', 'versioned']);
      await h.t.request('put', `/api/templates/${created.id}/status`, { as: 'admin', body: { status: 'REJECTED', reason: 'PROMOTIONAL' } });
      const detail = await h.t.request<{ version: number; components: Json[]; versions: Array<{ version: number; category: string; components: Json[]; createdBy: string }>; statusHistory: Array<{ status: string; reason: string; source: string; by: string }> }>('get', `/api/templates/${created.id}`, { as: 'viewer' });
      assert.equal(detail.status, 200, detail.text);
      assert.deepEqual(detail.body.versions.map((v) => [v.version, v.category]), [[1, 'UTILITY'], [2, 'MARKETING']]);
      assert.deepEqual(detail.body.versions[0]?.components, (orderTemplate('versioned').components as Json[]));
      assert.deepEqual(detail.body.components, next.components);
      assert.equal(detail.body.versions[1]?.createdBy, 'test-manager');
      assert.deepEqual(detail.body.statusHistory.map((c) => [c.status, c.reason, c.source, c.by]), [['REJECTED', 'PROMOTIONAL', 'api', 'test-admin']]);
    });

    it('makes consecutive versions when edits race', async () => {
      const created = await create('raced_edit');
      const edit = (text: string) => h.t.request('put', `/api/templates/${created.id}`, { as: 'manager', body: { category: 'UTILITY', components: [{ type: 'BODY', text }] } });
      const results = await Promise.all([edit('First.'), edit('Second.'), edit('Third.')]);
      assert.ok(results.every((r) => r.status === 200 || r.status === 409), results.map((r) => r.text).join('\n'));
      assert.ok(results.filter((r) => r.status === 409).every((r) => (r.body as ErrorBody).error.code === 'TEMPLATE_VERSION_CONFLICT'));
      const detail = await h.t.request<{ version: number; versions: Array<{ version: number }> }>('get', `/api/templates/${created.id}`, { as: 'viewer' });
      const versions = detail.body.versions.map((v) => v.version);
      assert.deepEqual(versions, versions.map((_, i) => i + 1));
      assert.equal(detail.body.version, versions.length);
      assert.equal(versions.length, 1 + results.filter((r) => r.status === 200).length);
    });

    it('PUT /status records a manual status once; the same status again changes nothing', async () => {
      const created = await create('manual_status');
      const first = await h.t.request<{ changed: boolean; template: TemplateBody }>('put', `/api/templates/${created.id}/status`, { as: 'admin', body: { status: 'APPROVED' } });
      assert.deepEqual([first.status, first.body.changed, first.body.template.status], [200, true, 'APPROVED']);
      const again = await h.t.request<{ changed: boolean }>('put', `/api/templates/${created.id}/status`, { as: 'admin', body: { status: 'APPROVED' } });
      assert.equal(again.body.changed, false);
    });

    it('lists newest first with filters and a cursor', async () => {
      const names = ['list_a', 'list_b', 'list_c', 'list_d', 'list_e'];
      const made: TemplateBody[] = [];
      for (const [i, name] of names.entries()) made.push(await create(name, { language: i % 2 ? 'fr' : 'de', category: i < 2 ? 'MARKETING' : 'UTILITY' }));
      await h.t.request('put', `/api/templates/${made[4]?.id}/status`, { as: 'admin', body: { status: 'PAUSED' } });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.t.request<{ items: TemplateBody[]; nextCursor?: string }>('get', `/api/templates?limit=2&language=de${cursor ? `&cursor=${cursor}` : ''}`, { as: 'viewer' });
        assert.equal(page.status, 200, page.text);
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((i) => i.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, ['list_e', 'list_c', 'list_a']);
      const marketingFr = await h.t.request<{ items: TemplateBody[] }>('get', '/api/templates?category=MARKETING&language=fr', { as: 'viewer' });
      assert.deepEqual(marketingFr.body.items.map((i) => i.name), ['list_b']);
      const paused = await h.t.request<{ items: TemplateBody[] }>('get', '/api/templates?status=PAUSED', { as: 'viewer' });
      assert.deepEqual(paused.body.items.map((i) => i.name), ['list_e']);
    });
  });

  describe('DELETE: a never-submitted template is deleted, a submitted one archived', () => {
    it('deletes a draft for good, and its name can be used again', async () => {
      const draft = await create('short_lived');
      const removed = await h.t.request<{ id: string; outcome: string }>('delete', `/api/templates/${draft.id}`, { as: 'manager' });
      assert.deepEqual(removed.body, { id: draft.id, outcome: 'deleted' });
      assert.equal((await h.t.request('get', `/api/templates/${draft.id}`, { as: 'viewer' })).status, 404);
      await create('short_lived');
    });

    it('archives a submitted template: hidden from lists, frozen, its name free again', async () => {
      const created = await create('kept_for_history');
      assert.equal((await h.t.request('post', `/api/templates/${created.id}/submit`, { as: 'manager' })).status, 200);
      const removed = await h.t.request<{ outcome: string }>('delete', `/api/templates/${created.id}`, { as: 'manager' });
      assert.equal(removed.body.outcome, 'archived');
      const again = await h.t.request<{ outcome: string }>('delete', `/api/templates/${created.id}`, { as: 'manager' });
      assert.deepEqual([again.status, again.body.outcome], [200, 'archived']);
      const one = await h.t.request<TemplateBody>('get', `/api/templates/${created.id}`, { as: 'viewer' });
      assert.ok(one.body.archivedAt);
      const listed = await h.t.request<{ items: TemplateBody[] }>('get', '/api/templates?name=kept_for_history', { as: 'viewer' });
      assert.equal(listed.body.items.length, 0);
      const withArchived = await h.t.request<{ items: TemplateBody[] }>('get', '/api/templates?name=kept_for_history&archived=true', { as: 'viewer' });
      assert.deepEqual(withArchived.body.items.map((i) => i.id), [created.id]);
      const edit = await h.t.request<ErrorBody>('put', `/api/templates/${created.id}`, { as: 'manager', body: { category: 'UTILITY', components: [{ type: 'BODY', text: 'x' }] } });
      assert.equal(edit.body.error.code, 'TEMPLATE_ARCHIVED');
      const submit = await h.t.request<ErrorBody>('post', `/api/templates/${created.id}/submit`, { as: 'manager' });
      assert.equal(submit.body.error.code, 'TEMPLATE_ARCHIVED');
      const successor = await create('kept_for_history');
      assert.notEqual(successor.id, created.id);
    });
  });

  it('publishes the routes with their schemas in the OpenAPI document', async () => {
    const doc = await h.t.request<{ paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> }>('get', '/api/openapi.json');
    const paths = doc.body.paths;
    const templates = Object.entries(paths).filter(([path]) => path.startsWith('/api/templates')).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    assert.deepEqual(templates, [
      'DELETE /api/templates/{id}', 'GET /api/templates', 'GET /api/templates/{id}', 'POST /api/templates', 'POST /api/templates/{id}/preview',
      'POST /api/templates/{id}/submit', 'PUT /api/templates/{id}', 'PUT /api/templates/{id}/status',
    ]);
    assert.match(JSON.stringify(paths['/api/templates']?.post?.requestBody), /QUICK_REPLY/);
  });
});
