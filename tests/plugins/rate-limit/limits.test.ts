import assert from 'node:assert/strict';
import { inboundText } from '../../doubles/whatsapp-payloads.js';
import { eventually } from '../../helpers/test-host.js';
import { RateLimiter } from '../../../plugins/rate-limit/services/rate-limiter.js';
import { newPhone, SHORT_WINDOWS, startRate, template, type RateHarness } from './harness.js';

interface Decision { policy: string; decision: string; code?: string; reason?: string; until?: string }
interface MessageView { id: string; status: string; phoneNumberId: string }
interface Deferred { message: MessageView; deferredBy: Decision }
interface SenderView {
  phoneNumberId: string; portfolio: string | null; tier: string; messagingLimit: number | null; paused: boolean; backoffUntil: string | null;
  limits: { perSecond: number; hourly: number | null; daily: number | null; warningThreshold: number };
  usage: { second: number; hour: number; day: number; uniqueRecipients: number };
}

/** One sender number per test, so that tests do not share counters. */
const SENDERS = ['100001', '100002', '100003', '100004', '100005', '100006', '100007', '100008'];
const PORTFOLIO = ['200001', '200002'];
/** Long enough that a loaded machine still sees the backoff before it ends. */
const BACKOFF_BASE_MS = 3000;

describe('plugin rate: limits', () => {
  let h: RateHarness;
  before(async () => {
    h = await startRate('rate-limits', {
      whatsapp: { senders: [...SENDERS, ...PORTFOLIO].map((phoneNumberId) => ({ phoneNumberId })) },
      rate: { portfolios: { acme: { senders: PORTFOLIO } }, pair: { burst: 2, intervalMs: 1500 }, backoff: { baseMs: BACKOFF_BASE_MS, maxMs: 4 * BACKOFF_BASE_MS, resetAfterMs: 60_000 } },
    });
  });
  after(async () => { await h.stop(); });

  const send = (to: string, from: string) => h.t.request<MessageView | Deferred>('post', '/api/messages', { as: 'agent', body: template(to, from) });
  const configure = async (sender: string, body: Record<string, unknown>) => {
    const response = await h.t.request<SenderView>('put', `/api/rate-limits/${sender}`, { as: 'admin', body });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const sentTo = (to: string) => h.graph.sends.filter((s) => s.body.to === `+${to}`);
  /** Asserts a 202 deferral by `code`, with `until` inside (now, now + withinMs]; returns it. */
  const assertDeferred = (response: { status: number; body: unknown; text: string }, code: string, withinMs: number) => {
    assert.equal(response.status, 202, response.text);
    const { deferredBy, message } = response.body as Deferred;
    assert.deepEqual({ policy: deferredBy.policy, decision: deferredBy.decision, code: deferredBy.code }, { policy: 'rate.limit@1', decision: 'defer', code });
    assert.ok(deferredBy.reason && deferredBy.reason.length > 10, 'the reason says why');
    const until = Date.parse(deferredBy.until ?? '');
    assert.ok(until > Date.now() - 50 && until <= Date.now() + withinMs, `until ${deferredBy.until} within ${withinMs} ms`);
    assert.equal(message.status, 'scheduled');
    return { until, message };
  };

  it('throughput per second: sends past the cap wait for the next second, then go out', async () => {
    const sender = SENDERS[0] as string;
    await configure(sender, { perSecond: 2 });
    // Start at the beginning of a second so that all four land in the same one.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
    const phones = [newPhone(), newPhone(), newPhone(), newPhone()];
    const results = [];
    for (const phone of phones) results.push(await send(phone, sender));
    assert.deepEqual(results.slice(0, 2).map((r) => r.status), [201, 201]);
    for (const deferred of results.slice(2)) assertDeferred(deferred, 'RATE_THROUGHPUT', SHORT_WINDOWS.secondMs);
    await eventually(async () => phones.every((p) => sentTo(p).length === 1), 8000);
  });

  it('hourly cap: the third send waits for the hour window to roll, and is not dropped', async () => {
    const sender = SENDERS[1] as string;
    await configure(sender, { hourly: 2 });
    await new Promise((r) => setTimeout(r, SHORT_WINDOWS.hourMs - (Date.now() % SHORT_WINDOWS.hourMs) + 20));
    const phones = [newPhone(), newPhone(), newPhone()];
    assert.equal((await send(phones[0] as string, sender)).status, 201);
    assert.equal((await send(phones[1] as string, sender)).status, 201);
    const { until } = assertDeferred(await send(phones[2] as string, sender), 'RATE_HOURLY_CAP', SHORT_WINDOWS.hourMs);
    assert.equal(until % SHORT_WINDOWS.hourMs, 0, 'until is the end of the window');
    assert.equal(sentTo(phones[2] as string).length, 0);
    await eventually(async () => sentTo(phones[2] as string).length === 1, 8000);
    assert.ok(sentTo(phones[2] as string)[0]!.at.getTime() >= until - 5, 'sent after the window rolled');
    await configure(sender, { hourly: null });
  });

  it('daily cap defers with RATE_DAILY_CAP until the day window ends', async () => {
    const sender = SENDERS[2] as string;
    await configure(sender, { daily: 1 });
    await new Promise((r) => setTimeout(r, SHORT_WINDOWS.dayMs - (Date.now() % SHORT_WINDOWS.dayMs) + 20));
    assert.equal((await send(newPhone(), sender)).status, 201);
    const phone = newPhone();
    const { until } = assertDeferred(await send(phone, sender), 'RATE_DAILY_CAP', SHORT_WINDOWS.dayMs);
    assert.equal(until % SHORT_WINDOWS.dayMs, 0);
    await eventually(async () => sentTo(phone).length === 1, 10000);
  });

  it('pair limit: a burst to one recipient, then one per interval; other recipients are not held up', async () => {
    const sender = SENDERS[3] as string;
    const phone = newPhone();
    assert.equal((await send(phone, sender)).status, 201);
    assert.equal((await send(phone, sender)).status, 201);
    assertDeferred(await send(phone, sender), 'RATE_PAIR_LIMIT', 1500);
    assert.equal((await send(newPhone(), sender)).status, 201, 'another recipient goes at once');
    await eventually(async () => sentTo(phone).length === 3, 8000);
  });

  describe('messaging limit', () => {
    it('counts unique recipients per portfolio: the 251st new recipient waits, a counted one and one in a service window do not', async () => {
      const [first, second] = PORTFOLIO as [string, string];
      const limiter = h.t.server.get(RateLimiter);
      await configure(first, { perSecond: 1000 });
      // Fill the TIER_250 portfolio through its first number (the Graph API double is not needed for that).
      const seeded = Array.from({ length: 250 }, () => newPhone());
      await Promise.all(seeded.map((recipient) => limiter.decide({ sender: first, recipient, countsTowardMessagingLimit: true, consume: true })));
      const view = (await h.t.request<SenderView>('get', `/api/rate-limits/${second}`, { as: 'analyst' })).body;
      assert.deepEqual({ portfolio: view.portfolio, tier: view.tier, limit: view.messagingLimit, used: view.usage.uniqueRecipients }, { portfolio: 'acme', tier: 'TIER_250', limit: 250, used: 250 });

      // The portfolio's other number shares the limit.
      const waiting = newPhone();
      const { until } = assertDeferred(await send(waiting, second), 'RATE_MESSAGING_LIMIT', SHORT_WINDOWS.messagingMs);
      // A recipient already counted in the window does not count again.
      assert.equal((await send(seeded[0] as string, second)).status, 201);
      // A customer who wrote in the last 24 hours is inside a service window: not counted.
      const customer = newPhone();
      await h.deliver(inboundText('hello', { from: customer, phoneNumberId: second }).payload);
      assert.equal((await send(customer, second)).status, 201);
      assert.equal((await h.t.request<SenderView>('get', `/api/rate-limits/${first}`, { as: 'analyst' })).body.usage.uniqueRecipients, 250);

      // The moving window frees the oldest slots: the waiting send goes out then.
      await eventually(async () => sentTo(waiting).length === 1, 10000);
      assert.ok(sentTo(waiting)[0]!.at.getTime() >= until - 5);
    });

    it('a higher tier raises the limit; TIER_UNLIMITED has none', async () => {
      const updated = await configure(PORTFOLIO[0] as string, { tier: 'TIER_UNLIMITED' });
      assert.deepEqual({ tier: updated.tier, limit: updated.messagingLimit }, { tier: 'TIER_UNLIMITED', limit: null });
      const other = (await h.t.request<SenderView>('get', `/api/rate-limits/${PORTFOLIO[1]}`, { as: 'analyst' })).body;
      assert.equal(other.tier, 'TIER_UNLIMITED', 'the tier belongs to the portfolio');
      await configure(PORTFOLIO[0] as string, { tier: 'TIER_2K' });
    });
  });

  describe('pause, resume, reset', () => {
    it('a paused sender defers; after resume the waiting send goes out by itself', async () => {
      const sender = SENDERS[4] as string;
      const paused = await h.t.request<SenderView>('post', `/api/rate-limits/${sender}/pause`, { as: 'admin', body: {} });
      assert.equal(paused.status, 200);
      assert.equal(paused.body.paused, true);
      const phone = newPhone();
      assertDeferred(await send(phone, sender), 'RATE_SENDER_PAUSED', 300);
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(sentTo(phone).length, 0, 'nothing goes out while paused');
      const resumed = await h.t.request<SenderView>('post', `/api/rate-limits/${sender}/resume`, { as: 'admin' });
      assert.equal(resumed.body.paused, false);
      await eventually(async () => sentTo(phone).length === 1, 8000);
    });

    it('a timed pause ends by itself', async () => {
      const sender = SENDERS[4] as string;
      const until = new Date(Date.now() + 1000).toISOString();
      const paused = await h.t.request<SenderView & { pausedUntil: string }>('post', `/api/rate-limits/${sender}/pause`, { as: 'admin', body: { until } });
      assert.equal(paused.body.pausedUntil, until);
      const phone = newPhone();
      assertDeferred(await send(phone, sender), 'RATE_SENDER_PAUSED', 1000);
      await eventually(async () => sentTo(phone).length === 1, 8000);
    });

    it('reset clears the counters so a capped sender sends again', async () => {
      const sender = SENDERS[5] as string;
      await configure(sender, { daily: 1 });
      await send(newPhone(), sender);
      const phone = newPhone();
      assertDeferred(await send(phone, sender), 'RATE_DAILY_CAP', SHORT_WINDOWS.dayMs);
      const reset = await h.t.request<SenderView>('post', `/api/rate-limits/${sender}/reset`, { as: 'admin' });
      assert.equal(reset.status, 200);
      assert.deepEqual({ day: reset.body.usage.day, hour: reset.body.usage.hour }, { day: 0, hour: 0 });
      assert.equal((await send(newPhone(), sender)).status, 201);
      // The send deferred before the reset still goes out at its time.
      await eventually(async () => sentTo(phone).length === 1, 8000);
      await configure(sender, { daily: null });
    });
  });

  describe('provider rate-limit errors', () => {
    it('130429 puts the sender into backoff with jitter: its next send waits, then goes', async () => {
      const sender = SENDERS[6] as string;
      h.graph.failNext({ code: 130429, message: '(#130429) Rate limit hit' });
      const refused = await send(newPhone(), sender);
      assert.equal((refused.body as MessageView).status, 'failed');
      const view = (await h.t.request<SenderView>('get', `/api/rate-limits/${sender}`, { as: 'analyst' })).body;
      const wait = Date.parse(view.backoffUntil as string) - Date.now();
      assert.ok(wait > 0 && wait <= BACKOFF_BASE_MS, `first backoff within the base delay (${wait} ms)`);
      const phone = newPhone();
      const { until } = assertDeferred(await send(phone, sender), 'RATE_SENDER_BACKOFF', BACKOFF_BASE_MS);
      await eventually(async () => sentTo(phone).length === 1, 8000);
      assert.ok(sentTo(phone)[0]!.at.getTime() >= until - 5);
    });

    it('repeated errors double the backoff; 80007 and 131048 count as rate limits too', async () => {
      const limiter = h.t.server.get(RateLimiter);
      const sender = SENDERS[7] as string;
      h.graph.failNext({ code: 80007 });
      assert.equal(((await send(newPhone(), sender)).body as MessageView).status, 'failed');
      const first = (await limiter.state(sender)).backoffUntil as Date;
      assert.ok(first);
      const { until, attempt } = await limiter.backOff(sender);
      assert.equal(attempt, 2);
      assert.ok(until.getTime() - Date.now() > BACKOFF_BASE_MS * 0.8 && until.getTime() >= first.getTime(), 'the second delay is between 1 and 2 base delays');
      await h.t.request('post', `/api/rate-limits/${sender}/reset`, { as: 'admin' });
      h.graph.failNext({ code: 131048, message: 'Spam rate limit hit' });
      assert.equal(((await send(newPhone(), sender)).body as MessageView).status, 'failed');
      assert.ok((await limiter.state(sender)).backoffUntil);
    });

    it('131056 backs off the pair only: the same sender still reaches others', async () => {
      const sender = SENDERS[6] as string;
      await h.t.request('post', `/api/rate-limits/${sender}/reset`, { as: 'admin' });
      const phone = newPhone();
      h.graph.failNext({ code: 131056, message: '(#131056) (Business Account, Consumer Account) pair rate limit hit' });
      assert.equal(((await send(phone, sender)).body as MessageView).status, 'failed');
      assertDeferred(await send(phone, sender), 'RATE_PAIR_BACKOFF', BACKOFF_BASE_MS);
      assert.equal((await send(newPhone(), sender)).status, 201);
    });
  });

  it('the compliance check reports rate.limit@1\'s verdict without counting', async () => {
    const sender = SENDERS[4] as string;
    await h.t.request('post', `/api/rate-limits/${sender}/pause`, { as: 'admin', body: {} });
    const before = (await h.t.request<SenderView>('get', `/api/rate-limits/${sender}`, { as: 'analyst' })).body.usage;
    const check = await h.t.request<{ decision: string; decidedBy: string; decisions: Decision[] }>('get', `/api/compliance/check?phone=${newPhone()}&category=utility&from=${sender}`, { as: 'agent' });
    const rate = check.body.decisions.find((d) => d.policy === 'rate.limit@1');
    assert.deepEqual({ decision: rate?.decision, code: rate?.code }, { decision: 'defer', code: 'RATE_SENDER_PAUSED' });
    await h.t.request('post', `/api/rate-limits/${sender}/resume`, { as: 'admin' });
    const allowed = await h.t.request<{ decisions: Decision[] }>('get', `/api/compliance/check?phone=${newPhone()}&category=utility&from=${sender}`, { as: 'agent' });
    assert.equal(allowed.body.decisions.find((d) => d.policy === 'rate.limit@1')?.decision, 'allow');
    const after = (await h.t.request<SenderView>('get', `/api/rate-limits/${sender}`, { as: 'analyst' })).body.usage;
    assert.deepEqual(after, before, 'the check counted nothing');
  });
});
