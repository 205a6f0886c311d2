import assert from 'node:assert/strict';
import type { Model } from 'mongoose';
import { TemplateVersionModel, versionId, type TemplateVersion } from '../../../plugins/templates/models/template-version.js';
import { orderTemplate, startTemplates, type TemplatesHarness } from './harness.js';

interface TemplateBody { id: string; version: number; components: unknown[] }
interface Detail extends TemplateBody { versions: Array<{ version: number; components: unknown[] }> }

describe('plugin template: an edit interrupted between storing its version and moving the template to it', () => {
  let h: TemplatesHarness;
  before(async () => { h = await startTemplates('tpl_interrupted_edit'); });
  after(async () => { await h.stop(); });

  it('leaves the template editable, with the interrupted version as the current one', async () => {
    const created = await h.t.request<TemplateBody>('post', '/api/templates', { as: 'manager', body: orderTemplate('interrupted_edit') });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    // What a process killed inside PUT leaves: version 2 stored, the template still at version 1.
    const interrupted = [{ type: 'BODY' as const, text: 'Your parcel is on its way.' }];
    const versions = h.t.server.get<Model<TemplateVersion>>(TemplateVersionModel.token);
    await versions.create({
      _id: versionId(id, 2), templateId: id, version: 2, category: 'UTILITY', parameterFormat: 'positional', components: interrupted, variables: {},
      createdBy: 'test-manager', createdAt: new Date(), submittedAt: null,
    });

    const edited = [{ type: 'BODY', text: 'Your parcel has arrived.' }];
    const edit = () => h.t.request<TemplateBody>('put', `/api/templates/${id}`, { as: 'manager', body: { category: 'UTILITY', components: edited } });
    const first = await edit();
    // Told to reload (the template moved to the interrupted version), the editor saves again.
    const saved = first.status === 409 ? await edit() : first;
    assert.equal(saved.status, 200, `${first.text}\n${saved.text}`);
    assert.equal(saved.body.version, 3);

    const detail = await h.t.request<Detail>('get', `/api/templates/${id}`, { as: 'viewer' });
    assert.deepEqual(detail.body.versions.map((v) => v.version), [1, 2, 3]);
    assert.deepEqual(detail.body.versions[1]?.components, interrupted, 'the interrupted version is kept');
    assert.equal(detail.body.version, 3);
    assert.deepEqual(detail.body.components, edited);
  });
});
