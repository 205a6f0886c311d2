/**
 * Two Flowgate processes (the real CLI) share one MongoDB and one Redis and send at the same time:
 * the Graph API double, which sees every send, never sees a cap exceeded.
 */
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { GraphApiDouble } from '../../doubles/graph-api.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { eventually, STATIC_AUTH_PLUGIN, uniqueDatabaseUri } from '../../helpers/test-host.js';
import { ACCESS_TOKEN } from '../whatsapp/harness.js';
import { newPhone, whatsappEnvironment } from './harness.js';

const HOURLY = '400001';
const THROUGHPUT = '400002';
const PORTFOLIO = ['400003', '400004'];
const PAIR = '400005';
const CAPS = { hourly: 8, perSecond: 3, uniqueRecipients: 4, pairBurst: 2 };
/** Sends per process to the throughput-capped number: 2 × 9 at 3/s take at least 5 s. */
const PACED = 9;
const HOUR_MS = 3_600_000;

describe('plugin rate: two processes sending at once', () => {
  const graph = new GraphApiDouble();
  const servers: ServerProcess[] = [];
  let mongodbUri = '';

  before(async function () {
    this.timeout(90_000);
    // The hourly window is a real hour: do not start the test just before it rolls.
    const untilNextHour = HOUR_MS - (Date.now() % HOUR_MS);
    if (untilNextHour < 45_000) await new Promise((r) => setTimeout(r, untilNextHour + 100));
    await graph.start();
    graph.acceptedTokens = [ACCESS_TOKEN];
    mongodbUri = uniqueDatabaseUri('rate-2p');
    const env = {
      ...whatsappEnvironment(graph),
      FLOWGATE__pluginSettings__whatsapp: JSON.stringify({
        sendPolicies: ['rate.limit@1'], senders: [HOURLY, THROUGHPUT, ...PORTFOLIO, PAIR].map((phoneNumberId) => ({ phoneNumberId })),
      }),
      FLOWGATE__pluginSettings__rate: JSON.stringify({
        tier: 'TIER_UNLIMITED', messagingLimits: { TIER_250: CAPS.uniqueRecipients },
        portfolios: { duo: { tier: 'TIER_250', senders: PORTFOLIO } },
        senders: { [HOURLY]: { hourly: CAPS.hourly }, [THROUGHPUT]: { perSecond: CAPS.perSecond } },
        pair: { burst: CAPS.pairBurst, intervalMs: 60_000 },
      }),
    };
    const plugins = [STATIC_AUTH_PLUGIN, 'whatsapp', 'rate-limit'];
    servers.push(...await Promise.all([startServerProcess({ mongodbUri, plugins, env }), startServerProcess({ mongodbUri, plugins, env })]));
  });
  after(async function () {
    this.timeout(30_000);
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    await graph.stop();
  });

  const post = async (server: ServerProcess, path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: 'Bearer role:manager', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  };
  const bulk = (server: ServerProcess, from: string, recipients: string[]) => post(server, '/api/messages/bulk', { from, recipients, template: { name: 'order_update', language: 'en_US' } });
  const sendsFrom = (sender: string) => graph.sends.filter((s) => s.nodeId === sender);

  it('never exceeds the hourly cap, the shared per-second throughput, the portfolio\'s messaging limit or the pair limit', async function () {
    this.timeout(150_000);
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const pairPhone = newPhone();
    const started = Date.now();
    const results = await Promise.all([
      bulk(a, HOURLY, Array.from({ length: 10 }, () => newPhone())), bulk(b, HOURLY, Array.from({ length: 10 }, () => newPhone())),
      bulk(a, THROUGHPUT, Array.from({ length: PACED }, () => newPhone())), bulk(b, THROUGHPUT, Array.from({ length: PACED }, () => newPhone())),
      bulk(a, PORTFOLIO[0] as string, Array.from({ length: 6 }, () => newPhone())), bulk(b, PORTFOLIO[1] as string, Array.from({ length: 6 }, () => newPhone())),
      ...[a, b, a, b, a, b].map((server) => post(server, '/api/messages', { from: PAIR, to: pairPhone, template: { name: 'order_update', language: 'en_US' } })),
    ]);
    assert.deepEqual(results.slice(0, 6).map((r) => r.status), [202, 202, 202, 202, 202, 202]);

    // Pair: two go at once, the other four wait for the pair's next slot (a minute away).
    const pairStatuses = results.slice(6).map((r) => r.status).sort();
    assert.deepEqual(pairStatuses, [201, 201, 202, 202, 202, 202]);

    // Throughput: every one of the sends goes out, paced by one shared budget a second.
    await eventually(async () => sendsFrom(THROUGHPUT).length === 2 * PACED, 90_000, 100)
      .catch((error: Error) => { throw new Error(`${error.message}: ${sendsFrom(THROUGHPUT).length} of ${2 * PACED} paced sends arrived`); });
    const arrivals = sendsFrom(THROUGHPUT).map((s) => s.at.getTime()).sort((x, y) => x - y);
    const span = (arrivals.at(-1) as number) - (arrivals[0] as number);
    // They need (2 × PACED) / perSecond one-second windows; the first may be nearly over when the
    // first send goes, so the span is more than that many windows minus two, whole.
    const windows = (2 * PACED) / CAPS.perSecond;
    assert.ok(span > (windows - 2) * 1000, `${2 * PACED} sends at ${CAPS.perSecond}/s across both processes span more than ${windows - 2} s (took ${span} ms)`);
    // Bursts are judged on when each process took the send (the `sending` entry it writes right
    // after the limiter allowed it), not on arrival at the double: on a loaded machine the
    // double's event loop notices several requests at once (9 "arrivals" within 557 ms once).
    const database = new MongoClient(mongodbUri);
    const messages = await database.db().collection<{ phoneNumberId: string; timeline: Array<{ status: string; at: Date }> }>('whatsappmessages')
      .find({ phoneNumberId: THROUGHPUT }).toArray().finally(() => database.close());
    const times = messages.map((m) => m.timeline.find((e) => e.status === 'sending')?.at.getTime() as number).sort((x, y) => x - y);
    assert.equal(times.length, 2 * PACED);
    for (const [i, t] of times.entries()) {
      // Fixed one-second windows let at most two windows' worth into any sliding second; one send
      // may be taken a moment after its window's decision, next to the following window's.
      const inSlidingSecond = times.slice(i).filter((u) => u < t + 1000).length;
      assert.ok(inSlidingSecond <= 2 * CAPS.perSecond + 1, `at most ${2 * CAPS.perSecond} (+1) taken in any second (${inSlidingSecond} after ${t - started} ms)`);
    }

    // Hourly cap and messaging limit: the totals, after both campaigns went as far as they may.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(sendsFrom(HOURLY).length, CAPS.hourly, 'the hourly cap is shared by both processes');
    const portfolioRecipients = new Set(PORTFOLIO.flatMap((sender) => sendsFrom(sender).map((s) => s.body.to)));
    assert.equal(portfolioRecipients.size, CAPS.uniqueRecipients, 'the portfolio\'s two numbers on two processes reach its limit of unique recipients, no more');
    assert.equal(graph.sends.filter((s) => s.body.to === `+${pairPhone}`).length, CAPS.pairBurst);

    // What each process reports agrees with what the double saw.
    const view = await (await fetch(`${b.url}/api/rate-limits/${HOURLY}`, { headers: { authorization: 'Bearer role:analyst' } })).json() as { usage: { hour: number } };
    assert.equal(view.usage.hour, CAPS.hourly);
  });
});
