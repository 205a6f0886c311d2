/**
 * The two hand-offs that a crash could break: a flush that wrote the rollup documents but died
 * before forgetting its batch, and an ingestion that died between storing raw events and counting
 * them. Both are replayed here against the real Redis and FerretDB.
 */
import assert from 'node:assert/strict';
import { RedisConnection } from '../../../core/index.js';
import { AnalyticsEventModel } from '../../../plugins/analytics/models/analytics-event.js';
import { EventRecorder } from '../../../plugins/analytics/services/event-recorder.js';
import { RollupBuffer, type StagedIncrement } from '../../../plugins/analytics/services/rollup-buffer.js';
import { RollupFlusher } from '../../../plugins/analytics/services/rollup-flusher.js';
import type { TestServer } from '../../helpers/test-host.js';
import { get, ingest, startAnalytics } from './harness.js';

const count = async (t: TestServer, type: string, from: string, to: string): Promise<number> => {
  const body = await get<{ byType: Array<{ type: string; count: number }> }>(t, `/api/analytics/overview?from=${from}&to=${to}`);
  return body.byType.find((b) => b.type === type)?.count ?? 0;
};

describe('plugin analytics: crash safety of the rollup hand-offs', function () {
  this.timeout(90_000);
  let t: TestServer;
  let buffer: RollupBuffer;
  let flusher: RollupFlusher;
  let redis: RedisConnection;
  // Flushes only when the test says so.
  before(async () => {
    t = await startAnalytics('an-crash', { pluginSettings: { analytics: { flushEveryMs: 60_000 } } });
    buffer = t.server.get(RollupBuffer);
    flusher = t.server.get(RollupFlusher);
    redis = t.server.get(RedisConnection);
  });
  after(async () => { await t.stop(); });

  it('a batch applied again after a crash (documents written, batch not yet forgotten) adds nothing', async () => {
    await ingest(t, [
      { id: 'f-1', type: 'replay.fact', occurredAt: '2025-05-01T10:00:00Z' },
      { id: 'f-2', type: 'replay.fact', occurredAt: '2025-05-02T10:00:00Z' },
      { id: 'f-3', type: 'replay.fact', occurredAt: '2025-05-02T11:00:00Z', dimensions: { a: 'b' } },
    ]);
    const taken = await buffer.handoff();
    assert.ok(taken);
    await flusher.flush(); // finds the batch in `flushing`, applies it, forgets it
    assert.equal(await count(t, 'replay.fact', '2025-05-01', '2025-05-03'), 3);
    // The crash: the batch is still there when the next flusher looks.
    await redis.client.hset(buffer.key('flushing'), taken.counts);
    await redis.client.set(buffer.key('flushing-batch'), String(taken.batch));
    assert.equal(await flusher.flush(), 0);
    assert.ok(await buffer.empty());
    assert.equal(await count(t, 'replay.fact', '2025-05-01', '2025-05-03'), 3);
  });

  it('counts a dead process\'s inflight events that were stored, drops the rest, and leaves live processes alone', async () => {
    const events = t.server.get(AnalyticsEventModel.token);
    const stage = (id: string, processId: string, batch: string): [string, StagedIncrement] => [
      `${processId}|${batch}|${id}`,
      { type: 'recovered.fact', day: '2025-06-01', hour: 'h09', combo: 'c0ffee', dims: '{}', value: '', minute: -1 },
    ];
    const stored = (id: string, batch: string) => ({ _id: id, type: 'recovered.fact', occurredAt: new Date('2025-06-01T09:00:00Z'), dimensions: {}, source: 'api' as const, batch, receivedAt: new Date() });
    await events.create([stored('r-stored', 'b-dead'), stored('r-other-batch', 'b-earlier'), stored('r-live', 'b-live')]);
    await buffer.stage([
      stage('r-stored', 'dead-process', 'b-dead'), // stored by the batch that died: count it
      stage('r-never-stored', 'dead-process', 'b-dead'), // the insert never happened: drop it
      stage('r-other-batch', 'dead-process', 'b-dead'), // a duplicate of an earlier event: drop it
      stage('r-live', 'live-process', 'b-live'), // its writer is alive and will commit it
    ]);
    await buffer.heartbeat('live-process', 30_000);
    await flusher.flush();
    assert.equal(await count(t, 'recovered.fact', '2025-06-01', '2025-06-02'), 1);
    assert.deepEqual([...(await buffer.inflight()).keys()], ['live-process|b-live|r-live']);
    // The live writer commits its own entry.
    await buffer.commit(['live-process|b-live|r-live'], []);
    await flusher.settle();
    assert.equal(await count(t, 'recovered.fact', '2025-06-01', '2025-06-02'), 2);
  });

  it('recovers this process\'s own entries left by a batch that failed half-way', async () => {
    const recorder = t.server.get(EventRecorder);
    const field = `${recorder.processId}|b-failed|own-1`;
    await buffer.stage([[field, { type: 'own.fact', day: '2025-07-01', hour: 'h00', combo: 'c0ffee', dims: '{}', value: '', minute: -1 }]]);
    await t.server.get(AnalyticsEventModel.token).create({ _id: 'own-1', type: 'own.fact', occurredAt: new Date('2025-07-01T00:00:00Z'), dimensions: {}, source: 'api', batch: 'b-failed', receivedAt: new Date() });
    await flusher.settle();
    assert.equal(await count(t, 'own.fact', '2025-07-01', '2025-07-02'), 1);
  });
});
