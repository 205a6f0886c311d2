import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';
import { orderTemplate } from './harness.js';

interface Check { allowed: boolean; decision: string; decidedBy: string | null; reason: string; decisions: Array<{ policy: string; decision: string; code?: string }> }

/** GET /api/compliance/check names the template's approval as the deciding rule when a template is given. */
describe('plugin templates: in the compliance check', () => {
  let t: TestServer;
  let id: string;
  const phone = '447700900777';
  before(async () => {
    process.env.CONSENT_ERASURE_KEY ??= 'templates-check-erasure-key';
    t = await startTestServer({ label: 'template_check', plugins: ['audit', 'flow', 'whatsapp', 'consent', 'templates'] });
    const created = await t.request<{ id: string }>('post', '/api/templates', { as: 'manager', body: orderTemplate('order_check') });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    id = created.body.id;
    const optIn = await t.request('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: 'template-check-opt-in', evidence: { note: 'form' } } });
    assert.ok(optIn.status < 300, JSON.stringify(optIn.body));
  });
  after(async () => { await t?.stop(); });

  const check = (template?: string) => t.request<Check>('get', `/api/compliance/check?phone=${phone}&category=utility${template ? `&template=${template}&language=en_US` : ''}`, { as: 'agent' });
  const setStatus = (status: string) => t.request('put', `/api/templates/${id}/status`, { as: 'admin', body: { status } });

  it('leaves template approval out when no template is named', async () => {
    const res = await check();
    assert.equal(res.status, 200);
    assert.ok(!res.body.decisions.some((d) => d.policy === 'template.approved@1'));
  });

  it('denies for a template that is not approved, naming the rule, and allows once it is', async () => {
    assert.equal((await setStatus('PAUSED')).status, 200);
    const paused = await check('order_check');
    assert.equal(paused.body.decidedBy, 'template.approved@1');
    assert.equal(paused.body.decision, 'deny');
    assert.match(paused.body.reason, /order_check \(en_US\) is PAUSED/);

    assert.equal((await setStatus('APPROVED')).status, 200);
    const approved = await check('order_check');
    assert.deepEqual(approved.body.decisions.find((d) => d.policy === 'template.approved@1')?.decision, 'allow');
    assert.notEqual(approved.body.decidedBy, 'template.approved@1');
  });

  it('refuses a malformed template name with 400', async () => {
    const res = await t.request('get', `/api/compliance/check?phone=${phone}&template=Not%20A%20Name`, { as: 'agent' });
    assert.equal(res.status, 400);
  });
});
