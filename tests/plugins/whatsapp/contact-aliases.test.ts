import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { inboundText } from '../../doubles/whatsapp-payloads.js';
import { startWhatsapp, type WhatsappHarness } from './harness.js';

interface Page { items: Array<{ providerMessageId?: string; contactId?: string }> }

/** A database from before contact aliases: contacts with both ids keep being found after an upgrade. */
describe('plugin whatsapp: contacts stored before aliases existed', () => {
  let h: WhatsappHarness;
  before(async () => { h = await startWhatsapp('wa_aliases'); });
  after(async () => { await h.stop(); });

  it('are given their aliases at start, so a message with only their other id finds them', async () => {
    const client = new MongoClient(h.t.mongodbUri);
    try {
      const contacts = client.db().collection<{ _id: string } & Record<string, unknown>>('whatsappcontacts');
      // What an older version left: contacts that learned their second id, with no alias for it.
      await contacts.deleteOne({ _id: 'meta:aliases-complete' });
      const now = new Date();
      await contacts.insertMany([
        { _id: 'wa:16505550301', waId: '16505550301', userId: 'US.30000000000000000301', lastInboundAt: {}, createdAt: now, updatedAt: now },
        { _id: 'bsuid:US.30000000000000000302', waId: '16505550302', userId: 'US.30000000000000000302', lastInboundAt: {}, createdAt: now, updatedAt: now },
      ]);
    } finally {
      await client.close();
    }
    await h.restart();
    const byUserId = inboundText('user id only', { userId: 'US.30000000000000000301', withoutPhone: true });
    const byPhone = inboundText('phone only', { from: '16505550302' });
    await h.deliver(byUserId.payload);
    await h.deliver(byPhone.payload);
    const list = (await h.t.request<Page>('get', '/api/messages?direction=inbound&limit=200', { as: 'agent' })).body.items;
    assert.equal(list.find((m) => m.providerMessageId === byUserId.id)?.contactId, 'wa:16505550301');
    assert.equal(list.find((m) => m.providerMessageId === byPhone.id)?.contactId, 'bsuid:US.30000000000000000302');
  });
});
