import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { MongoConnection, RedisConnection } from '../../../core/index.js';
import { InboundProcessor } from '../../../plugins/whatsapp/services/inbound-processor.js';
import { eventIdFor } from '../../../core/engine/workflow-engine.js';
import { inboundText, userPreference } from '../../doubles/whatsapp-payloads.js';
import { eventually, nextEvent } from '../../helpers/test-host.js';
import { startConsent, type ConsentHarness } from './harness.js';

interface Consent { phone: string; state: string; source?: string; evidence?: Record<string, string>; blocked: boolean; block?: { kind: string; until: string } }
interface Change { id: string; state: string; source: string; evidence: Record<string, string>; at: string }
interface Check { allowed: boolean; decision: string; decidedBy: string | null; reason: string; decisions: Array<{ policy: string; decision: string; code?: string }> }
interface ApiError { error: { code: string } }

let phoneCounter = 0;
const newPhone = () => `4477009${String(Date.now()).slice(-5)}${phoneCounter++}`;
const key = () => `key-${Math.random().toString(36).slice(2, 12)}`;

describe('plugin consent', () => {
  let h: ConsentHarness;
  let socket: Socket;
  before(async () => {
    h = await startConsent('consent');
    socket = await h.t.socket({ as: 'agent' });
    await socket.emitWithAck('subscribe', ['consent', 'messages']);
  });
  after(async () => { await h.stop(); });

  describe('routes', () => {
    it('records an opt-in with evidence, once per idempotency key, and shows it with its history', async () => {
      const phone = newPhone();
      const body = { source: 'form', evidence: { note: 'checkbox on the checkout page' }, idempotencyKey: key() };
      const event = nextEvent<Consent>(socket, 'consent.changed', 5000, (e) => e.phone === phone);
      const first = await h.t.request<{ consent: Consent; recorded: boolean }>('post', `/api/consent/+${phone}/opt-in`, { as: 'agent', body });
      assert.equal(first.status, 201);
      assert.equal(first.body.consent.state, 'opted_in');
      assert.equal((await event).state, 'opted_in');
      const again = await h.t.request<{ recorded: boolean }>('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body });
      assert.equal(again.status, 200);
      assert.equal(again.body.recorded, false);
      const one = await h.t.request<Consent>('get', `/api/consent/${phone}`, { as: 'agent' });
      assert.deepEqual({ state: one.body.state, source: one.body.source, actor: one.body.evidence?.actor }, { state: 'opted_in', source: 'form', actor: 'test-agent' });
      const history = await h.t.request<{ items: Change[] }>('get', `/api/consent/${phone}/history`, { as: 'agent' });
      assert.equal(history.body.items.length, 1);
      assert.equal(history.body.items[0]?.evidence.note, 'checkbox on the checkout page');
    });

    it('keeps an older change in the history without letting it override a newer state', async () => {
      const phone = newPhone();
      await h.t.request('post', `/api/consent/${phone}/opt-out`, { as: 'agent', body: { idempotencyKey: key(), at: '2026-11-20T10:00:00Z' } });
      await h.t.request('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: key(), at: '2026-11-01T10:00:00Z' } });
      assert.equal((await h.t.request<Consent>('get', `/api/consent/${phone}`, { as: 'agent' })).body.state, 'opted_out');
      const history = await h.t.request<{ items: Change[] }>('get', `/api/consent/${phone}/history`, { as: 'agent' });
      assert.deepEqual(history.body.items.map((c) => c.state), ['opted_in', 'opted_out']);
    });

    it('lists contacts by state with cursor pagination', async () => {
      const phones = [newPhone(), newPhone(), newPhone()];
      for (const phone of phones) await h.t.request('post', `/api/consent/${phone}/opt-out`, { as: 'agent', body: { idempotencyKey: key() } });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.t.request<{ items: Consent[]; nextCursor?: string }>('get', `/api/consent?state=opted_out&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: 'analyst' });
        assert.equal(page.status, 403, 'analysts do not read consent');
        const agentPage = await h.t.request<{ items: Consent[]; nextCursor?: string }>('get', `/api/consent?state=opted_out&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: 'agent' });
        assert.ok(agentPage.body.items.every((c) => c.state === 'opted_out'));
        seen.push(...agentPage.body.items.map((c) => c.phone));
        cursor = agentPage.body.nextCursor;
      } while (cursor);
      for (const phone of phones) assert.ok(seen.includes(phone));
    });

    it('refuses bad input and missing permissions', async () => {
      const phone = newPhone();
      const cases: Array<[string, string, { as?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }, number]> = [
        ['post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: {} }, 400],
        ['post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: key(), extra: 1 } }, 400],
        ['post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: key(), source: 'telepathy' } }, 400],
        ['post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: 42 } }, 400],
        ['post', `/api/consent/${phone}/opt-in`, { as: 'agent', rawBody: '{"idempotencyKey": ', headers: { 'content-type': 'application/json' } }, 400],
        ['post', '/api/consent/not-a-phone/opt-out', { as: 'agent', body: { idempotencyKey: key() } }, 400],
        ['get', '/api/consent?state=maybe', { as: 'agent' }, 400],
        ['get', '/api/consent?limit=0', { as: 'agent' }, 400],
        ['get', '/api/compliance/check', { as: 'agent' }, 400],
        ['get', `/api/compliance/check?phone=${phone}&extra=1`, { as: 'agent' }, 400],
        ['post', `/api/consent/${phone}/opt-in`, { body: { idempotencyKey: key() } }, 401],
        ['post', `/api/consent/${phone}/opt-out`, { as: 'viewer', body: { idempotencyKey: key() } }, 403],
        ['get', `/api/consent/${phone}`, { as: 'viewer' }, 403],
        ['delete', `/api/compliance/contacts/${phone}`, { as: 'manager' }, 403],
      ];
      for (const [method, path, options, status] of cases) {
        const res = await h.t.request(method, path, options);
        assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(options.body ?? options.rawBody ?? '')} → ${res.status} ${res.text}`);
      }
    });

    it('refuses an idempotency key reused for another phone', async () => {
      const idempotencyKey = key();
      await h.t.request('post', `/api/consent/${newPhone()}/opt-in`, { as: 'agent', body: { idempotencyKey } });
      const reused = await h.t.request<ApiError>('post', `/api/consent/${newPhone()}/opt-in`, { as: 'agent', body: { idempotencyKey } });
      assert.equal(reused.status, 409);
      assert.equal(reused.body.error.code, 'CONSENT_IDEMPOTENCY_CONFLICT');
    });
  });

  describe('policies and the combined check', () => {
    const check = async (phone: string, category: string) => (await h.t.request<Check>('get', `/api/compliance/check?phone=${phone}&category=${category}`, { as: 'agent' })).body;

    it('marketing needs an opt-in; utility only the absence of an opt-out; each decision says why', async () => {
      const phone = newPhone();
      const unknown = await check(phone, 'marketing');
      assert.deepEqual([unknown.allowed, unknown.decidedBy], [false, 'consent.required@1']);
      assert.equal(unknown.decisions.find((d) => d.policy === 'consent.required@1')?.code, 'CONSENT_NOT_OPTED_IN');
      assert.equal(unknown.decisions.find((d) => d.policy === 'rate.limit@1')?.decision, 'not-loaded');
      assert.equal((await check(phone, 'utility')).allowed, true);
      await h.t.request('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: key() } });
      const allowed = await check(phone, 'marketing');
      assert.deepEqual([allowed.allowed, allowed.decidedBy], [true, null]);
      await h.t.request('post', `/api/consent/${phone}/opt-out`, { as: 'agent', body: { idempotencyKey: key() } });
      const utility = await check(phone, 'utility');
      assert.equal(utility.decisions.find((d) => d.policy === 'consent.required@1')?.code, 'CONSENT_OPTED_OUT');
      assert.equal((await check(phone, 'authentication')).allowed, true);
    });

    it('free-form text outside the 24-hour window is refused by the window policy', async () => {
      const result = await check(newPhone(), 'service');
      assert.equal(result.decidedBy, 'whatsapp.window@1');
    });

    it('blocks manually and automatically after repeated opt-outs; a block denies every category', async () => {
      const manual = newPhone();
      const blocked = nextEvent<{ phone: string; kind: string }>(socket, 'consent.blocked', 5000, (e) => e.phone === manual);
      await h.t.request('post', `/api/consent/${manual}/opt-out`, { as: 'agent', body: { idempotencyKey: key(), block: { reason: 'spam report', days: 7 } } });
      assert.equal((await blocked).kind, 'manual');
      const result = await check(manual, 'authentication');
      assert.deepEqual([result.allowed, result.decidedBy], [false, 'consent.not-blocked@1']);
      assert.match(result.reason, /spam report/);

      const repeated = newPhone();
      for (let i = 0; i < 3; i++) await h.t.request('post', `/api/consent/${repeated}/opt-out`, { as: 'agent', body: { idempotencyKey: key() } });
      const state = (await h.t.request<Consent>('get', `/api/consent/${repeated}`, { as: 'agent' })).body;
      assert.equal(state.block?.kind, 'automatic');
      assert.ok(Date.parse(state.block?.until ?? '') > Date.now() + 29 * 86_400_000);
    });

    it('guards API sends: a marketing template to a contact who opted out is denied with the reason', async () => {
      const phone = newPhone();
      await h.t.request('post', `/api/consent/${phone}/opt-out`, { as: 'agent', body: { idempotencyKey: key() } });
      const before = h.graph.sends.length;
      const res = await h.t.request<{ status: string; policyDecisions?: Array<{ code?: string }> }>('post', '/api/messages', { as: 'agent', body: { to: `+${phone}`, template: { name: 'spring_sale', language: 'en' } } });
      assert.ok([201, 422].includes(res.status), res.text);
      assert.equal(h.graph.sends.length, before, 'nothing reached the provider');
      assert.match(res.text, /CONSENT_OPTED_OUT/);
    });
  });

  describe('opt-out signals from Meta', () => {
    it('a user_preferences stop is recorded as an opt-out with provider source (shipped workflow)', async () => {
      const phone = newPhone();
      assert.equal(await h.deliver(userPreference(phone, 'stop')), 200);
      const state = await eventually(async () => {
        const res = await h.t.request<Consent>('get', `/api/consent/${phone}`, { as: 'agent' });
        return res.body.state === 'opted_out' ? res.body : null;
      });
      assert.equal(state.source, 'provider');
      assert.match(state.evidence?.note ?? '', /user_preferences/);
    });
    it('send error 131050 on a marketing template is recorded as an opt-out with provider source', async () => {
      const phone = newPhone();
      await h.t.request('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: key() } });
      await h.deliver(inboundText('hello', { from: phone }).payload); // a known contact: the WhatsApp plugin signals 131050 for contacts only
      h.graph.failNext({ code: 131050, message: 'Unable to deliver message', details: 'User has stopped marketing messages' });
      await h.t.request('post', '/api/messages', { as: 'agent', body: { to: phone, template: { name: 'spring_sale', language: 'en_US' } } });
      const state = await eventually(async () => {
        const res = await h.t.request<Consent>('get', `/api/consent/${phone}`, { as: 'agent' });
        return res.body.state === 'opted_out' ? res.body : null;
      });
      assert.equal(state.source, 'provider');
      assert.match(state.evidence?.note ?? '', /send_error_131050/);
    });
  });

  describe('shipped keyword workflows (signed webhook → consent → reply)', () => {
    const sentTo = (phone: string) => h.graph.sends.filter((s) => (s.body as { to?: string }).to?.replace(/\D/g, '') === phone);

    it('STOP revokes consent with the message as evidence and confirms through the Graph API', async () => {
      const phone = newPhone();
      await h.t.request('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: key() } });
      const changed = nextEvent<Consent>(socket, 'consent.changed', 10_000, (e) => e.phone === phone && e.state === 'opted_out');
      const { payload, id } = inboundText('  Stop! ', { from: phone });
      assert.equal(await h.deliver(payload), 200);
      const event = await changed;
      assert.equal(event.source, 'keyword');
      assert.equal(event.evidence?.messageId, id);
      assert.equal(event.evidence?.text, '  Stop! ');
      assert.equal(event.evidence?.actor, 'workflow:stop-keyword');
      const reply = await eventually(async () => sentTo(phone)[0]);
      assert.match(JSON.stringify(reply.body), /no longer receive marketing/);
      assert.equal((reply.body as { context?: { message_id?: string } }).context?.message_id, id);
      assert.equal((await h.t.request<Consent>('get', `/api/consent/${phone}`, { as: 'agent' })).body.state, 'opted_out');
      const history = await h.t.request<{ items: Change[] }>('get', `/api/consent/${phone}/history`, { as: 'agent' });
      assert.equal(history.body.items.length, 2);
      const audit = await h.t.request<{ items: Array<{ action: string; resource: { id?: string }; subject?: string }> }>('get', `/api/audit/logs?action=consent.revoked&phone=${phone}`, { as: 'manager' });
      assert.equal(audit.status, 200, audit.text);
      assert.equal(audit.body.items.length, 1);
      assert.equal(audit.body.items[0]?.resource.id, history.body.items.find((c) => c.state === 'opted_out')?.id);
      assert.ok(!JSON.stringify(audit.body).includes(phone), 'the audit holds a pseudonym, not the number');
      assert.deepEqual(await executionsOf(id), ['stop-keyword:succeeded'], 'the message started the stop workflow alone');
    });

    it('a STOP update processed again (its process died before marking it processed) changes nothing', async () => {
      const phone = newPhone();
      const { payload, id } = inboundText('STOP', { from: phone });
      assert.equal(await h.deliver(payload), 200);
      await eventually(async () => sentTo(phone)[0]);
      assert.deepEqual(await executionsOf(id), ['stop-keyword:succeeded']);

      // What a survivor finds once a crashed process's claim on the update expires.
      const updates = h.t.server.get(MongoConnection).connection.collection('whatsappwebhookupdates');
      assert.equal((await updates.updateOne({ _id: `message:${id}` } as never, { $set: { state: 'stored' } })).modifiedCount, 1);
      const redis = h.t.server.get(RedisConnection);
      await redis.client.del(`${redis.keyPrefix}whatsapp.update:message:${id}`);
      const inbound = h.t.server.get(InboundProcessor);
      // (the Graph API double's status webhooks for the confirmation may be queued with it)
      assert.ok(await inbound.sweep(0) >= 1);
      await inbound.idle();
      // A second execution or send, were there one, would start within this time (the first took ms).
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      const update = await updates.findOne({ _id: `message:${id}` } as never);
      assert.deepEqual([update?.state, update?.attempts], ['processed', 2]);
      assert.deepEqual(await executionsOf(id), ['stop-keyword:succeeded'], 'no second execution');
      assert.equal(sentTo(phone).length, 1, 'one confirmation');
      const history = await h.t.request<{ items: Change[] }>('get', `/api/consent/${phone}/history`, { as: 'agent' });
      assert.deepEqual(history.body.items.map((c) => c.state), ['opted_out'], 'one consent change');
      const audit = await h.t.request<{ items: unknown[] }>('get', `/api/audit/logs?action=consent.revoked&phone=${phone}`, { as: 'manager' });
      assert.equal(audit.body.items.length, 1, 'one audit entry');
    });

    /** The workflows an inbound message started, with how each ended. */
    async function executionsOf(providerMessageId: string): Promise<string[]> {
      const eventId = eventIdFor('whatsapp.message@1', providerMessageId);
      return eventually(async () => {
        const list = await h.t.request<{ items: Array<{ workflowId: string; status: string }> }>('get', `/api/executions?eventId=${eventId}`, { as: 'viewer' });
        assert.equal(list.status, 200, list.text);
        return list.body.items.every((e) => e.status === 'succeeded') ? list.body.items.map((e) => `${e.workflowId}:${e.status}`).sort() : null;
      });
    }

    it('START grants consent and confirms; HELP only answers', async () => {
      const phone = newPhone();
      const changed = nextEvent<Consent>(socket, 'consent.changed', 10_000, (e) => e.phone === phone);
      assert.equal(await h.deliver(inboundText('start', { from: phone }).payload), 200);
      assert.equal((await changed).state, 'opted_in');
      await eventually(async () => sentTo(phone).some((s) => /subscribed again/.test(JSON.stringify(s.body))));

      const helper = newPhone();
      const help = inboundText('HELP', { from: helper });
      assert.equal(await h.deliver(help.payload), 200);
      await eventually(async () => sentTo(helper).some((s) => /Reply STOP/.test(JSON.stringify(s.body))));
      assert.equal((await h.t.request<Consent>('get', `/api/consent/${helper}`, { as: 'agent' })).body.state, 'unknown');
      assert.deepEqual(await executionsOf(help.id), ['help-keyword:succeeded']);
    });

    it('a sentence that merely contains "stop" changes nothing and gets no reply', async () => {
      const phone = newPhone();
      const sentence = inboundText("don't stop the deliveries", { from: phone });
      await h.deliver(sentence.payload);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await h.t.request<Consent>('get', `/api/consent/${phone}`, { as: 'agent' })).body.state, 'unknown');
      assert.equal(sentTo(phone).length, 0);
      assert.deepEqual(await executionsOf(sentence.id), [], 'no keyword workflow started');
    });

    it('audits refused webhook deliveries (bad signature), not accepted ones: their effects are audited where they happen', async () => {
      const auditOf = async (status: number) => (await h.t.request<{ items: Array<{ status?: number }> }>('get', `/api/audit/logs?action=${encodeURIComponent('POST /webhooks/whatsapp')}`, { as: 'manager' }))
        .body.items.filter((e) => e.status === status).length;
      const before = { accepted: await auditOf(200), refused: await auditOf(401) };
      assert.equal(await h.deliver(inboundText('hello there', { from: newPhone() }).payload), 200);
      const forged = await h.t.request('post', '/webhooks/whatsapp', { rawBody: JSON.stringify(inboundText('STOP', { from: newPhone() }).payload), headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } });
      assert.equal(forged.status, 401);
      await eventually(async () => (await auditOf(401)) === before.refused + 1);
      assert.equal(await auditOf(200), before.accepted);
    });
  });

  describe('erasure', () => {
    it('removes the number from contacts, messages and consent; keeps a keyed hash only', async () => {
      const phone = newPhone();
      await h.t.request('post', `/api/consent/${phone}/opt-in`, { as: 'agent', body: { idempotencyKey: key(), evidence: { note: 'signed up' } } });
      // First known by a user id, then by the number too: the number is also an alias document's id.
      const userId = `US.u${Date.now().toString(36)}`;
      await h.deliver(inboundText('hello', { userId, withoutPhone: true }).payload);
      await h.deliver(inboundText('HELP', { from: phone, userId }).payload);
      await eventually(async () => h.graph.sends.some((s) => (s.body as { to?: string }).to?.replace(/\D/g, '') === phone));
      // Let the double's status webhooks for the reply land first: anything arriving after the erasure is new data.
      await h.graph.settled();
      await h.deliver({ object: 'whatsapp_business_account', entry: [] });
      const erased = await h.t.request<{ subject: string; removed: Record<string, number> }>('delete', `/api/compliance/contacts/+${phone}`, { as: 'admin' });
      assert.equal(erased.status, 200, erased.text);
      assert.match(erased.body.subject, /^hmac-sha256:[0-9a-f]{64}$/);
      assert.ok((erased.body.removed.WhatsappMessage ?? 0) >= 2, JSON.stringify(erased.body.removed));
      assert.equal(erased.body.removed.ConsentChange, 1);

      // Search every collection for the number, in any field.
      const db = h.t.server.get<MongoConnection>(MongoConnection).connection.db;
      assert.ok(db);
      for (const { name } of await db.listCollections().toArray()) {
        const docs = await db.collection(name).find({}).toArray();
        const hits = docs.filter((d) => JSON.stringify(d).includes(phone));
        assert.deepEqual(hits.map((d) => d._id), [], `${name} still holds the number`);
      }
      assert.equal((await h.t.request<Consent>('get', `/api/consent/${phone}`, { as: 'agent' })).body.state, 'unknown');
    });
  });
});
