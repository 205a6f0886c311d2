import assert from 'node:assert/strict';
import type { Model } from 'mongoose';
import { Scheduler } from '../../../core/index.js';
import { PRUNE_UPDATES_JOB } from '../../../plugins/whatsapp/jobs/prune-updates.js';
import { WebhookUpdateModel, type WebhookUpdate } from '../../../plugins/whatsapp/models/webhook-update.js';
import { inboundText } from '../../doubles/whatsapp-payloads.js';
import { eventually } from '../../helpers/test-host.js';
import { startWhatsapp, type WhatsappHarness } from './harness.js';

describe('plugin whatsapp: retention of webhook updates', () => {
  let h: WhatsappHarness;
  before(async () => { h = await startWhatsapp('wa_retention', { webhook: { retentionDays: 10 } }); });
  after(async () => { await h.stop(); });

  it('removes handled updates past retention, keeps recent ones, and a recent redelivery stays a no-op', async () => {
    const updates = h.t.server.get<Model<WebhookUpdate>>(WebhookUpdateModel.token);
    const old = (days: number) => new Date(Date.now() - days * 86_400_000);
    await updates.insertMany([
      { _id: 'old-processed', kind: 'other', field: 'x', payload: {}, state: 'processed', attempts: 1, receivedAt: old(11) },
      { _id: 'old-failed', kind: 'other', field: 'x', payload: {}, state: 'failed', attempts: 5, receivedAt: old(12) },
      { _id: 'young-processed', kind: 'other', field: 'x', payload: {}, state: 'processed', attempts: 1, receivedAt: old(9) },
    ]);
    const { payload, id } = inboundText('keep me');
    assert.equal((await h.deliver(payload)).status, 200);

    await h.t.server.get(Scheduler).now(PRUNE_UPDATES_JOB, {});
    await eventually(async () => (await updates.countDocuments({ _id: { $in: ['old-processed', 'old-failed'] } })) === 0, 20_000);
    assert.ok(await updates.exists({ _id: 'young-processed' }));

    assert.equal((await h.deliver(payload)).status, 200);
    const inbound = await h.t.request<{ items: Array<{ providerMessageId: string }> }>('get', '/api/messages?direction=inbound&limit=200', { as: 'agent' });
    assert.equal(inbound.body.items.filter((m) => m.providerMessageId === id).length, 1);
  });
});
