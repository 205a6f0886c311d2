/**
 * End to end: the facts other plugins report reach the figures. A template sent through the
 * Graph API double, its signed status webhooks (each delivered twice, as Meta retries), a reply,
 * an inbound STOP that runs the shipped stop-keyword workflow.
 */
import assert from 'node:assert/strict';
import { GraphApiDouble } from '../../doubles/graph-api.js';
import { DISPLAY_PHONE_NUMBER, inboundText, PHONE_NUMBER_ID } from '../../doubles/whatsapp-payloads.js';
import { eventually, type TestServer } from '../../helpers/test-host.js';
import { ACCESS_TOKEN, APP_SECRET, processed, sign, VERIFY_TOKEN } from '../whatsapp/harness.js';
import { get, settled, startAnalytics } from './harness.js';

interface Messages { totals: Record<string, number> }

describe('plugin analytics: facts from the WhatsApp, consent and workflow plugins', function () {
  this.timeout(90_000);
  let t: TestServer;
  let graph: GraphApiDouble;
  const today = () => new Date().toISOString().slice(0, 10);
  const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const period = () => `from=${today()}&to=${tomorrow()}`;
  const deliver = async (payload: unknown) => {
    const raw = JSON.stringify(payload);
    const response = await t.request('post', '/webhooks/whatsapp', { rawBody: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw) } });
    assert.equal(response.status, 200);
    await processed(t);
  };

  before(async () => {
    graph = new GraphApiDouble();
    await graph.start();
    graph.acceptedTokens = [ACCESS_TOKEN];
    Object.assign(process.env, {
      WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url, CONSENT_ERASURE_KEY: 'test-erasure-key-0123456789',
    });
    t = await startAnalytics('an-facts', { plugins: ['audit', 'flow', 'whatsapp', 'consent'], pluginSettings: { whatsapp: { requestTimeoutMs: 2000, sendPolicies: ['whatsapp.window@1'] } } });
    graph.webhook = { url: `${t.url}/webhooks/whatsapp`, appSecret: APP_SECRET, script: { sequence: ['sent', 'delivered', 'read'], duplicate: true } };
  });
  after(async () => {
    await graph.settled();
    await t.stop();
    await graph.stop();
  });

  it('a sent template and its signed status webhooks show up in /api/analytics/messages, each once', async () => {
    const sent = await t.request<{ id: string; providerMessageId: string }>('post', '/api/messages', {
      as: 'agent', body: { to: '+16315550100', template: { name: 'order_update', language: 'en_US', variables: ['42'] } },
    });
    assert.equal(sent.status, 201, sent.text);
    await graph.settled();
    await processed(t);
    await settled(t);
    const messages = await get<Messages>(t, `/api/analytics/messages?${period()}&templateName=order_update`);
    assert.deepEqual(messages.totals, { sent: 1, delivered: 1, read: 1, failed: 0, received: 0, replied: 0 });
    const rates = await get<{ totals: { deliveryRate: number; readRate: number } }>(t, `/api/analytics/delivery-rates?${period()}&phoneNumberId=${PHONE_NUMBER_ID}`);
    assert.equal(rates.totals.deliveryRate, 1);
    assert.equal(rates.totals.readRate, 1);
    // The status webhooks carried the pricing category, so delivered and read can be filtered by it.
    const utility = await get<Messages>(t, `/api/analytics/messages?${period()}&category=utility`);
    assert.equal(utility.totals.delivered, 1);

    // The customer answers the template: an inbound message quoting it is a reply to that template.
    await deliver(inboundText('Thanks!', { from: '16315550100', context: { from: DISPLAY_PHONE_NUMBER, id: sent.body.providerMessageId } }).payload);
    await settled(t);
    const templates = await get<{ items: Array<{ templateName: string; sent: number; read: number; replied: number }> }>(t, `/api/analytics/templates?${period()}`);
    assert.deepEqual(templates.items.map((i) => [i.templateName, i.sent, i.read, i.replied]), [['order_update', 1, 1, 1]]);
    const overview = await get<{ messages: Record<string, number>; contacts: { created: number } }>(t, `/api/analytics/overview?${period()}`);
    assert.equal(overview.messages.received, 1);
    assert.equal(overview.messages.replied, 1);
    assert.equal(overview.contacts.created, 1);
    const funnel = await get<{ stages: Array<{ name: string; count: number }> }>(t, `/api/analytics/funnel?${period()}`);
    assert.deepEqual(funnel.stages.map((s) => [s.name, s.count]), [['contact', 1], ['message', 1], ['reply', 1], ['sale', 0]]);
  });

  it('an inbound STOP runs the stop-keyword workflow: an opt-out by keyword and a finished execution', async () => {
    await deliver(inboundText('STOP', { from: '16315550199' }).payload);
    // Only the STOP started the stop workflow (the earlier "Thanks!" is no keyword and started none).
    const stopRuns = await eventually(async () => {
      await settled(t);
      const workflows = await get<{ items: Array<{ workflowId: string; executions: number; succeeded: number }> }>(t, `/api/analytics/workflows?${period()}&workflowId=stop-keyword`);
      return workflows.items[0]?.succeeded ? workflows.items[0] : null;
    }, 15_000, 200);
    assert.deepEqual([stopRuns.executions, stopRuns.succeeded], [1, 1]);
    const consent = await get<{ totals: Record<string, number>; bySource: unknown; byKeyword: unknown }>(t, `/api/analytics/consent?${period()}`);
    assert.deepEqual(consent.totals, { optedIn: 0, optedOut: 1 });
    assert.deepEqual(consent.bySource, [{ source: 'keyword', optedIn: 0, optedOut: 1 }]);
    assert.deepEqual(consent.byKeyword, [{ keyword: 'STOP', optedIn: 0, optedOut: 1 }]);
    // A webhook delivered twice (Meta retries) is counted once.
    const received = async () => (await get<{ messages: { received: number } }>(t, `/api/analytics/overview?${period()}`)).messages.received;
    const before = await received();
    await deliver(inboundText('hello', { from: '16315550199', id: 'wamid.same-hello' }).payload);
    await deliver(inboundText('hello', { from: '16315550199', id: 'wamid.same-hello' }).payload);
    await settled(t);
    assert.equal(await received(), before + 1);
  });
});
