import assert from 'node:assert/strict';
import { CoreEvents, type CoreEventMap } from '../../../core/index.js';
import { templateStatus, WABA_ID } from '../../doubles/whatsapp-payloads.js';
import { eventually, nextEvent } from '../../helpers/test-host.js';
import { InboundProcessor } from '../../../plugins/whatsapp/services/inbound-processor.js';
import { splitWebhook } from '../../../plugins/whatsapp/webhook/envelope.js';
import { processed } from '../whatsapp/harness.js';
import { orderTemplate, startTemplates, type TemplatesHarness } from './harness.js';

type Json = Record<string, unknown>;
interface TemplateBody { id: string; name: string; status: string; statusReason: string | null; version: number; submittedVersion: number | null; providerTemplateId: string | null; category: string }
interface DeniedBody { error: { code: string; message: string; details: { policy: string; code: string; reason: string } } }

const RECIPIENT = '+447700900123';
const sendTemplate = (name: string, language = 'en_US'): Json => ({ to: RECIPIENT, template: { name, language, variables: ['Ada', '#1'] } });
const minutesAgo = (minutes: number): number => Math.floor(Date.now() / 1000) - minutes * 60;

describe('plugin template: submission, review status and sending eligibility', () => {
  let h: TemplatesHarness;
  const analytics: Array<CoreEventMap['analytics']> = [];
  before(async () => {
    h = await startTemplates('tpl_review');
    h.t.server.get(CoreEvents).on('analytics', (event) => { analytics.push(event); });
  });
  after(async () => { await h.stop(); });

  async function create(name: string, over: Json = {}): Promise<TemplateBody> {
    const res = await h.t.request<TemplateBody>('post', '/api/templates', { as: 'manager', body: orderTemplate(name, over) });
    assert.equal(res.status, 201, res.text);
    return res.body;
  }
  const submit = (id: string) => h.t.request<TemplateBody & { error?: { code: string; details: Json } }>('post', `/api/templates/${id}/submit`, { as: 'manager' });
  const get = async (id: string) => (await h.t.request<TemplateBody & { statusHistory: Json[]; versions: Json[] }>('get', `/api/templates/${id}`, { as: 'viewer' })).body;

  describe('submit', () => {
    it('sends the template to the Graph API in its creation shape and records the provider id, status PENDING', async () => {
      const created = await create('order_update');
      const res = await submit(created.id);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, 'PENDING');
      assert.equal(res.body.submittedVersion, 1);
      assert.match(res.body.providerTemplateId ?? '', /^\d+$/);
      const request = h.graph.requests.at(-1);
      assert.equal(request?.path, `/v25.0/${WABA_ID}/message_templates`);
      assert.deepEqual(request?.body, {
        name: 'order_update', language: 'en_US', category: 'UTILITY', parameter_format: 'positional',
        components: [
          { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['#1042'] } },
          { type: 'BODY', text: 'Hi {{1}}, your order {{2}} has shipped.', example: { body_text: [['Jessica', '#1042']] } },
          { type: 'FOOTER', text: 'Reply STOP to opt out' },
          { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}', example: ['1042'] }, { type: 'QUICK_REPLY', text: 'Thanks' }] },
        ],
      });
      const detail = await get(created.id);
      assert.deepEqual(detail.statusHistory.map((c) => [c.previous, c.status, c.source]), [['DRAFT', 'PENDING', 'submission']]);
      assert.ok(detail.versions[0]?.submittedAt);
      assert.ok(analytics.some((e) => e.type === 'template.submitted' && e.id === `template.submitted:${created.id}:1` && e.dimensions.templateName === 'order_update'));
      const again = await submit(created.id);
      assert.equal(again.status, 409);
      assert.equal(again.body.error?.code, 'TEMPLATE_ALREADY_SUBMITTED');
    });

    it('sends named examples in Meta\'s named shape', async () => {
      const res = await h.t.request<TemplateBody>('post', '/api/templates', {
        as: 'manager', body: { name: 'named_hello', language: 'en', category: 'MARKETING', parameterFormat: 'named', components: [{ type: 'BODY', text: 'Hi {{first_name}}!' }], variables: { body: { first_name: 'Jessica' } } },
      });
      assert.equal((await submit(res.body.id)).status, 200);
      assert.deepEqual(h.graph.requests.at(-1)?.body.components, [{ type: 'BODY', text: 'Hi {{first_name}}!', example: { body_text_named_params: [{ param_name: 'first_name', example: 'Jessica' }] } }]);
      assert.equal(h.graph.requests.at(-1)?.body.parameter_format, 'named');
    });

    it('takes the category Meta gives (a UTILITY template judged MARKETING)', async () => {
      const created = await create('promo_in_disguise');
      h.graph.templateCategory = 'MARKETING';
      try {
        const res = await submit(created.id);
        assert.equal(res.body.category, 'MARKETING');
      } finally {
        h.graph.templateCategory = null;
      }
    });

    it('sends a later version as an edit of the template Meta has, back to PENDING', async () => {
      const created = await create('edited_later');
      const first = await submit(created.id);
      await h.t.request('put', `/api/templates/${created.id}/status`, { as: 'admin', body: { status: 'APPROVED' } });
      const updated = await h.t.request<TemplateBody>('put', `/api/templates/${created.id}`, {
        as: 'manager', body: { category: 'UTILITY', components: [{ type: 'BODY', text: 'Your order {{1}} is on its way.' }], variables: { body: ['#7'] } },
      });
      assert.deepEqual([updated.body.version, updated.body.submittedVersion, updated.body.status], [2, 1, 'APPROVED'], 'the provider still has version 1');
      const res = await submit(created.id);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.status, res.body.submittedVersion, res.body.providerTemplateId], ['PENDING', 2, first.body.providerTemplateId]);
      assert.equal(h.graph.requests.at(-1)?.path, `/v25.0/${first.body.providerTemplateId}`);
      assert.deepEqual(h.graph.requests.at(-1)?.body, { category: 'UTILITY', components: [{ type: 'BODY', text: 'Your order {{1}} is on its way.', example: { body_text: [['#7']] } }] });
    });

    it('maps Meta\'s refusals: 422 refused, 503 unavailable, 502 unknown; the template stays a draft', async () => {
      const created = await create('refused_once');
      h.graph.failNext({ code: 100, message: 'Invalid parameter', details: 'Body text is too promotional' });
      const refused = await submit(created.id);
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error?.code, 'TEMPLATE_SUBMIT_REFUSED');
      assert.equal(refused.body.error?.details.providerCode, 100);
      h.graph.failNext({ code: 131016, httpStatus: 503, message: 'Service unavailable' });
      const unavailable = await submit(created.id);
      assert.equal(unavailable.status, 503);
      assert.equal(unavailable.body.error?.code, 'TEMPLATE_PROVIDER_UNAVAILABLE');
      h.graph.delayMs = 2_300;
      const uncertain = await submit(created.id);
      h.graph.delayMs = 0;
      assert.equal(uncertain.status, 502);
      assert.equal(uncertain.body.error?.code, 'TEMPLATE_SUBMIT_UNCERTAIN');
      assert.deepEqual([(await get(created.id)).status, (await get(created.id)).providerTemplateId], ['DRAFT', null]);
    });

    it('submits once when two submissions race', async () => {
      const created = await create('raced_submit');
      const before = h.graph.requests.length;
      h.graph.delayMs = 300;
      const results = await Promise.all([submit(created.id), submit(created.id)]);
      h.graph.delayMs = 0;
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
      assert.equal(h.graph.requests.slice(before).filter((r) => r.edge === 'message_templates').length, 1);
    });
  });

  describe('the status webhook drives sending eligibility', () => {
    let template: TemplateBody;
    before(async () => {
      const created = await create('shipping_notice');
      template = (await submit(created.id)).body;
    });

    it('denies a PENDING template in POST /api/messages with a reason naming it and its status', async () => {
      const res = await h.t.request<DeniedBody>('post', '/api/messages', { as: 'agent', body: sendTemplate('shipping_notice') });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error.code, 'WHATSAPP_SEND_DENIED');
      assert.equal(res.body.error.details.policy, 'template.approved@1');
      assert.equal(res.body.error.details.code, 'TEMPLATE_NOT_APPROVED');
      assert.match(res.body.error.details.reason, /shipping_notice \(en_US\) is PENDING/);
    });

    it('a signed APPROVED webhook makes it sendable, announced on the templates topic', async () => {
      const socket = await h.t.socket({ as: 'viewer' });
      await socket.emitWithAck('subscribe', ['templates']);
      const announced = nextEvent<Json>(socket, 'template.status', 5_000, (e) => e.id === template.id);
      // Meta writes en-US in this webhook.
      assert.equal(await h.deliver(templateStatus('APPROVED', { id: template.providerTemplateId as string, name: 'shipping_notice', language: 'en-US', time: minutesAgo(5) })), 200);
      const event = await announced;
      assert.deepEqual([event.status, event.previous, event.source, event.name], ['APPROVED', 'PENDING', 'provider', 'shipping_notice']);
      const sent = await h.t.request<{ status: string }>('post', '/api/messages', { as: 'agent', body: sendTemplate('shipping_notice') });
      assert.equal(sent.status, 201, sent.text);
      assert.equal(h.graph.sends.at(-1)?.body.type, 'template');
      assert.ok(analytics.some((e) => e.type === 'template.status_changed' && e.dimensions.status === 'APPROVED' && e.id.startsWith(`template.status_changed:${template.id}:APPROVED:`)));
    });

    it('PAUSED denies again, with the reason, in single sends, bulk sends and workflow steps', async () => {
      await h.deliver(templateStatus('PAUSED', { id: template.providerTemplateId as string, name: 'shipping_notice', reason: 'FIRST_PAUSE', time: minutesAgo(2) }));
      const single = await h.t.request<DeniedBody>('post', '/api/messages', { as: 'agent', body: sendTemplate('shipping_notice') });
      assert.equal(single.status, 422);
      assert.equal(single.body.error.details.reason, 'Template shipping_notice (en_US) is PAUSED (FIRST_PAUSE); only APPROVED templates can be sent');

      const bulk = await h.t.request<{ campaign: { id: string } }>('post', '/api/messages/bulk', {
        as: 'manager', body: { template: { name: 'shipping_notice', language: 'en_US', variables: ['Ada', '#1'] }, recipients: ['+447700900201', '+447700900202'] },
      });
      assert.equal(bulk.status, 202, bulk.text);
      const recipients = await eventually(async () => {
        const progress = await h.t.request<{ recipients: Array<{ status: string; policyDecisions: Array<{ policy: string; decision: string; reason?: string }> }> }>('get', `/api/messages/bulk/${bulk.body.campaign.id}`, { as: 'agent' });
        return progress.body.recipients.length === 2 && progress.body.recipients.every((r) => r.status === 'denied') ? progress.body.recipients : null;
      });
      for (const recipient of recipients) {
        assert.deepEqual(recipient.policyDecisions.map((d) => [d.policy, d.decision]), [['template.approved@1', 'deny']]);
        assert.match(recipient.policyDecisions[0]?.reason ?? '', /shipping_notice \(en_US\) is PAUSED/);
      }

      const dryRun = await h.t.request<{ status: string; steps: Array<{ stepId: string; status: string; decisions: Array<{ policy: string; decision: string; code?: string; reason?: string }> }> }>('post', '/api/workflows/order-shipped/test', {
        as: 'admin',
        body: {
          event: {},
          workflow: {
            id: 'order-shipped', version: 1, enabled: true, trigger: { type: 'flow.manual@1', config: {} },
            steps: [{ id: 'notify', action: 'whatsapp.send@1', policies: [{ type: 'template.approved@1' }], input: sendTemplate('shipping_notice') }],
          },
        },
      });
      assert.equal(dryRun.status, 200, dryRun.text);
      const step = dryRun.body.steps.find((s) => s.stepId === 'notify');
      assert.equal(step?.status, 'denied');
      assert.deepEqual(step?.decisions.map((d) => [d.policy, d.decision, d.code]), [['template.approved@1', 'deny', 'TEMPLATE_NOT_APPROVED']]);
    });

    it('ignores a webhook older than the last one applied (Meta\'s retries arrive out of order)', async () => {
      await h.deliver(templateStatus('APPROVED', { id: template.providerTemplateId as string, name: 'shipping_notice', time: minutesAgo(3) }));
      assert.equal((await get(template.id)).status, 'PAUSED');
      await h.deliver(templateStatus('REINSTATED', { id: template.providerTemplateId as string, name: 'shipping_notice', time: minutesAgo(1) }));
      assert.equal((await get(template.id)).status, 'APPROVED');
    });

    it('REJECTED and DISABLED deny; events without effect on sending leave the status', async () => {
      await h.deliver(templateStatus('FLAGGED', { id: template.providerTemplateId as string, name: 'shipping_notice', time: minutesAgo(0.5) }));
      assert.equal((await get(template.id)).status, 'APPROVED');
      await h.deliver(templateStatus('DISABLED', { id: template.providerTemplateId as string, name: 'shipping_notice' }));
      const res = await h.t.request<DeniedBody>('post', '/api/messages', { as: 'agent', body: sendTemplate('shipping_notice') });
      assert.match(res.body.error.details.reason, /is DISABLED/);
      const rejected = await create('rejected_one');
      const submitted = (await submit(rejected.id)).body;
      await h.deliver(templateStatus('REJECTED', { id: submitted.providerTemplateId as string, name: 'rejected_one', reason: 'INVALID_FORMAT' }));
      const detail = await get(rejected.id);
      assert.deepEqual([detail.status, detail.statusReason], ['REJECTED', 'INVALID_FORMAT']);
    });

    it('records status changes in the audit log', async () => {
      const audit = await h.t.request<{ items: Array<{ action: string; actor: { kind: string }; resource: { type: string; id: string }; summary: { after: { details: Json } } }> }>('get', `/api/audit/logs?action=template.status_changed&resourceId=${template.id}`, { as: 'manager' });
      assert.equal(audit.status, 200, audit.text);
      const transitions = audit.body.items.map((e) => [e.summary.after.details.previous, e.summary.after.details.status, e.actor.kind]).reverse();
      assert.deepEqual(transitions, [['DRAFT', 'PENDING', 'user'], ['PENDING', 'APPROVED', 'system'], ['APPROVED', 'PAUSED', 'system'], ['PAUSED', 'APPROVED', 'system'], ['APPROVED', 'DISABLED', 'system']]);
    });

    it('applies a status update stored but not processed when the process stopped, at the next start', async () => {
      const created = await create('left_behind');
      const submitted = (await submit(created.id)).body;
      // What a crash between storing the webhook and processing it leaves behind.
      const inbound = h.t.server.get(InboundProcessor);
      const { stored } = await inbound.store(splitWebhook(templateStatus('APPROVED', { id: submitted.providerTemplateId as string, name: 'left_behind' })));
      assert.equal(stored.length, 1);
      await h.restart();
      await processed(h.t);
      assert.equal((await get(created.id)).status, 'APPROVED');
    });

    it('a webhook for a template Flowgate does not keep changes nothing and is answered 200', async () => {
      assert.equal(await h.deliver(templateStatus('APPROVED', { id: '999999', name: 'made_elsewhere' })), 200);
    });
  });

  describe('what the policy lets through', () => {
    it('text messages pass; unknown and archived templates are denied with their own codes', async () => {
      const text = await h.t.request('post', '/api/messages', { as: 'agent', body: { to: RECIPIENT, text: 'Hello' } });
      assert.equal(text.status, 201, text.text);
      const unknown = await h.t.request<DeniedBody>('post', '/api/messages', { as: 'agent', body: sendTemplate('never_created') });
      assert.equal(unknown.body.error.details.code, 'TEMPLATE_UNKNOWN');
      const created = await create('soon_archived');
      await submit(created.id);
      await h.t.request('put', `/api/templates/${created.id}/status`, { as: 'admin', body: { status: 'APPROVED' } });
      assert.equal((await h.t.request('post', '/api/messages', { as: 'agent', body: sendTemplate('soon_archived') })).status, 201);
      const removed = await h.t.request<{ outcome: string }>('delete', `/api/templates/${created.id}`, { as: 'manager' });
      assert.equal(removed.body.outcome, 'archived');
      const archived = await h.t.request<DeniedBody>('post', '/api/messages', { as: 'agent', body: sendTemplate('soon_archived') });
      assert.equal(archived.body.error.details.code, 'TEMPLATE_ARCHIVED');
    });

    it('with allowUnknownTemplates, lets templates Flowgate does not keep through; without a business account, submitting says what is missing', async () => {
      const other = await startTemplates('tpl_unknown', { allowUnknownTemplates: true }, { businessAccount: false });
      try {
        const sent = await other.t.request('post', '/api/messages', { as: 'agent', body: sendTemplate('made_in_whatsapp_manager') });
        assert.equal(sent.status, 201, sent.text);
        const created = await other.t.request<TemplateBody>('post', '/api/templates', { as: 'manager', body: orderTemplate('kept_here') });
        await other.t.request('put', `/api/templates/${created.body.id}/status`, { as: 'admin', body: { status: 'PAUSED' } });
        const paused = await other.t.request<DeniedBody>('post', '/api/messages', { as: 'agent', body: sendTemplate('kept_here') });
        assert.equal(paused.body.error.details.code, 'TEMPLATE_NOT_APPROVED', 'templates it keeps are still checked');
        const submit = await other.t.request<{ error: { code: string } }>('post', `/api/templates/${created.body.id}/submit`, { as: 'manager' });
        assert.equal(submit.status, 422);
        assert.equal(submit.body.error.code, 'WHATSAPP_NO_BUSINESS_ACCOUNT');
      } finally {
        await other.stop();
      }
    });
  });
});
