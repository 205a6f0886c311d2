/**
 * Two server processes (two containers on one database and one Redis) and a campaign whose
 * lease expired: exactly one of them takes it over, and never while its runner is still alive
 * and sending, so a send in flight keeps the answer Meta gave.
 */
import assert from 'node:assert/strict';
import { Types, type Model } from 'mongoose';
import { CampaignModel, type Campaign } from '../../../plugins/whatsapp/models/campaign.js';
import { Campaigns } from '../../../plugins/whatsapp/services/campaigns.js';
import { PHONE_NUMBER_ID } from '../../doubles/whatsapp-payloads.js';
import { eventually, startWhatsapp, type WhatsappHarness } from './harness.js';

interface Recipient { status: string; error?: { code: number; reason: string } }

async function startPair(label: string, settings: Record<string, unknown>): Promise<[WhatsappHarness, WhatsappHarness]> {
  const a = await startWhatsapp(label, settings);
  const b = await startWhatsapp(label, settings, { mongodbUri: a.t.mongodbUri, graph: a.graph });
  a.graph.webhook = null;
  return [a, b];
}

describe('whatsapp campaigns: take-over by another process', () => {
  describe('a runner alive but unable to renew its lease in the database', () => {
    let a: WhatsappHarness;
    let b: WhatsappHarness;
    // Leases of 1 s: each process sweeps every second.
    before(async () => { [a, b] = await startPair('wa_takeover_live', { requestTimeoutMs: 8000, bulk: { concurrency: 1, leaseMs: 1000, maxRecipients: 10 } }); });
    after(async () => {
      await b.t.stop();
      await a.stop();
    });

    it('keeps its campaign: the other process\'s sweep does not mark the send in flight unknown, and Meta\'s refusal is recorded as failed', async function () {
      this.timeout(30_000);
      // A's renewals fail after the first (its database writes time out), so the lease in the database lapses.
      const owner = (a.t.server.get(Campaigns) as unknown as { owner: string }).owner;
      const model = a.t.server.get<Model<Campaign>>(CampaignModel.token);
      const updateOne = model.updateOne;
      let renewals = 0;
      model.updateOne = (function (this: unknown, filter: { leaseOwner?: string }, ...rest: unknown[]) {
        if (filter.leaseOwner === owner && ++renewals > 1) return Promise.reject(new Error('test: database write timed out'));
        return (updateOne as (...args: unknown[]) => unknown).call(model, filter, ...rest);
      }) as unknown as typeof model.updateOne;
      // Meta answers A's call after 4 s (B sweeps four times meanwhile) with a refusal.
      a.graph.delayMs = 4_000;
      a.graph.failNext({ code: 131026 });
      try {
        const created = await a.t.request<{ campaign: { id: string } }>('post', '/api/messages/bulk', { as: 'manager', body: { template: { name: 'promo', language: 'en' }, recipients: ['447700900777'] } });
        assert.equal(created.status, 202);
        const id = created.body.campaign.id;
        await eventually(async () => {
          const res = await b.t.request<{ campaign: { state: string } }>('get', `/api/messages/bulk/${id}`, { as: 'agent' });
          return res.body.campaign.state === 'completed';
        }, 20_000, 200);
        await a.graph.settled();
        const res = await b.t.request<{ recipients: Recipient[] }>('get', `/api/messages/bulk/${id}`, { as: 'agent' });
        const [message] = res.body.recipients;
        assert.deepEqual({ sends: a.graph.sends.length, status: message?.status, code: message?.error?.code }, { sends: 1, status: 'failed', code: 131026 }, message?.error?.reason);
      } finally {
        model.updateOne = updateOne;
        a.graph.delayMs = 0;
      }
    });
  });

  describe('two sweeps at once', () => {
    let a: WhatsappHarness;
    let b: WhatsappHarness;
    // Leases of a minute: the sweeps on the processes' timers stay out of the way; the test sweeps.
    before(async () => { [a, b] = await startPair('wa_takeover_sweeps', { bulk: { concurrency: 1, leaseMs: 60_000, maxRecipients: 10 } }); });
    after(async () => {
      await b.t.stop();
      await a.stop();
    });

    it('take over each campaign whose process died exactly once between them', async function () {
      this.timeout(30_000);
      const campaigns = a.t.server.get<Model<Campaign>>(CampaignModel.token);
      const count = 8;
      const ids = Array.from({ length: count }, () => new Types.ObjectId());
      // Finished campaigns the sweeps' filter reads past (FerretDB scans it): the sweeps overlap.
      await campaigns.insertMany(Array.from({ length: 1000 }, () => ({
        phoneNumberId: PHONE_NUMBER_ID, recipients: 0, members: [], state: 'completed', leaseUntil: new Date(0), createdAt: new Date(),
      })));
      // Campaigns of a process that died: running, their leases long expired.
      await campaigns.insertMany(ids.map((_id, i) => ({
        _id, phoneNumberId: PHONE_NUMBER_ID, template: { name: 'promo', language: 'en' }, recipients: 1,
        members: [{ to: `4477009008${String(i).padStart(2, '0')}`, messageId: new Types.ObjectId() }],
        state: 'running', leaseOwner: 'dead-process', leaseUntil: new Date(0), createdAt: new Date(),
      })));
      const [byA, byB] = await Promise.all([a.t.server.get(Campaigns).resumeOrphans(), b.t.server.get(Campaigns).resumeOrphans()]);
      assert.equal(byA + byB, count, `A took ${byA} and B ${byB} of ${count} campaigns`);
      await eventually(async () => (await campaigns.countDocuments({ _id: { $in: ids }, state: 'completed' })) === count, 20_000, 200);
      await a.graph.settled();
      assert.equal(a.graph.sends.length, count);
    });
  });
});
