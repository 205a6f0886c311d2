import assert from 'node:assert/strict';
import { createLogger } from 'winston';
import type { RunContext } from '../../../core/index.js';
import { SendAction } from '../../../plugins/whatsapp/actions/send.js';
import { ReplyAction } from '../../../plugins/whatsapp/actions/reply.js';
import { MarkReadAction } from '../../../plugins/whatsapp/actions/mark-read.js';
import { WindowPolicy } from '../../../plugins/whatsapp/policies/window.js';
import { GraphClient } from '../../../plugins/whatsapp/graph/graph-client.js';
import { inboundText, PHONE_NUMBER_ID, unix } from '../../doubles/whatsapp-payloads.js';
import { eventually, startWhatsapp, type WhatsappHarness } from './harness.js';

interface MessageView { id: string; status: string; providerMessageId?: string; attempts: number; error?: { code: number; retryable: boolean; category: string }; policyDecisions?: Array<{ policy: string; decision: string }>; scheduledFor?: string; timeline: Array<{ status: string }> }
interface ErrorBody { error: { code: string; message: string; details?: Record<string, unknown> } }

const CUSTOMER = '447700900123';
const STRANGER = '447700900999';

function runContext(key: string, attempt = 1): RunContext {
  return { executionId: key.split(':')[0] as string, workflowId: 'wf-test', stepId: 'send', idempotencyKey: key, simulate: false, attempt, logger: createLogger({ silent: true }), signal: new AbortController().signal };
}

describe('plugin whatsapp: sending', () => {
  let h: WhatsappHarness;
  before(async () => {
    h = await startWhatsapp('wa_send');
    h.graph.webhook = null;
    await h.deliver(inboundText('I have a question', { from: CUSTOMER }).payload);
  });
  after(async () => { await h.stop(); });
  beforeEach(() => h.graph.reset());

  it('sends a text inside the 24-hour window with the Graph API request shape', async () => {
    const res = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body: { to: `+${CUSTOMER}`, text: 'Hello from Flowgate', previewUrl: false } });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'accepted');
    assert.match(res.body.providerMessageId ?? '', /^wamid\./);
    const [sent] = h.graph.sends;
    assert.equal(sent?.nodeId, PHONE_NUMBER_ID);
    assert.equal(sent?.authorization, 'Bearer EAAtesttoken');
    assert.deepEqual({ ...sent?.body, biz_opaque_callback_data: undefined }, {
      messaging_product: 'whatsapp', recipient_type: 'individual', to: `+${CUSTOMER}`, type: 'text', text: { body: 'Hello from Flowgate', preview_url: false }, biz_opaque_callback_data: undefined,
    });
    assert.equal(sent?.body.biz_opaque_callback_data, res.body.id);
  });

  it('denies free-form text outside the window and says which policy did; the denial is recorded', async () => {
    const res = await h.t.request<ErrorBody>('post', '/api/messages', { as: 'agent', body: { to: STRANGER, text: 'Hi?' } });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'WHATSAPP_SEND_DENIED');
    assert.equal(res.body.error.details?.policy, 'whatsapp.window@1');
    assert.equal(res.body.error.details?.code, 'WHATSAPP_WINDOW_CLOSED');
    assert.equal(h.graph.sends.length, 0);
    const stored = await h.t.request<MessageView>('get', `/api/messages/${String(res.body.error.details?.messageId)}`, { as: 'agent' });
    assert.equal(stored.body.status, 'denied');
    assert.equal(stored.body.policyDecisions?.[0]?.decision, 'deny');
  });

  it('sends templates outside the window, with positional and named parameters', async () => {
    const positional = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body: { to: STRANGER, template: { name: 'order_update', language: 'en_US', variables: ['Ada', '#123'] } } });
    assert.equal(positional.status, 201);
    const named = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body: { to: STRANGER, template: { name: 'welcome', language: 'pt_BR', variables: { first_name: 'Ana' } } } });
    assert.equal(named.status, 201);
    assert.deepEqual(h.graph.sends[0]?.body.template, { name: 'order_update', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }, { type: 'text', text: '#123' }] }] });
    assert.deepEqual(h.graph.sends[1]?.body.template, { name: 'welcome', language: { code: 'pt_BR' }, components: [{ type: 'body', parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Ana' }] }] });
  });

  it('sends reply buttons as an interactive message', async () => {
    const res = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body: { to: CUSTOMER, text: 'Confirm?', buttons: [{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'No' }] } });
    assert.equal(res.status, 201);
    assert.deepEqual(h.graph.sends[0]?.body.interactive, { type: 'button', body: { text: 'Confirm?' }, action: { buttons: [{ type: 'reply', reply: { id: 'yes', title: 'Yes' } }, { type: 'reply', reply: { id: 'no', title: 'No' } }] } });
  });

  it('maps provider errors to a typed result: retryable or not, and why', async () => {
    const cases: Array<{ code: number; retryable: boolean; category: string }> = [
      { code: 130429, retryable: true, category: 'rate-limit' }, { code: 131056, retryable: true, category: 'rate-limit' },
      { code: 131047, retryable: false, category: 'window-closed' }, { code: 131026, retryable: false, category: 'undeliverable' },
      { code: 132001, retryable: false, category: 'template' }, { code: 190, retryable: false, category: 'auth' },
    ];
    for (const expected of cases) {
      h.graph.failNext({ code: expected.code, details: 'from the double' });
      const res = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body: { to: STRANGER, template: { name: 'order_update', language: 'en_US' } } });
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'failed');
      assert.deepEqual({ code: res.body.error?.code, retryable: res.body.error?.retryable, category: res.body.error?.category }, expected);
    }
  });

  it('submits a template for review through the adapter, and types a refusal', async () => {
    const client = new GraphClient({ apiUrl: h.graph.url, apiVersion: 'v25.0', phoneNumberId: PHONE_NUMBER_ID, accessToken: 'EAAtesttoken', timeoutMs: 2_000, maxSockets: 2 });
    const template = { name: 'order_update', language: 'en_US', category: 'UTILITY', components: [{ type: 'BODY', text: 'Order {{1}} shipped' }] };
    const accepted = await client.submitTemplate('102290129340398', template);
    assert.ok(accepted.ok && accepted.value.status === 'PENDING');
    assert.equal(h.graph.requests.at(-1)?.path, '/v25.0/102290129340398/message_templates');
    h.graph.failNext({ code: 190, httpStatus: 401 });
    const refused = await client.submitTemplate('102290129340398', template);
    assert.ok(!refused.ok && refused.outcome === 'rejected' && refused.error.category === 'auth' && !refused.error.retryable);
    client.close();
  });

  it('records a marketing opt-out when a send is answered with 131050', async () => {
    await h.deliver(inboundText('hello', { from: '447700900555' }).payload);
    h.graph.failNext({ code: 131050, message: 'Unable to deliver message', details: 'User has stopped marketing messages' });
    const res = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body: { to: '447700900555', template: { name: 'spring_sale', language: 'en_US' } } });
    assert.equal(res.body.error?.category, 'opted-out');
    const thread = await h.t.request<{ contact: { marketing: { state: string; source: string } } }>('get', '/api/conversations/447700900555', { as: 'agent' });
    assert.deepEqual(thread.body.contact.marketing && { state: thread.body.contact.marketing.state, source: thread.body.contact.marketing.source }, { state: 'stopped', source: 'send_error_131050' });
  });

  it('does not send twice when a send that timed out is repeated with the same key', async () => {
    h.graph.delayMs = 900; // longer than the 400 ms client timeout
    const body = { to: CUSTOMER, text: 'Your code is 123', idempotencyKey: 'order-42-confirmation' };
    const first = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body });
    assert.equal(first.status, 201);
    assert.equal(first.body.status, 'unknown');
    h.graph.delayMs = 0;
    const again = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(h.graph.sends.length, 1);
  });

  it('whatsapp.send@1 retried by the engine after a timeout does not send twice', async () => {
    const action = h.t.server.get(SendAction);
    h.graph.delayMs = 900;
    await assert.rejects(action.execute({ to: CUSTOMER, text: 'step send' }, runContext('exec-1:send')), (error: Error & { code?: string; retryable?: boolean }) => error.code === 'WHATSAPP_OUTCOME_UNKNOWN' && error.retryable === true);
    h.graph.delayMs = 0;
    const retried = await action.execute({ to: CUSTOMER, text: 'step send' }, runContext('exec-1:send', 2));
    assert.equal(retried.output.status, 'unknown');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(h.graph.sends.length, 1);
    // Meta's status webhook (with our id echoed back) settles the unknown outcome.
    const sent = h.graph.sends[0] as unknown as { body: { biz_opaque_callback_data: string } };
    const { statuses, statusObject, wamid } = await import('../../doubles/whatsapp-payloads.js');
    await h.deliver(statuses([statusObject(wamid(), 'delivered', { callbackData: sent.body.biz_opaque_callback_data })]));
    const message = await h.t.request<MessageView>('get', `/api/messages/${retried.output.messageId}`, { as: 'agent' });
    assert.equal(message.body.status, 'delivered');
  });

  it('whatsapp.send@1 retries a retryable refusal and a success is not repeated', async () => {
    const action = h.t.server.get(SendAction);
    h.graph.failNext({ code: 130429 });
    await assert.rejects(action.execute({ to: CUSTOMER, text: 'rate limited' }, runContext('exec-2:send')), (error: Error & { code?: string; retryable?: boolean }) => error.code === 'WHATSAPP_RATE_LIMITED' && error.retryable === true);
    const ok = await action.execute({ to: CUSTOMER, text: 'rate limited' }, runContext('exec-2:send', 2));
    assert.equal(ok.output.status, 'accepted');
    const again = await action.execute({ to: CUSTOMER, text: 'rate limited' }, runContext('exec-2:send', 3));
    assert.equal(again.output.messageId, ok.output.messageId);
    assert.equal(h.graph.sends.length, 2);
  });

  it('whatsapp.reply@1 answers from the receiving number with context; mark-read@1 marks once', async () => {
    const incoming = inboundText('Where is my order?', { from: CUSTOMER });
    await h.deliver(incoming.payload);
    const reply = await h.t.server.get(ReplyAction).execute({ messageId: incoming.id, text: 'On its way!' }, runContext('exec-3:reply'));
    assert.equal(reply.output.status, 'accepted');
    assert.deepEqual(h.graph.sends[0]?.body.context, { message_id: incoming.id });
    assert.equal(h.graph.sends[0]?.body.to, `+${CUSTOMER}`);
    const markRead = h.t.server.get(MarkReadAction);
    assert.deepEqual((await markRead.execute({ messageId: incoming.id }, runContext('exec-3:read'))).output, { marked: true });
    assert.deepEqual((await markRead.execute({ messageId: incoming.id }, runContext('exec-3:read'))).output, { marked: false });
    const reads = h.graph.requests.filter((r) => r.body.status === 'read');
    assert.deepEqual(reads.map((r) => r.body), [{ messaging_product: 'whatsapp', status: 'read', message_id: incoming.id }]);
  });

  it('whatsapp.window@1 allows templates always and free-form only within 24 hours', async () => {
    const policy = h.t.server.get(WindowPolicy);
    const check = (input: Record<string, unknown>) => policy.check({ config: {}, step: { id: 's', action: 'whatsapp.send@1', input }, run: runContext('exec-4:s') });
    assert.equal((await check({ to: CUSTOMER, text: 'x' })).decision, 'allow');
    assert.equal((await check({ to: STRANGER, text: 'x' })).decision, 'deny');
    assert.equal((await check({ to: STRANGER, template: { name: 't', language: 'en' } })).decision, 'allow');
    const old = '447700900777';
    await h.deliver(inboundText('old message', { from: old, timestamp: unix(new Date(Date.now() - 25 * 3600_000)) }).payload);
    const verdict = await check({ to: old, text: 'x' });
    assert.equal(verdict.decision, 'deny');
    assert.match((verdict as { reason: string }).reason, /window closed/);
    // The window is per sender: another business number has no window with this customer.
    assert.equal((await check({ to: CUSTOMER, from: '999', text: 'x' })).decision, 'deny');
  });

  it('schedules a send, runs it through Agenda, and cancels another', async () => {
    const soon = new Date(Date.now() + 1_000).toISOString();
    const scheduled = await h.t.request<MessageView>('post', '/api/messages/schedule', { as: 'agent', body: { to: CUSTOMER, text: 'later', sendAt: soon } });
    assert.equal(scheduled.status, 202);
    assert.equal(scheduled.body.status, 'scheduled');
    const cancelled = await h.t.request<MessageView>('post', '/api/messages/schedule', { as: 'agent', body: { to: CUSTOMER, text: 'never', sendAt: soon } });
    const cancel = await h.t.request<MessageView>('delete', `/api/messages/${cancelled.body.id}`, { as: 'agent' });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.status, 'cancelled');
    const sent = await eventually(async () => {
      const res = await h.t.request<MessageView>('get', `/api/messages/${scheduled.body.id}`, { as: 'agent' });
      return res.body.status === 'accepted' ? res.body : null;
    }, 15_000, 200);
    assert.ok(sent.providerMessageId);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(h.graph.sends.map((s) => (s.body.text as { body: string }).body), ['later']);
    const again = await h.t.request<ErrorBody>('delete', `/api/messages/${scheduled.body.id}`, { as: 'agent' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'WHATSAPP_NOT_CANCELLABLE');
  });

  it('retries a failed message over HTTP, and refuses to retry one that did not fail', async () => {
    h.graph.failNext({ code: 131000 });
    const failed = await h.t.request<MessageView>('post', '/api/messages', { as: 'agent', body: { to: CUSTOMER, text: 'flaky' } });
    assert.equal(failed.body.status, 'failed');
    const retried = await h.t.request<MessageView>('post', `/api/messages/${failed.body.id}/retry`, { as: 'agent' });
    assert.equal(retried.status, 200);
    assert.equal(retried.body.status, 'accepted');
    assert.equal(retried.body.attempts, 2);
    const twice = await h.t.request<ErrorBody>('post', `/api/messages/${failed.body.id}/retry`, { as: 'agent' });
    assert.equal(twice.status, 409);
  });

  it('lists messages with filters and shows the conversation with its window state', async () => {
    const list = await h.t.request<{ items: MessageView[]; nextCursor?: string }>('get', `/api/messages?phone=%2B${CUSTOMER}&direction=outbound&limit=2`, { as: 'agent' });
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 2);
    assert.ok(list.body.nextCursor);
    const next = await h.t.request<{ items: MessageView[] }>('get', `/api/messages?phone=${CUSTOMER}&direction=outbound&limit=2&cursor=${list.body.nextCursor}`, { as: 'agent' });
    assert.ok(next.body.items.every((m) => !list.body.items.some((x) => x.id === m.id)));
    const thread = await h.t.request<{ window: { open: boolean; closesAt: string }; items: MessageView[] }>('get', `/api/conversations/${CUSTOMER}`, { as: 'agent' });
    assert.equal(thread.body.window.open, true);
    assert.ok(new Date(thread.body.window.closesAt) > new Date());
    const stranger = await h.t.request<{ window: { open: boolean } }>('get', `/api/conversations/${STRANGER}`, { as: 'agent' });
    assert.equal(stranger.body.window.open, false);
  });

  describe('permissions and bad input', () => {
    const bad: Array<[string, string, unknown, number, string?]> = [
      ['post', '/api/messages', { to: CUSTOMER }, 400],
      ['post', '/api/messages', { to: CUSTOMER, text: 'a', template: { name: 'x', language: 'en' } }, 400],
      ['post', '/api/messages', { to: 'not a phone', text: 'a' }, 400],
      ['post', '/api/messages', { to: CUSTOMER, text: 'a', extra: true }, 400],
      ['post', '/api/messages', { to: CUSTOMER, text: 'x'.repeat(4097) }, 400],
      ['post', '/api/messages', { to: CUSTOMER, text: 'a', from: '123' }, 422, 'WHATSAPP_SENDER_UNKNOWN'],
      ['post', '/api/messages', { to: CUSTOMER, template: { name: 'Bad Name', language: 'en' } }, 400],
      ['post', '/api/messages/schedule', { to: CUSTOMER, text: 'a' }, 400],
      ['post', '/api/messages/schedule', { to: CUSTOMER, text: 'a', sendAt: 'tomorrow' }, 400],
      ['post', '/api/messages/schedule', { to: CUSTOMER, text: 'a', sendAt: '2001-01-01T00:00:00Z' }, 400, 'WHATSAPP_SEND_AT_PAST'],
      ['post', '/api/messages/bulk', { text: 'a', recipients: [] }, 400],
      ['post', '/api/messages/bulk', { recipients: [CUSTOMER] }, 400],
      ['get', '/api/messages?direction=sideways', undefined, 400],
      ['get', '/api/messages?limit=0', undefined, 400],
      ['get', '/api/messages?unknown=1', undefined, 400],
      ['get', '/api/messages/not-an-id', undefined, 400],
      ['get', '/api/messages/0123456789abcdef01234567', undefined, 404],
      ['post', '/api/messages/0123456789abcdef01234567/retry', undefined, 404],
      ['delete', '/api/messages/0123456789abcdef01234567', undefined, 404],
      ['get', '/api/conversations/abc', undefined, 400],
      ['get', '/api/messages/bulk/0123456789abcdef01234567', undefined, 404],
    ];
    for (const [method, path, body, status, code] of bad) {
      it(`${method.toUpperCase()} ${path} ${body ? JSON.stringify(body).slice(0, 60) : ''} → ${status}`, async () => {
        const res = await h.t.request<ErrorBody>(method, path, { as: 'manager', body });
        assert.equal(res.status, status, JSON.stringify(res.body));
        if (code) assert.equal(res.body.error.code, code);
      });
    }

    it('answers malformed JSON with 400 and a wrong content type with 415', async () => {
      const malformed = await h.t.request<ErrorBody>('post', '/api/messages', { as: 'agent', rawBody: '{"to":', headers: { 'content-type': 'application/json' } });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'MALFORMED_JSON');
      const text = await h.t.request('post', '/api/messages', { as: 'agent', rawBody: 'to=1', headers: { 'content-type': 'text/plain' } });
      assert.equal(text.status, 415);
    });

    it('checks each route\'s permission: anonymous 401, too-low roles 403', async () => {
      const routes: Array<[string, string, string, unknown?]> = [
        ['post', '/api/messages', 'analyst', { to: CUSTOMER, text: 'a' }],
        ['post', '/api/messages/bulk', 'agent', { text: 'a', recipients: [CUSTOMER] }],
        ['get', '/api/messages/bulk/0123456789abcdef01234567', 'analyst'],
        ['post', '/api/messages/schedule', 'analyst', { to: CUSTOMER, text: 'a', sendAt: new Date(Date.now() + 60_000).toISOString() }],
        ['get', '/api/messages', 'analyst'],
        ['get', '/api/messages/0123456789abcdef01234567', 'analyst'],
        ['post', '/api/messages/0123456789abcdef01234567/retry', 'analyst'],
        ['delete', '/api/messages/0123456789abcdef01234567', 'viewer'],
        ['get', `/api/conversations/${CUSTOMER}`, 'analyst'],
      ];
      for (const [method, path, tooLow, body] of routes) {
        assert.equal((await h.t.request(method, path, { body })).status, 401, `${method} ${path} anonymous`);
        assert.equal((await h.t.request(method, path, { as: tooLow, body })).status, 403, `${method} ${path} as ${tooLow}`);
      }
    });
  });
});
