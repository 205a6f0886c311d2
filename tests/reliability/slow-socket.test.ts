import assert from 'node:assert/strict';
import type { Socket as NetSocket } from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Realtime } from '../../core/index.js';
import { startTestServer, type TestServer } from '../helpers/test-host.js';

const EVENTS = 40_000;
const PAYLOAD_BYTES = 4 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Memory still held after a collection: the JS heap plus Buffers outside it. */
const retained = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

describe('reliability: a socket client that stops reading', function () {
  this.timeout(60_000);
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'slow-socket', plugins: ['hello'] }); });
  after(async () => { await t?.stop(); });

  it('is disconnected before the server buffers its events without bound; a reading client gets every event', async () => {
    const slow = await t.socket({ as: 'viewer' });
    const healthy = await t.socket({ as: 'viewer' });
    assert.deepEqual((await slow.emitWithAck('subscribe', ['greetings'])).subscribed, ['greetings']);
    assert.deepEqual((await healthy.emitWithAck('subscribe', ['greetings'])).subscribed, ['greetings']);
    let received = 0;
    healthy.on('greeting.created', () => { received++; });
    let slowDisconnected = false;
    // The slow client's TCP socket stops reading: the kernel buffers fill, then the server's.
    const transport = slow.io.engine.transport as unknown as { ws?: { _socket?: NetSocket } };
    const tcp = transport.ws?._socket;
    assert.ok(tcp, 'websocket transport with a TCP socket');
    tcp.pause();

    const realtime = t.server.get(Realtime);
    const padding = 'x'.repeat(PAYLOAD_BYTES);
    const baseline = retained();
    let peak = baseline;
    for (let i = 0; i < EVENTS; i++) {
      realtime.publish('greetings', 'greeting.created', { i, padding });
      // Let the healthy client (in this same process) read, as a live server would between events:
      // with pauses every 200 events it sometimes fell behind far enough to be taken for a slow one.
      if (i % 100 === 0) await sleep(10);
      if (i % 10_000 === 0) peak = Math.max(peak, retained());
    }
    await sleep(500);
    peak = Math.max(peak, retained());
    const publishedMb = (EVENTS * PAYLOAD_BYTES) / 2 ** 20;
    const grewMb = (peak - baseline) / 2 ** 20;
    if (process.env.FLOWGATE_REPORT_FIGURES) console.log(`slow socket: ${publishedMb.toFixed(0)} MB published, retained memory grew ${grewMb.toFixed(1)} MB at most`);
    slow.on('disconnect', () => { slowDisconnected = true; });
    tcp.resume();
    await sleep(1_500);
    assert.ok(slowDisconnected || !slow.connected, 'the server closed the slow client');
    assert.ok(grewMb < publishedMb / 4, `buffered memory grew ${grewMb.toFixed(1)} MB for ${publishedMb.toFixed(0)} MB published`);
    const deadline = Date.now() + 15_000;
    while (received < EVENTS && Date.now() < deadline) await sleep(100);
    assert.equal(received, EVENTS, 'the reading client got every event');
  });
});
