import assert from 'node:assert/strict';
import { WorkflowEngine } from '../../core/index.js';
import { inboundText } from '../doubles/whatsapp-payloads.js';
import { eventually, startWhatsapp, type WhatsappHarness } from '../plugins/whatsapp/harness.js';
import { ownRedis, type OwnedService } from './services.js';

const OUTAGE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reliability: Redis stopped for 10 s under load', function () {
  this.timeout(120_000);
  let redis: OwnedService;
  let h: WhatsappHarness;
  before(async () => {
    redis = await ownRedis();
    const shared = process.env.REDIS_URL;
    process.env.REDIS_URL = redis.url; // the harness takes Redis from the environment
    try {
      h = await startWhatsapp('redis-outage', { webhook: { sweepEveryMs: 1_000 } });
    } finally {
      process.env.REDIS_URL = shared;
    }
    h.graph.webhook = null;
    await h.t.server.get(WorkflowEngine).registry.store({
      id: 'answer-everyone', version: 1, enabled: true,
      trigger: { type: 'whatsapp.message@1', config: {} },
      steps: [{ id: 'answer', action: 'whatsapp.reply@1', input: { messageId: '{{trigger.providerMessageId}}', text: 'Thanks, we got it.' } }],
    } as never, { source: 'api', actor: 'test' });
  });
  after(async () => {
    await h?.stop();
    await redis?.dispose();
  });

  it('defers workflow sends and API sends instead of dropping them, says it is not ready, and recovers without duplicates', async () => {
    const inbound: string[] = [];
    const apiSends: Array<{ key: string; status: number }> = [];
    const webhookStatuses: number[] = [];
    let running = true;
    let i = 0;
    const load = (async () => {
      while (running) {
        const message = inboundText(`question ${i}`, { from: `4477009${String(100000 + i).slice(-6)}` });
        inbound.push(message.id);
        // Meta keeps delivering until it gets a 200.
        for (;;) {
          const status = (await h.post(message.payload)).status;
          webhookStatuses.push(status);
          if (status === 200) break;
          await sleep(250);
        }
        const key = `outage-send-${i}`;
        const sent = await h.t.request('post', '/api/messages', { as: 'agent', body: { to: '+447700900001', template: { name: 'order_update', language: 'en_US' }, idempotencyKey: key } });
        apiSends.push({ key, status: sent.status });
        i++;
        await sleep(100);
      }
    })();

    await sleep(2_000);
    await redis.kill();
    const down = await eventually(async () => {
      const ready = await h.t.request<{ checks: Record<string, { ok: boolean }> }>('get', '/api/ready');
      return ready.status === 503 ? ready : null;
    }, 10_000, 100);
    assert.equal(down.body.checks.redis?.ok, false);
    await sleep(OUTAGE_MS);
    await redis.restart();
    await eventually(async () => (await h.t.request('get', '/api/ready')).status === 200, 30_000, 200);
    await sleep(2_000);
    running = false;
    await load;

    assert.ok(inbound.length >= 10, `load ran throughout (${inbound.length} inbound messages)`);
    assert.deepEqual(webhookStatuses.filter((s) => s !== 200 && s !== 503), [], 'webhooks answered 200 or 503, never another error');
    // API sends: each answered, none lost: a 2xx was sent once; a refused one can be repeated with its key.
    const refused = apiSends.filter((s) => s.status >= 300);
    for (const send of refused) {
      const again = await h.t.request('post', '/api/messages', { as: 'agent', body: { to: '+447700900001', template: { name: 'order_update', language: 'en_US' }, idempotencyKey: send.key } });
      assert.ok(again.status < 300, `${send.key} accepted after recovery: ${again.status} ${again.text}`);
    }
    // Every inbound message gets its one answer, including those that arrived during the outage.
    const answers = await eventually(async () => {
      const byMessage = new Map<string, number>();
      for (const send of h.graph.sends) {
        const context = (send.body.context as { message_id?: string } | undefined)?.message_id;
        if (context) byMessage.set(context, (byMessage.get(context) ?? 0) + 1);
      }
      return inbound.every((id) => byMessage.has(id)) ? byMessage : null;
    }, 40_000, 250);
    assert.deepEqual(inbound.filter((id) => (answers.get(id) ?? 0) !== 1), [], 'each inbound message answered exactly once');
    // A send deferred during the outage goes when its job comes due, which may be after the last answer.
    const templatesSent = () => h.graph.sends.filter((s) => s.body.type === 'template').length;
    await eventually(async () => templatesSent() >= apiSends.length, 30_000, 250).catch(() => undefined);
    await sleep(1_000);
    const waiting = await h.t.request<{ items: Array<{ status: string; error?: { reason?: string } }> }>('get', '/api/messages?direction=outbound&limit=200', { as: 'agent' });
    const unsent = waiting.body.items.filter((m) => !['accepted', 'sent', 'delivered', 'read'].includes(m.status)).map((m) => `${m.status}: ${m.error?.reason ?? ''}`);
    assert.equal(templatesSent(), apiSends.length, `each API send reached the Graph API once (refused then repeated: ${JSON.stringify(refused)}; not sent: ${JSON.stringify(unsent)})`);
  });
});
