/**
 * Realtime.publish groups events published within `realtime.flushIntervalMs` of the last flush; what a
 * dashboard receives must not change: every event, once, in publication order, with its payload.
 */
import assert from 'node:assert/strict';
import { io, type Socket } from 'socket.io-client';
import { Realtime } from '../../../core/index.js';
import { eventually, startTestServer, type TestServer } from '../../helpers/test-host.js';

const FLUSH_INTERVAL_MS = 20;

interface Received { topic: string; event: string; at: string; n: number }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('core realtime: publishing', function () {
  this.timeout(30_000);
  let t: TestServer;
  let polling: Socket | null = null;
  before(async () => { t = await startTestServer({ label: 'rt_publish', plugins: ['flow', 'hello'], config: { realtime: { flushIntervalMs: FLUSH_INTERVAL_MS } } }); });
  after(async () => {
    polling?.disconnect();
    await t?.stop();
  });

  const listen = (socket: Socket) => {
    const received: Received[] = [];
    socket.onAny((_name, payload: Received) => { received.push(payload); });
    return received;
  };

  it('a burst on two topics reaches a websocket and a long-polling client whole, once each, in publication order', async () => {
    const websocket = await t.socket({ as: 'owner' });
    polling = io(t.url, { transports: ['polling'], auth: { token: 'role:owner' }, reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => { polling?.once('connect', resolve); polling?.once('connect_error', reject); });
    for (const socket of [websocket, polling]) {
      assert.deepEqual((await socket.emitWithAck('subscribe', ['greetings', 'executions'])).subscribed, ['greetings', 'executions']);
    }
    const byWebsocket = listen(websocket);
    const byPolling = listen(polling);
    const realtime = t.server.get(Realtime);
    const expected: Array<Pick<Received, 'topic' | 'event' | 'n'>> = [];
    const publish = (n: number) => {
      const [topic, event] = n % 2 ? ['executions', 'execution.step'] : ['greetings', 'greeting.created'];
      realtime.publish(topic as string, event as string, { n });
      expected.push({ topic: topic as string, event: event as string, n });
    };
    // Every path: many in one go (the first at once, the rest at the end of the window), one
    // per turn of the event loop, and some spaced wider than the window.
    let n = 0;
    while (n < 200) publish(n++);
    while (n < 400) { publish(n++); await new Promise((r) => setImmediate(r)); }
    while (n < 410) { publish(n++); await sleep(FLUSH_INTERVAL_MS * 2); }
    for (const received of [byWebsocket, byPolling]) {
      await eventually(async () => received.length >= expected.length);
      await sleep(200); // nothing more may arrive
      assert.deepEqual(received.map(({ topic, event, n: number }) => ({ topic, event, n: number })), expected);
      assert.ok(received.every((e) => !Number.isNaN(Date.parse(e.at))), 'every event carries its publication time');
    }
  });

  it('an event published right after another waits for the end of the window, and goes out with nothing after it', async () => {
    const socket = await t.socket({ as: 'viewer' });
    await socket.emitWithAck('subscribe', ['greetings']);
    const arrivals: Array<{ n: number; at: number }> = [];
    socket.on('greeting.created', (e: Received) => { arrivals.push({ n: e.n, at: performance.now() }); });
    const realtime = t.server.get(Realtime);
    await sleep(FLUSH_INTERVAL_MS * 2); // a quiet server: the first goes out at once
    const publishedAt = performance.now();
    realtime.publish('greetings', 'greeting.created', { n: 1 });
    realtime.publish('greetings', 'greeting.created', { n: 2 });
    await eventually(async () => arrivals.length === 2, 5_000);
    assert.deepEqual(arrivals.map((e) => e.n), [1, 2]);
    // A timer never fires early; a loaded machine can only make it later.
    const second = (arrivals[1]?.at ?? 0) - publishedAt;
    assert.ok(second >= FLUSH_INTERVAL_MS - 1, `the second event arrived ${second.toFixed(1)} ms after it was published`);
  });
});
