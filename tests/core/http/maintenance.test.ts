import assert from 'node:assert/strict';
import { Maintenance } from '../../../core/index.js';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';

interface Envelope { error: { code: string; details: { reason: string } } }

describe('core http: changes during maintenance (a restore)', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'maintenance_http' }); });
  after(async () => {
    await t.server.get(Maintenance).exit();
    await t.stop();
  });

  const greet = (name: string) => t.request<Envelope>('post', '/api/hello/greetings', { as: 'agent', body: { name } });
  const names = async () => (await t.request<{ items: Array<{ name: string }> }>('get', '/api/hello/greetings', { as: 'agent' })).body.items.map((g) => g.name);

  it('refuses every change with 503 MAINTENANCE and Retry-After, changes nothing, keeps serving reads, and accepts changes again after', async () => {
    await t.server.get(Maintenance).enter('restoring backup b-1');
    const refused = await greet('During');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'MAINTENANCE');
    assert.equal(refused.body.error.details.reason, 'restoring backup b-1');
    assert.equal(refused.headers.get('retry-after'), '30');
    const removal = await t.request<Envelope>('delete', '/api/hello/greetings/x', { as: 'agent' });
    assert.equal(removal.status, 503);

    const read = await t.request('get', '/api/hello/greetings', { as: 'agent' });
    assert.equal(read.status, 200);
    assert.ok(!(await names()).includes('During'));

    await t.server.get(Maintenance).exit();
    assert.equal((await greet('After')).status, 201);
    assert.ok((await names()).includes('After'));
  });
});
