/**
 * The opt-out race: opt-outs (signed STOP webhooks and POST /api/consent/:phone/opt-out) land
 * while a marketing campaign is sending, paced by the rate limit so that most recipients are
 * still waiting. Every send not yet handed to the provider must stop: the Graph API double
 * receives no campaign message for an opted-out phone after the opt-out was recorded.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { inboundText } from '../../doubles/whatsapp-payloads.js';
import { eventually, nextEvent } from '../../helpers/test-host.js';
import { newPhone, startRate, type RateHarness } from './harness.js';

interface MessageView { id: string; status: string; phone?: string; policyDecisions: Array<{ policy: string; decision: string; code?: string }> }

const RECIPIENTS = 30;
const CAMPAIGN_TEMPLATE = 'spring_sale';

describe('plugin rate: the opt-out race', () => {
  let h: RateHarness;
  let socket: Socket;
  before(async () => {
    h = await startRate('rate-race', {
      whatsapp: { sendPolicies: ['consent.not-blocked@1', 'consent.required@1', 'whatsapp.window@1', 'rate.limit@1'], bulk: { concurrency: 4, waitForDeferralMs: 0 } },
      rate: { perSecond: 5 },
    }, ['audit', 'flow', 'whatsapp', 'consent', 'rate-limit']);
    socket = await h.t.socket({ as: 'agent' });
    await socket.emitWithAck('subscribe', ['consent']);
  });
  after(async () => { await h.stop(); });

  it('stops every campaign send not yet handed to the provider once the opt-out is recorded', async function () {
    this.timeout(60_000);
    const phones = Array.from({ length: RECIPIENTS }, () => newPhone());
    for (const phone of phones) {
      const optIn = await h.t.request('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { source: 'form', idempotencyKey: `race-in-${phone}` } });
      assert.equal(optIn.status, 201);
    }
    // Opt-outs for recipients spread over the second half of the list; half by keyword, half over the API.
    const leaving = phones.filter((_, i) => i >= RECIPIENTS / 2 && i % 2 === 0);
    const byKeyword = leaving.filter((_, i) => i % 2 === 0);
    const campaignSendsTo = (phone: string) => h.graph.sends.filter((s) => s.body.to === `+${phone}` && (s.body.template as { name?: string } | undefined)?.name === CAMPAIGN_TEMPLATE);

    const campaign = await h.t.request<{ campaign: { id: string } }>('post', '/api/messages/bulk', {
      as: 'manager', body: { recipients: phones, template: { name: CAMPAIGN_TEMPLATE, language: 'en_US' } },
    });
    assert.equal(campaign.status, 202);
    await eventually(async () => h.graph.sends.length >= 5, 10_000, 20);

    // When the test knows each opt-out is recorded: the API answered, or the consent event arrived.
    const recordedAt = new Map<string, number>();
    await Promise.all(leaving.map(async (phone) => {
      if (byKeyword.includes(phone)) {
        const changed = nextEvent<{ phone: string; state: string }>(socket, 'consent.changed', 10_000, (e) => e.phone === phone && e.state === 'opted_out');
        await h.deliver(inboundText('STOP', { from: phone }).payload);
        await changed;
      } else {
        const response = await h.t.request('post', `/api/consent/${phone}/opt-out`, { as: 'agent', body: { idempotencyKey: `race-out-${phone}` } });
        assert.equal(response.status, 201);
      }
      recordedAt.set(phone, Date.now());
    }));
    const optOutsDone = Math.max(...recordedAt.values());
    assert.ok(h.graph.sends.length < RECIPIENTS, 'the campaign was still sending when the opt-outs were recorded');

    // Let the campaign finish: everyone else gets the message (deferred sends resumed, not dropped).
    const staying = phones.filter((p) => !leaving.includes(p));
    await eventually(async () => staying.every((p) => campaignSendsTo(p).length === 1), 30_000, 100);
    assert.ok(staying.some((p) => (campaignSendsTo(p)[0]?.at.getTime() ?? 0) > optOutsDone), 'sends went on after the opt-outs');

    for (const phone of leaving) {
      const late = campaignSendsTo(phone).filter((s) => s.at.getTime() > (recordedAt.get(phone) as number));
      assert.equal(late.length, 0, `no campaign message reached ${phone} after its opt-out`);
    }
    const recipients = await h.t.request<{ recipients: MessageView[] }>('get', `/api/messages/bulk/${campaign.body.campaign.id}?limit=100`, { as: 'manager' });
    const stopped = recipients.body.recipients.filter((m) => leaving.includes(m.phone ?? ''));
    assert.equal(stopped.length, leaving.length);
    for (const message of stopped) {
      if (campaignSendsTo(message.phone as string).length) continue; // handed to the provider before the opt-out
      assert.equal(message.status, 'denied');
      assert.ok(message.policyDecisions.some((d) => d.decision === 'deny' && d.code === 'CONSENT_OPTED_OUT'), 'denied by consent, with the reason');
    }
    assert.ok(stopped.filter((m) => m.status === 'denied').length >= leaving.length - 1, 'the opt-outs stopped the sends still waiting');
  });
});
