import assert from 'node:assert/strict';
import { nextEvent } from '../../helpers/test-host.js';
import { inboundText, statusObject, statuses, unix } from '../../doubles/whatsapp-payloads.js';
import { eventually, processed, startWhatsapp, type WhatsappHarness } from './harness.js';

interface Progress { id: string; state: string; recipients: number; counts: Record<string, number>; done: number }
interface ErrorBody { error: { code: string } }

const recipients = (n: number, base = 447800000000) => Array.from({ length: n }, (_, i) => `+${base + i}`);
const template = { name: 'spring_sale', language: 'en_US', variables: ['20%'] };

describe('plugin whatsapp: bulk send', () => {
  let h: WhatsappHarness;
  before(async () => { h = await startWhatsapp('wa_bulk', { bulk: { concurrency: 2, leaseMs: 2000, maxRecipients: 100 } }); h.graph.webhook = null; });
  after(async () => { await h.stop(); });

  it('sends to every recipient once, with per-recipient outcomes and progress on the socket', async () => {
    const socket = await h.t.socket({ as: 'agent' });
    await socket.emitWithAck('subscribe', ['messages']);
    h.graph.failNext({ code: 131026 });
    const finished = nextEvent<Progress>(socket, 'campaign.progress', 15_000, (p) => p.state === 'completed');
    const list = [...recipients(6), '+447800000000'];
    const res = await h.t.request<{ campaign: Progress; duplicates: string[] }>('post', '/api/messages/bulk', { as: 'manager', body: { name: 'spring', template, recipients: list } });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body.duplicates, ['+447800000000']);
    const done = await finished;
    assert.equal(done.done, 6);
    assert.equal(done.counts.failed, 1);
    assert.equal(done.counts.accepted, 5);
    const detail = await h.t.request<{ recipients: Array<{ phone: string; status: string; error?: { code: number } }> }>('get', `/api/messages/bulk/${res.body.campaign.id}`, { as: 'agent' });
    assert.equal(detail.body.recipients.length, 6);
    assert.equal(detail.body.recipients.filter((r) => r.status === 'failed')[0]?.error?.code, 131026);
    assert.equal(new Set(h.graph.sends.map((s) => s.body.to)).size, 6);
  });

  it('runs the window policy per recipient: free-form text only reaches open windows', async () => {
    h.graph.reset();
    await h.deliver(inboundText('hi', { from: '447800000100' }).payload);
    const res = await h.t.request<{ campaign: Progress }>('post', '/api/messages/bulk', { as: 'manager', body: { text: 'hello', recipients: ['+447800000100', '+447800000101'] } });
    const done = await eventually(async () => {
      const p = await h.t.request<{ campaign: Progress }>('get', `/api/messages/bulk/${res.body.campaign.id}`, { as: 'agent' });
      return p.body.campaign.state === 'completed' ? p.body.campaign : null;
    });
    assert.deepEqual(done.counts, { accepted: 1, denied: 1 });
    assert.equal(h.graph.sends.length, 1);
  });

  it('finishes a campaign interrupted by a server restart without sending anyone twice', async function () {
    this.timeout(60_000);
    h.graph.reset();
    h.graph.delayMs = 60;
    const list = recipients(24, 447900000000);
    const res = await h.t.request<{ campaign: Progress }>('post', '/api/messages/bulk', { as: 'manager', body: { template, recipients: list } });
    await eventually(async () => h.graph.sends.length >= 4, 10_000, 20);
    await h.restart();
    const done = await eventually(async () => {
      const p = await h.t.request<{ campaign: Progress }>('get', `/api/messages/bulk/${res.body.campaign.id}`, { as: 'agent' });
      return p.body.campaign.state === 'completed' ? p.body.campaign : null;
    }, 40_000, 250);
    h.graph.delayMs = 0;
    assert.equal(done.done, 24);
    const sentTo = h.graph.sends.map((s) => s.body.to);
    assert.equal(sentTo.length, 24, `sent ${sentTo.length} times`);
    assert.equal(new Set(sentTo).size, 24);
  });

  it('refuses more recipients than configured, and bulk needs the manager role', async () => {
    const tooMany = await h.t.request<ErrorBody>('post', '/api/messages/bulk', { as: 'manager', body: { template, recipients: recipients(101) } });
    assert.equal(tooMany.status, 422);
    assert.equal(tooMany.body.error.code, 'WHATSAPP_TOO_MANY_RECIPIENTS');
    assert.equal((await h.t.request('post', '/api/messages/bulk', { as: 'agent', body: { template, recipients: recipients(1) } })).status, 403);
  });
});

describe('plugin whatsapp: delivery tracking', () => {
  let h: WhatsappHarness;
  const ids: Record<string, string> = {};
  before(async () => {
    h = await startWhatsapp('wa_delivery');
    h.graph.webhook = null;
    const send = async (name: string, to: string, tpl = 'order_update') => {
      const res = await h.t.request<{ id: string; providerMessageId: string }>('post', '/api/messages', { as: 'agent', body: { to, template: { name: tpl, language: 'en_US' } } });
      ids[name] = res.body.id;
      return res.body.providerMessageId;
    };
    const base = Math.floor(Date.now() / 1000) - 600;
    const at = (s: number) => unix(new Date((base + s) * 1000));
    const a = await send('a', '447700000001');
    const b = await send('b', '447700000002');
    const c = await send('c', '447700000003', 'spring_sale');
    await h.deliver(statuses([
      statusObject(a, 'sent', { timestamp: at(0) }), statusObject(a, 'delivered', { timestamp: at(2) }), statusObject(a, 'read', { timestamp: at(10) }),
      statusObject(b, 'sent', { timestamp: at(0) }), statusObject(b, 'delivered', { timestamp: at(4) }),
      statusObject(c, 'sent', { timestamp: at(0) }), statusObject(c, 'failed', { timestamp: at(1), errors: [{ code: 131049, title: 'Not delivered to maintain healthy ecosystem engagement' }] }),
    ]));
    h.graph.failNext({ code: 132001, message: 'Template name does not exist in the translation' });
    await send('d', '447700000004', 'missing_tpl');
  });
  after(async () => { await h.stop(); });

  it('shows the status timeline of a message with provider errors', async () => {
    const res = await h.t.request<{ status: string; timeline: Array<{ status: string; errors?: Array<{ code: number }> }>; error?: { code: number } }>('get', `/api/delivery/${ids.c}`, { as: 'analyst' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'failed');
    assert.equal(res.body.timeline.find((e) => e.status === 'failed')?.errors?.[0]?.code, 131049);
  });

  it('reports counts and rates by period, sender and template', async () => {
    const all = await h.t.request<{ total: number; counts: Record<string, number>; rates: { delivered: number; read: number; failed: number }; groups: Array<{ key: string; total: number }> }>('get', '/api/delivery/report?groupBy=template', { as: 'analyst' });
    assert.equal(all.status, 200);
    assert.equal(all.body.total, 4);
    assert.deepEqual(all.body.counts, { read: 1, delivered: 1, failed: 2 });
    assert.equal(all.body.rates.delivered, 0.5);
    assert.equal(all.body.rates.read, 0.25);
    assert.deepEqual(all.body.groups.map((g) => [g.key, g.total]).sort(), [['missing_tpl', 1], ['order_update', 2], ['spring_sale', 1]]);
    const future = await h.t.request<{ total: number }>('get', `/api/delivery/report?from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`, { as: 'analyst' });
    assert.equal(future.body.total, 0);
    const bySender = await h.t.request<{ groups: Array<{ key: string }> }>('get', '/api/delivery/report?groupBy=sender', { as: 'analyst' });
    assert.equal(bySender.body.groups.length, 1);
  });

  it('lists failures with their codes and retryability', async () => {
    const res = await h.t.request<{ items: Array<{ id: string; error: { code: number; retryable: boolean } }> }>('get', '/api/delivery/failed', { as: 'analyst' });
    assert.deepEqual(res.body.items.map((i) => [i.error.code, i.error.retryable]).sort(), [[131049, true], [132001, false]]);
    const retryable = await h.t.request<{ items: unknown[] }>('get', '/api/delivery/failed?retryable=true', { as: 'analyst' });
    assert.equal(retryable.body.items.length, 1);
  });

  it('computes sent→delivered→read latency percentiles from the stored timestamps', async () => {
    const res = await h.t.request<{ latencyMs: Record<string, { count: number; p50: number; p95: number }>; failureReasons: Array<{ code: number; count: number }> }>('get', '/api/delivery/stats', { as: 'analyst' });
    assert.deepEqual(res.body.latencyMs.sentToDelivered, { count: 2, p50: 2000, p95: 4000 });
    assert.deepEqual(res.body.latencyMs.deliveredToRead, { count: 1, p50: 8000, p95: 8000 });
    assert.deepEqual(res.body.latencyMs.sentToRead, { count: 1, p50: 10000, p95: 10000 });
    assert.deepEqual(res.body.failureReasons.map((r) => r.code).sort(), [131049, 132001]);
  });

  it('retries only the retryable failures, with backoff, and refuses analysts', async () => {
    assert.equal((await h.t.request('post', '/api/delivery/retry-failed', { as: 'analyst', body: {} })).status, 403);
    const res = await h.t.request<{ scheduled: Array<{ id: string; retryAt: string }>; skipped: { notRetryable: number } }>('post', '/api/delivery/retry-failed', { as: 'manager', body: {} });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.scheduled.map((s) => s.id), [ids.c]);
    assert.equal(res.body.skipped.notRetryable, 1);
    assert.ok(new Date(res.body.scheduled[0]?.retryAt as string) > new Date());
    h.graph.reset();
    const resent = await eventually(async () => {
      const m = await h.t.request<{ status: string; attempts: number }>('get', `/api/messages/${ids.c}`, { as: 'agent' });
      return m.body.status === 'accepted' ? m.body : null;
    }, 15_000, 200);
    assert.equal(resent.attempts, 2);
    assert.equal(h.graph.sends.length, 1);
    await processed(h.t);
  });

  it('answers bad input with 400 and checks permissions', async () => {
    for (const path of ['/api/delivery/report?groupBy=colour', '/api/delivery/report?from=yesterday', '/api/delivery/failed?limit=9999', '/api/delivery/stats?bogus=1', '/api/delivery/not-an-id']) {
      assert.equal((await h.t.request(path.startsWith('/') ? 'get' : 'get', path, { as: 'analyst' })).status, 400, path);
    }
    assert.equal((await h.t.request('post', '/api/delivery/retry-failed', { as: 'manager', body: { limit: 0 } })).status, 400);
    assert.equal((await h.t.request('post', '/api/delivery/retry-failed', { as: 'manager', body: { color: 'red' } })).status, 400);
    assert.equal((await h.t.request('get', '/api/delivery/0123456789abcdef01234567', { as: 'analyst' })).status, 404);
    for (const path of ['/api/delivery/report', '/api/delivery/failed', '/api/delivery/stats', `/api/delivery/${ids.a}`]) {
      assert.equal((await h.t.request('get', path)).status, 401, path);
      assert.equal((await h.t.request('get', path, { as: 'viewer' })).status, 403, path);
    }
  });

  it('announces statuses on the delivery topic only to roles that may read it', async () => {
    const viewer = await h.t.socket({ as: 'viewer' });
    const ack = await viewer.emitWithAck('subscribe', ['delivery', 'messages']) as { denied: Array<{ topic: string }> };
    assert.deepEqual(ack.denied.map((d) => d.topic).sort(), ['delivery', 'messages']);
    const analyst = await h.t.socket({ as: 'analyst' });
    await analyst.emitWithAck('subscribe', ['delivery']);
    const res = await h.t.request<{ id: string; providerMessageId: string }>('post', '/api/messages', { as: 'agent', body: { to: '447700000009', template: { name: 'order_update', language: 'en_US' } } });
    const event = nextEvent<{ messageId: string; status: string }>(analyst, 'status.updated');
    await h.deliver(statuses([statusObject(res.body.providerMessageId, 'delivered')]));
    assert.deepEqual({ ...(await event) }, { ...(await event), messageId: res.body.id, status: 'delivered' });
  });
});
