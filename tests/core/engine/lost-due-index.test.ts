/**
 * An event is stored already marked dispatched when the process that received it starts its
 * executions at once; until they are stored, only the due index in Redis remembers that the
 * dispatch is unfinished. A process dying in that window while Redis loses its data must not
 * lose the event: the next process to start runs its workflow, once.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { MongoConnection, RedisConnection, type Model } from '../../../core/index.js';
import { eventually, startTestServer, type TestServer } from '../../helpers/test-host.js';
import { stopAfterEach } from '../../helpers/server-process.js';
import { createWorkflow, ENGINE_PLUGINS, manualWorkflow, uniqueId, waitForExecution } from './helpers.js';

describe('core/engine: a dispatch cut short while Redis loses the due index', function () {
  this.timeout(60_000);
  const track = stopAfterEach();

  it('runs the workflow of an event stored as dispatched whose executions were never stored, exactly once, after a restart', async () => {
    // The victim's own sweeper must not finish the dispatch before it "dies".
    const victim = track(await startTestServer({ label: 'lost-due', plugins: ENGINE_PLUGINS, config: { engine: { dispatchGraceMs: 600_000 } } }));
    const workflowId = uniqueId('lost-due');
    await createWorkflow(victim, manualWorkflow(workflowId, [{ id: 'count', action: 'probe.tally@1', input: {} }]));

    // The process dies after storing the event, before storing its execution.
    const mongo = victim.server.get(MongoConnection);
    const insertNew = mongo.insertNew.bind(mongo);
    let died = false;
    mongo.insertNew = async <T>(model: Model<T>, doc: Partial<T>): Promise<T> => {
      if (model.modelName !== 'Execution') return insertNew(model, doc);
      died = true;
      throw new Error('the process died here');
    };
    const started = await victim.request<{ eventId: string }>('post', `/api/workflows/${workflowId}/run`, { as: 'manager', body: { payload: {} } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await eventually(async () => died);
    const db = mongo.connection.db;
    const event = await db?.collection('workflowevents').findOne({ _id: started.body.eventId as never });
    assert.equal(event?.dispatched, true, 'the event was stored marked dispatched');
    assert.equal(await db?.collection('executions').countDocuments({ eventId: started.body.eventId }), 0, 'no execution was stored');
    await victim.stop();

    const lostRedis = new Redis(process.env.REDIS_URL as string);
    try {
      await lostRedis.flushall();
    } finally {
      lostRedis.disconnect();
    }

    const survivor: TestServer = track(await startTestServer({ mongodbUri: victim.mongodbUri, plugins: ENGINE_PLUGINS, config: { engine: { sweepEveryMs: 300 } } }));
    const run = await waitForExecution(survivor, started.body.eventId, ['succeeded', 'failed', 'cancelled'], 20_000);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    const list = await survivor.request<{ items: unknown[] }>('get', `/api/executions?eventId=${started.body.eventId}`, { as: 'viewer' });
    assert.equal(list.body.items.length, 1, 'one execution for the event');
    const redis = survivor.server.get(RedisConnection);
    assert.equal(await redis.client.get(`${redis.keyPrefix}probe:tally:${run.id}:count`), '1', 'the step ran once');
  });
});
