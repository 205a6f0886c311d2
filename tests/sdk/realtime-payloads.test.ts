/** What docs/realtime.md promises is what clients get: published payloads match their topic's declared schemas. */
import assert from 'node:assert/strict';
import { createAjv } from '../../core/index.js';
import { eventually, startTestServer, type TestServer } from '../helpers/test-host.js';

describe('realtime payloads against the schemas docs/realtime.md is generated from', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'rt_payloads', plugins: ['flow', 'hello'] }); });
  after(async () => { await t.stop(); });

  it('an execution and a greeting publish events that validate against their declared schemas', async () => {
    const socket = await t.socket({ as: 'viewer' });
    const received: Array<{ topic: string; event: string } & Record<string, unknown>> = [];
    socket.onAny((_name, payload: { topic: string; event: string }) => { received.push(payload); });
    await socket.emitWithAck('subscribe', ['executions', 'greetings']);
    await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Katherine' } });
    await eventually(async () => received.some((e) => e.event === 'execution.finished'));
    const seen = new Set(received.map((e) => e.event));
    for (const event of ['greeting.created', 'execution.started', 'execution.step', 'execution.finished']) assert.ok(seen.has(event), `no ${event} in ${[...seen].join(', ')}`);
    const ajv = createAjv();
    for (const { topic, event, ...rest } of received) {
      const schema = t.server.contributions.topics.get(topic)?.definition.events[event];
      assert.ok(schema, `${event} is not declared on topic ${topic}`);
      // The envelope's `at` is not part of the event unless the event declares an `at` of its own.
      const declaresAt = Boolean((schema.properties as Record<string, unknown> | undefined)?.at);
      const payload = declaresAt ? rest : Object.fromEntries(Object.entries(rest).filter(([key]) => key !== 'at'));
      const validate = ajv.compile(schema);
      assert.ok(validate(payload), `${event}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(payload)}`);
    }
  });
});
