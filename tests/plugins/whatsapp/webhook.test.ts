import assert from 'node:assert/strict';
import { nextEvent } from '../../helpers/test-host.js';
import {
  inbound, inboundText, statusObject, statuses, templateStatus, unix, userPreference, wamid, type Envelope,
} from '../../doubles/whatsapp-payloads.js';
import { APP_SECRET, sign, startWhatsapp, VERIFY_TOKEN, type WhatsappHarness } from './harness.js';

interface MessageView { id: string; type: string; text?: string; content?: Record<string, unknown>; status: string; contactId?: string; error?: { code: number; retryable: boolean }; timeline: Array<{ status: string; errors?: unknown[]; pricing?: unknown }> }
interface Page { items: MessageView[] }

describe('plugin whatsapp: webhook', () => {
  let h: WhatsappHarness;
  before(async () => { h = await startWhatsapp('wa_webhook'); });
  after(async () => { await h.stop(); });

  const inboundByWamid = async (id: string) => {
    const list = await h.t.request<Page>('get', '/api/messages?direction=inbound&limit=200', { as: 'agent' });
    return list.body.items.find((m) => (m as unknown as { providerMessageId: string }).providerMessageId === id);
  };

  describe('verification handshake', () => {
    it('echoes hub.challenge verbatim for the right verify token', async () => {
      const res = await h.t.request('get', `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
      assert.equal(res.status, 200);
      assert.equal(res.text, '1158201444');
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    });

    it('refuses a wrong verify token or mode with 403, and missing parameters with 400', async () => {
      const wrong = await h.t.request<{ error: { code: string } }>('get', '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1');
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, 'WHATSAPP_VERIFY_TOKEN_MISMATCH');
      const mode = await h.t.request('get', `/webhooks/whatsapp?hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`);
      assert.equal(mode.status, 403);
      const missing = await h.t.request('get', '/webhooks/whatsapp?hub.mode=subscribe');
      assert.equal(missing.status, 400);
    });
  });

  describe('signature', () => {
    it('answers 401 and stores nothing when the signature is missing or wrong', async () => {
      const { payload, id } = inboundText('unsigned');
      const missing = await h.post(payload, { signature: null });
      assert.equal(missing.status, 401);
      const wrongKey = await h.post(payload, { signature: sign(JSON.stringify(payload), 'another-secret') });
      assert.equal(wrongKey.status, 401);
      const garbage = await h.post(payload, { signature: 'sha256=zz' });
      assert.equal(garbage.status, 401);
      const sha1 = await h.post(payload, { signature: 'sha1=0123456789abcdef0123456789abcdef01234567' });
      assert.equal(sha1.status, 401);
      assert.equal(await inboundByWamid(id), undefined);
    });

    it('checks the raw bytes: a body signed before a change of whitespace is refused', async () => {
      const { payload } = inboundText('spaces');
      const raw = JSON.stringify(payload);
      const res = await h.post(payload, { raw: JSON.stringify(payload, null, 2), signature: sign(raw) });
      assert.equal(res.status, 401);
    });

    it('accepts non-ASCII bodies signed over their bytes, raw UTF-8 or \\u-escaped like Meta', async () => {
      const utf8 = inboundText('Olá, ação 👋 Привет');
      const rawUtf8 = Buffer.from(JSON.stringify(utf8.payload), 'utf8');
      assert.equal((await h.post(utf8.payload, { raw: rawUtf8, signature: sign(rawUtf8) })).status, 200);
      const escaped = inboundText('Café ☕');
      const rawEscaped = JSON.stringify(escaped.payload).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      assert.ok(rawEscaped.includes('\\u00e9'));
      assert.equal((await h.post(escaped.payload, { raw: rawEscaped, signature: sign(rawEscaped) })).status, 200);
      // Re-serialising would have produced different bytes, so a verifier doing that would refuse Meta's request.
      assert.notEqual(sign(JSON.stringify(JSON.parse(rawEscaped))), sign(rawEscaped));
      await h.deliver({ object: 'whatsapp_business_account', entry: [] });
      assert.equal((await inboundByWamid(utf8.id))?.text, 'Olá, ação 👋 Привет');
      assert.equal((await inboundByWamid(escaped.id))?.text, 'Café ☕');
    });

    it('answers 400, never 500, to malformed bodies', async () => {
      const bad = '{"object": "whatsapp_business_account", "entry": [';
      const malformed = await h.post(null, { raw: bad, signature: sign(bad) });
      assert.equal(malformed.status, 400);
      const notEnvelope = await h.post({ entry: [{ changes: 'nope' }] });
      assert.equal(notEnvelope.status, 400);
      assert.equal((notEnvelope.body as { error: { code: string } }).error.code, 'WHATSAPP_WEBHOOK_MALFORMED');
      const noEntry = await h.post({ object: 'whatsapp_business_account' });
      assert.equal(noEntry.status, 400);
      const array = await h.post([1, 2]);
      assert.equal(array.status, 400);
    });
  });

  describe('inbound messages', () => {
    it('stores a text, opens the window and announces it on the messages topic', async () => {
      const socket = await h.t.socket({ as: 'agent' });
      await socket.emitWithAck('subscribe', ['messages']);
      const { payload, id } = inboundText('Hello there', { from: '447700900001', name: 'Ada' });
      const announced = nextEvent<MessageView>(socket, 'message.received', 5_000, (m) => m.text === 'Hello there');
      const res = await h.deliver(payload);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { received: 1, stored: 1, duplicates: 0 });
      assert.equal((await announced).type, 'text');
      const message = await inboundByWamid(id);
      assert.equal(message?.status, 'received');
      const thread = await h.t.request<{ window: { open: boolean }; contact: { name: string } }>('get', '/api/conversations/447700900001', { as: 'agent' });
      assert.equal(thread.body.window.open, true);
      assert.equal(thread.body.contact.name, 'Ada');
    });

    it('parses button, interactive replies, media, location, unsupported and unknown types', async () => {
      const context = { from: '15550783881', id: wamid() };
      const cases: Array<{ made: { payload: Envelope; id: string }; check: (m: MessageView) => void }> = [
        { made: inbound('button', { payload: 'Unsubscribe', text: 'Unsubscribe' }, { context }), check: (m) => { assert.equal(m.type, 'button'); assert.equal(m.text, 'Unsubscribe'); assert.deepEqual(m.content?.button, { payload: 'Unsubscribe', text: 'Unsubscribe' }); } },
        { made: inbound('interactive', { type: 'button_reply', button_reply: { id: 'yes-1', title: 'Yes' } }, { context }), check: (m) => { assert.equal(m.text, 'Yes'); assert.deepEqual(m.content?.reply, { kind: 'button_reply', id: 'yes-1', title: 'Yes' }); } },
        { made: inbound('interactive', { type: 'list_reply', list_reply: { id: 'slot-2', title: 'Tuesday', description: '10:00' } }, { context }), check: (m) => assert.deepEqual(m.content?.reply, { kind: 'list_reply', id: 'slot-2', title: 'Tuesday', description: '10:00' }) },
        { made: inbound('image', { caption: 'receipt', mime_type: 'image/jpeg', sha256: 'abc=', id: '1003383421387256' }), check: (m) => { assert.equal(m.type, 'image'); assert.deepEqual(m.content?.media, { kind: 'image', id: '1003383421387256', mimeType: 'image/jpeg', sha256: 'abc=', caption: 'receipt' }); } },
        { made: inbound('document', { filename: 'invoice.pdf', mime_type: 'application/pdf', sha256: 'x', id: '42' }), check: (m) => assert.equal((m.content?.media as { filename: string }).filename, 'invoice.pdf') },
        { made: inbound('location', { latitude: 38.9, longitude: -77.03, name: 'Office', address: '1 Main St' }), check: (m) => assert.deepEqual(m.content?.location, { latitude: 38.9, longitude: -77.03, name: 'Office', address: '1 Main St' }) },
        {
          made: (() => { const made = inbound('unsupported', undefined); ((made.payload.entry[0]?.changes[0]?.value.messages as Array<Record<string, unknown>>)[0] as Record<string, unknown>).errors = [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }]; return made; })(),
          check: (m) => { assert.equal(m.type, 'unsupported'); assert.equal(m.error?.code, 131051); assert.ok(m.content?.raw); },
        },
        { made: inbound('hologram', { beam: 1 }), check: (m) => { assert.equal(m.type, 'unknown'); assert.deepEqual((m.content?.raw as { hologram: unknown }).hologram, { beam: 1 }); } },
      ];
      for (const { made } of cases) assert.equal((await h.post(made.payload)).status, 200);
      await h.deliver({ object: 'whatsapp_business_account', entry: [] });
      for (const { made, check } of cases) {
        const message = await inboundByWamid(made.id);
        assert.ok(message, `stored ${made.id}`);
        check(message);
      }
    });

    it('identifies a username user by business-scoped user id, with or without a phone number', async () => {
      const userId = 'US.13491208655302741918';
      await h.deliver(inboundText('first, no phone', { userId, withoutPhone: true }).payload);
      const second = inboundText('now with phone', { userId, from: '16505550199' });
      await h.deliver(second.payload);
      const first = (await h.t.request<Page>('get', '/api/messages?direction=inbound&limit=200', { as: 'agent' })).body.items.find((m) => m.text === 'first, no phone');
      const later = await inboundByWamid(second.id);
      assert.ok(first?.contactId);
      assert.equal(later?.contactId, first?.contactId);
    });

    it('finds a contact by either id once it has both, whichever one a later message carries', async () => {
      // Created by phone with a user id: a message with only the user id finds it.
      const both = await h.deliver(inboundText('phone and user id', { from: '16505550201', userId: 'US.20000000000000000201' }).payload);
      assert.equal(both.status, 200);
      const byUserId = inboundText('user id only', { userId: 'US.20000000000000000201', withoutPhone: true });
      await h.deliver(byUserId.payload);
      assert.equal((await inboundByWamid(byUserId.id))?.contactId, 'wa:16505550201');
      // Created by user id, then learns the phone: a message with only the phone finds it.
      await h.deliver(inboundText('user id first', { userId: 'US.20000000000000000202', withoutPhone: true }).payload);
      await h.deliver(inboundText('now both', { from: '16505550202', userId: 'US.20000000000000000202' }).payload);
      const byPhone = inboundText('phone only', { from: '16505550202' });
      await h.deliver(byPhone.payload);
      assert.equal((await inboundByWamid(byPhone.id))?.contactId, 'bsuid:US.20000000000000000202');
      const bothAgain = inboundText('both again', { from: '16505550202', userId: 'US.20000000000000000202' });
      await h.deliver(bothAgain.payload);
      assert.equal((await inboundByWamid(bothAgain.id))?.contactId, 'bsuid:US.20000000000000000202');
      const conversation = await h.t.request<{ contact?: { id: string; userId?: string }; window: { open: boolean } }>('get', '/api/conversations/16505550202', { as: 'agent' });
      assert.equal(conversation.body.contact?.id, 'bsuid:US.20000000000000000202');
      assert.equal(conversation.body.window.open, true);
    });

    it('treats a redelivered webhook as a no-op', async () => {
      const { payload, id } = inboundText('only once');
      const first = await h.deliver(payload);
      const again = await h.deliver(payload);
      assert.deepEqual(first.body, { received: 1, stored: 1, duplicates: 0 });
      assert.deepEqual(again.body, { received: 1, stored: 0, duplicates: 1 });
      const list = await h.t.request<Page>('get', '/api/messages?direction=inbound&limit=200', { as: 'agent' });
      assert.equal(list.body.items.filter((m) => (m as unknown as { providerMessageId: string }).providerMessageId === id).length, 1);
    });

    it('accepts a body close to 3 MB', async () => {
      const payload = statuses([{ ...statusObject(wamid(), 'sent'), biz_opaque_callback_data: 'z'.repeat(3 * 1024 * 1024 - 2_000) }]);
      assert.equal((await h.post(payload)).status, 200);
    });

    it('refuses a body over 3 MB with 413', async () => {
      const payload = statuses([{ ...statusObject(wamid(), 'sent'), biz_opaque_callback_data: 'y'.repeat(3 * 1024 * 1024) }]);
      assert.equal((await h.post(payload)).status, 413);
    });
  });

  describe('large batches', () => {
    let big: WhatsappHarness;
    // A server of its own: processing 1,000 updates on FerretDB takes longer than this file should wait.
    before(async () => { big = await startWhatsapp('wa_batch'); });
    after(async () => { await big.stop(); });

    it('takes a batch of 1,000 updates in one POST, each stored on its own', async function () {
      this.timeout(90_000);
      const list = Array.from({ length: 1000 }, () => statusObject(wamid(), 'delivered'));
      const payload = statuses(list);
      const started = Date.now();
      const res = await big.post(payload);
      const ackMs = Date.now() - started;
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { received: 1000, stored: 1000, duplicates: 0 });
      assert.ok(ackMs < 30_000, `acknowledged in ${ackMs} ms`);
      const again = await big.post(payload);
      assert.deepEqual(again.body, { received: 1000, stored: 0, duplicates: 1000 });
    });

  });

  describe('preferences and template status', () => {
    it('records a marketing stop and resume from user_preferences on the contact', async () => {
      const socket = await h.t.socket({ as: 'agent' });
      await socket.emitWithAck('subscribe', ['messages']);
      const signal = nextEvent<{ value: string; source: string }>(socket, 'contact.preferences');
      await h.deliver(userPreference('5511999990000', 'stop', unix(new Date(Date.now() - 60_000))));
      assert.deepEqual({ ...(await signal) }, { ...(await signal), value: 'stop', source: 'user_preferences' });
      let thread = await h.t.request<{ contact: { marketing: { state: string } } }>('get', '/api/conversations/5511999990000', { as: 'agent' });
      assert.equal(thread.body.contact.marketing.state, 'stopped');
      await h.deliver(userPreference('5511999990000', 'resume'));
      thread = await h.t.request('get', '/api/conversations/5511999990000', { as: 'agent' });
      assert.equal(thread.body.contact.marketing.state, 'resumed');
      // An older signal arriving late does not undo a newer one.
      await h.deliver(userPreference('5511999990000', 'stop', unix(new Date(Date.now() - 3_600_000))));
      thread = await h.t.request('get', '/api/conversations/5511999990000', { as: 'agent' });
      assert.equal(thread.body.contact.marketing.state, 'resumed');
    });

    it('announces template status updates on the delivery topic, language normalised', async () => {
      const socket = await h.t.socket({ as: 'analyst' });
      await socket.emitWithAck('subscribe', ['delivery']);
      const update = nextEvent<{ event: string; language: string; templateName: string; reason: string | null }>(socket, 'template.status');
      await h.deliver(templateStatus('REJECTED', { reason: 'INVALID_FORMAT', name: 'spring_sale' }));
      const received = await update;
      assert.equal(received.event, 'REJECTED');
      assert.equal(received.language, 'en_US');
      assert.equal(received.reason, 'INVALID_FORMAT');
    });
  });

  describe('statuses', () => {
    const sendText = async (text: string, to = '447700900001') => {
      const res = await h.t.request<MessageView & { providerMessageId: string }>('post', '/api/messages', { as: 'agent', body: { to: `+${to}`, text } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };

    before(async () => {
      // Opens the 24-hour window so free-form sends are allowed.
      await h.deliver(inboundText('hi', { from: '447700900001' }).payload);
      h.graph.webhook = null;
    });

    it('keeps each status with its timestamps, pricing and errors; failed after sent keeps the error', async () => {
      const sent = await sendText('status test');
      await h.deliver(statuses([statusObject(sent.providerMessageId, 'sent')]));
      await h.deliver(statuses([statusObject(sent.providerMessageId, 'failed', { errors: [{ code: 131026, title: 'Message undeliverable', error_data: { details: 'Message Undeliverable.' } }] })]));
      const message = (await h.t.request<MessageView>('get', `/api/messages/${sent.id}`, { as: 'agent' })).body;
      assert.equal(message.status, 'failed', JSON.stringify(message));
      assert.equal(message.error?.code, 131026);
      assert.equal(message.error?.retryable, false);
      assert.deepEqual(message.timeline.filter((e) => ['sent', 'failed'].includes(e.status)).map((e) => e.status), ['sent', 'failed']);
      assert.ok(message.timeline.find((e) => e.status === 'sent')?.pricing);
    });

    it('never lets a late delivered overwrite read, and takes read without delivered', async () => {
      const socket = await h.t.socket({ as: 'analyst' });
      await socket.emitWithAck('subscribe', ['delivery']);
      const sent = await sendText('order test');
      const late = nextEvent<{ status: string; applied: boolean; current: string }>(socket, 'status.updated', 5_000, (e) => e.status === 'delivered');
      await h.deliver(statuses([statusObject(sent.providerMessageId, 'read')]));
      await h.deliver(statuses([statusObject(sent.providerMessageId, 'delivered')]));
      await h.deliver(statuses([statusObject(sent.providerMessageId, 'sent')]));
      const event = await late;
      assert.equal(event.applied, false);
      assert.equal(event.current, 'read');
      const timeline = (await h.t.request<{ status: string; timeline: Array<{ status: string }> }>('get', `/api/delivery/${sent.id}`, { as: 'analyst' })).body;
      assert.equal(timeline.status, 'read');
      assert.deepEqual(timeline.timeline.filter((e) => e.status !== 'queued' && e.status !== 'sending' && e.status !== 'accepted').map((e) => e.status).sort(), ['delivered', 'read', 'sent']);
    });

    it('ignores duplicate statuses, in one POST or redelivered, and handles played', async () => {
      const sent = await sendText('dup test');
      const twice = statuses([statusObject(sent.providerMessageId, 'delivered'), statusObject(sent.providerMessageId, 'delivered')]);
      const first = await h.deliver(twice);
      assert.deepEqual(first.body, { received: 2, stored: 1, duplicates: 1 });
      const again = await h.deliver(twice);
      assert.deepEqual(again.body, { received: 2, stored: 0, duplicates: 2 });
      await h.deliver(statuses([statusObject(sent.providerMessageId, 'played')]));
      const message = (await h.t.request<MessageView>('get', `/api/messages/${sent.id}`, { as: 'agent' })).body;
      assert.equal(message.timeline.filter((e) => e.status === 'delivered').length, 1);
      assert.equal(message.status, 'played');
    });

    it('keeps statuses of messages not sent through Flowgate without failing', async () => {
      const res = await h.deliver(statuses([statusObject(wamid(), 'delivered')]));
      assert.equal(res.status, 200);
    });
  });

  it('uses the app secret from the environment only', () => {
    assert.equal(process.env.WHATSAPP_APP_SECRET, APP_SECRET);
  });
});
