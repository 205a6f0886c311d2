/**
 * Races between the paths that change one outbound message (claims, deferrals, cancels, send
 * answers, status webhooks) and between campaign runners: a message is sent once, never after it
 * was cancelled, and its status never goes backwards.
 */
import assert from 'node:assert/strict';
import type { Model } from 'mongoose';
import { CampaignModel, type Campaign } from '../../../plugins/whatsapp/models/campaign.js';
import { MessageModel, type Message } from '../../../plugins/whatsapp/models/message.js';
import { Messenger } from '../../../plugins/whatsapp/services/messenger.js';
import { Outbox } from '../../../plugins/whatsapp/services/outbox.js';
import { SendPolicies, type PolicyOutcome } from '../../../plugins/whatsapp/services/send-policies.js';
import { MongoConnection, RedisConnection, Scheduler } from '../../../core/index.js';
import { inboundText, statusObject, statuses } from '../../doubles/whatsapp-payloads.js';
import { eventually, startWhatsapp, type WhatsappHarness } from './harness.js';

const CUSTOMER = '447700900124';

function deferFor(ms: number): PolicyOutcome {
  const until = new Date(Date.now() + ms);
  return {
    verdict: { decision: 'defer', code: 'RATE_THROUGHPUT', reason: 'test: throughput slot taken', until },
    decisions: [{ policy: 'rate.limit@1', decision: 'defer', code: 'RATE_THROUGHPUT', reason: 'test', until }],
  };
}

const sendsOf = (h: WhatsappHarness, text: string) => h.graph.sends.filter((s) => (s.body.text as { body?: string } | undefined)?.body === text);

// Each race runs on both write paths: conditional writes as on MongoDB (and on the FerretDB build
// the tests use), and the by-`_id` writes under a Redis lock that a stock FerretDB gets.
for (const stockFerretDb of [false, true]) describe(`whatsapp send races: claims, deferrals and statuses of one message (${stockFerretDb ? 'stock FerretDB path' : 'MongoDB path'})`, () => {
  let h: WhatsappHarness;
  before(async () => {
    h = await startWhatsapp(`wa_send_races${stockFerretDb ? '_stock' : ''}`);
    h.t.server.get(MongoConnection).stockFerretDb = stockFerretDb;
    h.graph.webhook = null;
    await h.deliver(inboundText('hello', { from: CUSTOMER }).payload);
  });
  after(async () => { await h.stop(); });
  beforeEach(() => h.graph.reset());

  it('two concurrent dispatches of one queued message (two campaign runners) send it once', async () => {
    const messenger = h.t.server.get(Messenger);
    const { message } = await messenger.store({ to: CUSTOMER, text: 'claimed once' }, { idempotencyKey: 'races:claim', origin: 'campaign', status: 'queued' });
    const [a, b] = await Promise.all([messenger.dispatch(message._id), messenger.dispatch(message._id)]);
    await h.graph.settled();
    assert.equal(sendsOf(h, 'claimed once').length, 1, `sent ${sendsOf(h, 'claimed once').length} times; attempts ${a.attempts}/${b.attempts}`);
  });

  it('a message cancelled while its job evaluates the policies is not sent when the policies defer it', async () => {
    const outbox = h.t.server.get(Outbox);
    const policies = h.t.server.get(SendPolicies);
    const { message } = await outbox.schedule({ to: CUSTOMER, text: 'must not go' }, new Date(Date.now() + 3600_000), { idempotencyKey: 'races:cancel' });
    const id = String(message._id);
    const evaluate = policies.evaluate.bind(policies);
    policies.evaluate = async () => {
      policies.evaluate = evaluate;
      // The operator cancels while rate.limit@1 runs (DELETE answers 200: the message is cancelled).
      const cancel = await h.t.request<{ status: string }>('delete', `/api/messages/${id}`, { as: 'agent' });
      assert.equal(cancel.status, 200);
      return deferFor(500);
    };
    try {
      await outbox.sendStored(id); // what whatsapp.send-stored runs when the job comes due
    } finally {
      policies.evaluate = evaluate;
    }
    await new Promise((r) => setTimeout(r, 4_000)); // the deferral's job comes due
    await h.graph.settled();
    const after = await h.t.request<{ status: string }>('get', `/api/messages/${id}`, { as: 'agent' });
    assert.deepEqual({ status: after.body.status, sends: sendsOf(h, 'must not go').length }, { status: 'cancelled', sends: 0 });
  });

  it('a message another runner sent meanwhile is not deferred back to scheduled and sent again', async () => {
    const outbox = h.t.server.get(Outbox);
    const messenger = h.t.server.get(Messenger);
    const policies = h.t.server.get(SendPolicies);
    const { message } = await messenger.store({ to: CUSTOMER, text: 'deferred twice' }, { idempotencyKey: 'races:defer', origin: 'campaign', status: 'queued' });
    const evaluate = policies.evaluate.bind(policies);
    let calls = 0;
    policies.evaluate = async (...args) => {
      calls++;
      if (calls === 1) {
        // Runner B: while its policies run, runner A sends the message; A took the slot, so B is deferred.
        await outbox.sendStored(message._id);
        return deferFor(500);
      }
      return evaluate(...args);
    };
    try {
      await outbox.sendStored(message._id);
    } finally {
      policies.evaluate = evaluate;
    }
    await new Promise((r) => setTimeout(r, 4_000));
    await h.graph.settled();
    const after = await h.t.request<{ status: string }>('get', `/api/messages/${String(message._id)}`, { as: 'agent' });
    assert.deepEqual({ status: after.body.status, sends: sendsOf(h, 'deferred twice').length }, { status: 'accepted', sends: 1 });
  });

  it('a read status applied while the send answer is being recorded is not overwritten by accepted', async () => {
    const model = h.t.server.get<Model<Message>>(MessageModel.token);
    // The answer is written by updateOne (stock FerretDB path) or findOneAndUpdate (MongoDB path).
    const writes = ['updateOne', 'findOneAndUpdate'] as const;
    const originals = writes.map((name) => model[name]);
    let hooked = false;
    let delivery: Promise<unknown> | undefined;
    writes.forEach((name, i) => {
      model[name] = (async function (this: unknown, filter: { _id: unknown }, update: { $set?: Record<string, unknown> }, ...rest: unknown[]) {
        if (!hooked && update.$set?.status === 'accepted') {
          hooked = true;
          // The statuses webhook (another process, or this one) arrives just before the answer's
          // write, and is given a second to be applied before the write goes on (a lock the
          // answer holds may keep it waiting until after).
          const wamid = String(update.$set.providerMessageId);
          delivery = h.deliver(statuses([statusObject(wamid, 'delivered', { callbackData: String(filter._id) }), statusObject(wamid, 'read', { callbackData: String(filter._id) })]));
          await Promise.race([delivery, new Promise((r) => setTimeout(r, 1_000))]);
        }
        return (originals[i] as (...a: unknown[]) => unknown).call(model, filter, update, ...rest);
      }) as never;
    });
    let id: string;
    try {
      const res = await h.t.request<{ id: string; status: string }>('post', '/api/messages', { as: 'agent', body: { to: CUSTOMER, text: 'read fast' } });
      assert.equal(res.status, 201);
      id = res.body.id;
    } finally {
      writes.forEach((name, i) => { model[name] = originals[i] as never; });
    }
    assert.ok(hooked);
    await delivery;
    const after = await h.t.request<{ status: string; timeline: Array<{ status: string }> }>('get', `/api/messages/${id}`, { as: 'agent' });
    assert.equal(after.body.status, 'read', `timeline: ${after.body.timeline.map((e) => e.status).join(' → ')}`);
  });

  it('an API send deferred by a policy is still sent after its job could not be saved and the client retried', async () => {
    const policies = h.t.server.get(SendPolicies);
    const scheduler = h.t.server.get(Scheduler);
    const evaluate = policies.evaluate.bind(policies);
    const at = scheduler.at.bind(scheduler);
    let failed = false;
    policies.evaluate = async () => deferFor(500);
    scheduler.at = async (...args: Parameters<Scheduler['at']>) => {
      if (!failed) { failed = true; throw new Error('test: Redis lock timed out'); }
      return at(...args);
    };
    let first: number;
    let second: { status: number; body: { id: string; status: string } };
    try {
      first = (await h.t.request('post', '/api/messages', { as: 'agent', body: { to: CUSTOMER, text: 'deferred then lost', idempotencyKey: 'races:lost' } })).status;
      second = await h.t.request<{ id: string; status: string }>('post', '/api/messages', { as: 'agent', body: { to: CUSTOMER, text: 'deferred then lost', idempotencyKey: 'races:lost' } });
    } finally {
      policies.evaluate = evaluate;
      scheduler.at = at;
    }
    assert.equal(first, 500);
    await new Promise((r) => setTimeout(r, 4_000));
    await h.graph.settled();
    const after = await h.t.request<{ status: string }>('get', `/api/messages/${second.body.id}`, { as: 'agent' });
    assert.deepEqual({ retry: second.status, status: after.body.status, sends: sendsOf(h, 'deferred then lost').length }, { retry: 200, status: 'accepted', sends: 1 });
  });

  /**
   * Posts a send the policies defer for half a second and its job, when it runs, for `againMs`;
   * resolves once that second deferral's job is saved, with the message and the job's time.
   */
  async function deferredTwice(body: Record<string, unknown>, againMs: number): Promise<{ id: string; again: Date; pending: () => Promise<Date[]>; undo: () => void }> {
    const policies = h.t.server.get(SendPolicies);
    const evaluate = policies.evaluate.bind(policies);
    const jobs = h.t.server.get(MongoConnection).connection.collection('agendaJobs');
    let calls = 0;
    let again: Date | undefined;
    policies.evaluate = async () => {
      const outcome = deferFor(++calls === 1 ? 500 : againMs);
      if (calls === 2 && outcome.verdict.decision === 'defer') again = outcome.verdict.until;
      return outcome;
    };
    const undo = () => { policies.evaluate = evaluate; };
    try {
      const first = await h.t.request<{ message: { id: string } }>('post', '/api/messages', { as: 'agent', body });
      assert.equal(first.status, 202);
      const id = first.body.message.id;
      const pending = async () => (await jobs.find({ 'data.messageId': id, nextRunAt: { $ne: null } }).toArray()).map((job) => job.nextRunAt as Date);
      const at = await eventually(async () => (await pending()).some((time) => time.getTime() === again?.getTime()) && again, 10_000, 50);
      return { id, again: at, pending, undo };
    } catch (error) {
      undo();
      throw error;
    }
  }

  it('a deferred API send deferred again by its job keeps one job when the client retries, and is sent once then', async function () {
    this.timeout(20_000);
    const body = { to: CUSTOMER, text: 'deferred, retried', idempotencyKey: 'races:one-job' };
    const { id, again, pending, undo } = await deferredTwice(body, 3_000);
    try {
      const retry = await h.t.request<{ id: string; status: string }>('post', '/api/messages', { as: 'agent', body });
      assert.deepEqual({ status: retry.status, id: retry.body.id, message: retry.body.status }, { status: 200, id, message: 'scheduled' });
      assert.deepEqual((await pending()).map((time) => time.toISOString()), [again.toISOString()]);
    } finally {
      undo();
    }
    const sent = await eventually(async () => {
      const res = await h.t.request<{ status: string }>('get', `/api/messages/${id}`, { as: 'agent' });
      return res.body.status === 'accepted' ? res.body : null;
    }, 10_000, 100);
    await h.graph.settled();
    assert.deepEqual({ status: sent.status, sends: sendsOf(h, 'deferred, retried').length, jobs: await pending() }, { status: 'accepted', sends: 1, jobs: [] });
  });

  it('cancelling a send its job deferred again leaves no job behind', async function () {
    this.timeout(20_000);
    const { id, pending, undo } = await deferredTwice({ to: CUSTOMER, text: 'deferred, cancelled', idempotencyKey: 'races:cancel-job' }, 3600_000);
    undo();
    assert.equal((await h.t.request('delete', `/api/messages/${id}`, { as: 'agent' })).status, 200);
    assert.deepEqual(await pending(), []);
  });
});

describe('whatsapp send races: a campaign taken over while its runner waits out a deferral', () => {
  let h: WhatsappHarness;
  before(async () => {
    h = await startWhatsapp('wa_send_races_bulk', { requestTimeoutMs: 5000, bulk: { concurrency: 1, leaseMs: 1000, maxRecipients: 100, waitForDeferralMs: 4500 } });
    h.graph.webhook = null;
    await h.deliver(inboundText('hello', { from: CUSTOMER }).payload);
  });
  after(async () => { await h.stop(); });

  /**
   * Makes this process's lease renewals fail after the first (its database unreachable for
   * longer than the 1 s lease), so the lease of a campaign it runs lapses mid-batch; returns the undo.
   */
  async function renewalsFailAfterTheFirst(): Promise<() => void> {
    const { Campaigns } = await import('../../../plugins/whatsapp/services/campaigns.js');
    const owner = (h.t.server.get(Campaigns) as unknown as { owner: string }).owner;
    const model = h.t.server.get<Model<Campaign>>(CampaignModel.token);
    const updateOne = model.updateOne;
    let renewals = 0;
    model.updateOne = (function (this: unknown, filter: { leaseOwner?: string }, ...rest: unknown[]) {
      if (filter.leaseOwner === owner && ++renewals > 1) return Promise.reject(new Error('test: database unreachable'));
      return (updateOne as (...a: unknown[]) => unknown).call(model, filter, ...rest);
    }) as unknown as typeof model.updateOne;
    return () => { model.updateOne = updateOne; };
  }

  async function refusedAfterTheLease(): Promise<{ sends: number; status?: string; code?: number; reason?: string }> {
    h.graph.reset();
    h.graph.delayMs = 2_500; // a slow Graph API answer: longer than the 1 s lease
    h.graph.failNext({ code: 131026 });
    const created = await h.t.request<{ campaign: { id: string } }>('post', '/api/messages/bulk', { as: 'admin', body: { template: { name: 'promo', language: 'en' }, recipients: ['447700900555'] } });
    assert.equal(created.status, 202);
    await eventually(async () => {
      const res = await h.t.request<{ campaign: { state: string } }>('get', `/api/messages/bulk/${created.body.campaign.id}`, { as: 'admin' });
      return res.body.campaign.state === 'completed' ? true : null;
    }, 15_000, 200);
    await h.graph.settled();
    h.graph.delayMs = 0;
    const res = await h.t.request<{ recipients: Array<{ status: string; error?: { code: number; reason: string } }> }>('get', `/api/messages/bulk/${created.body.campaign.id}`, { as: 'admin' });
    const [message] = res.body.recipients;
    return { sends: h.graph.sends.length, status: message?.status, code: message?.error?.code, reason: message?.error?.reason };
  }

  it('records a refusal that comes after the lease expired as failed, not unknown (the runner\'s own sweep took the campaign over)', async () => {
    const { reason, ...outcome } = await refusedAfterTheLease();
    assert.deepEqual(outcome, { sends: 1, status: 'failed', code: 131026 }, reason);
  });

  it('records the refusal as failed when the lease lapsed because renewals failed: the process\'s own sweep leaves the campaign it runs alone', async () => {
    const undo = await renewalsFailAfterTheFirst();
    try {
      const { reason, ...outcome } = await refusedAfterTheLease();
      assert.deepEqual(outcome, { sends: 1, status: 'failed', code: 131026 }, reason);
    } finally {
      undo();
    }
  });

  it('sends each recipient once when a second process resumes the campaign (lease expired mid-batch)', async () => {
    const { Campaigns } = await import('../../../plugins/whatsapp/services/campaigns.js');
    const a = h.t.server.get(Campaigns);
    // A's lease lapses while it waits out its deferral, and so does its runner lock (its Redis
    // unreachable as well): to the others A looks gone.
    const undo = await renewalsFailAfterTheFirst();
    const redis = h.t.server.get(RedisConnection);
    // A second process's runner: the same services, another lease owner.
    const b = Object.assign(Object.create(Campaigns.prototype) as object, a, { owner: 'other-process', running: new Map(), stopping: false }) as unknown as InstanceType<typeof Campaigns>;
    const policies = h.t.server.get(SendPolicies);
    const evaluate = policies.evaluate.bind(policies);
    let calls = 0;
    let deferredAgain = false;
    policies.evaluate = async (...args) => {
      calls++;
      // Runner A: its throughput slot is 4 s away; it waits (waitForDeferralMs 4.5 s) while its 1 s lease lapses.
      if (calls === 1) return deferFor(4_000);
      // Runner A again after B sent the message: B took the slot, so A is deferred beyond its wait.
      if (sendsOf(h, 'bulk once').length === 1 && !deferredAgain) { deferredAgain = true; return deferFor(5_000); }
      return evaluate(...args);
    };
    try {
      const created = await h.t.request<{ campaign: { id: string } }>('post', '/api/messages/bulk', { as: 'admin', body: { text: 'bulk once', recipients: [CUSTOMER] } });
      assert.equal(created.status, 202);
      let taken = 0;
      for (let i = 0; i < 80 && !taken; i++) {
        await new Promise((r) => setTimeout(r, 50));
        await redis.client.del(`${redis.keyPrefix}whatsapp.campaign:${created.body.campaign.id}`);
        taken = await b.resumeOrphans();
      }
      assert.equal(taken, 1, 'the second process took the campaign over');
      undo();
      await new Promise((r) => setTimeout(r, 12_000));
    } finally {
      policies.evaluate = evaluate;
      undo();
    }
    await h.graph.settled();
    assert.equal(sendsOf(h, 'bulk once').length, 1, `sent ${sendsOf(h, 'bulk once').length} times`);
  });
});
