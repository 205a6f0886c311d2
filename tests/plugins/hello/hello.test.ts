import assert from 'node:assert/strict';
import { nextEvent, startTestServer, type TestServer } from '../../helpers/test-host.js';

describe('plugin hello (the example plugin)', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'hello', pluginSettings: { hello: { blockedNames: ['Mallory'] } } }); });
  after(async () => { await t.stop(); });

  it('stores a greeting over HTTP and lists it', async () => {
    const created = await t.request<{ id: string; text: string }>('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Ada' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.text, 'Hello, Ada!');
    const list = await t.request<{ items: Array<{ id: string }> }>('get', '/api/hello/greetings?limit=5', { as: 'viewer' });
    assert.equal(list.status, 200);
    assert.ok(list.body.items.some((g) => g.id === created.body.id));
  });

  it('creates nothing twice for the same idempotency key', async () => {
    const first = await t.request<{ id: string }>('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Grace', idempotencyKey: 'same-key-123' } });
    const second = await t.request<{ id: string }>('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Grace', idempotencyKey: 'same-key-123' } });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
  });

  it('refuses a viewer who tries to write, and anyone without a token', async () => {
    const forbidden = await t.request<{ error: { code: string } }>('post', '/api/hello/greetings', { as: 'viewer', body: { name: 'Eve' } });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.code, 'FORBIDDEN');
    const anonymous = await t.request<{ error: { code: string } }>('get', '/api/hello/greetings');
    assert.equal(anonymous.status, 401);
  });

  it('uses its validated config: blocked names are refused with a clear reason', async () => {
    const blocked = await t.request<{ error: { code: string } }>('post', '/api/hello/greetings', { as: 'agent', body: { name: 'mallory' } });
    assert.equal(blocked.status, 422);
    assert.equal(blocked.body.error.code, 'HELLO_NAME_BLOCKED');
  });

  it('announces greetings on its socket topic to permitted subscribers only', async () => {
    const viewer = await t.socket({ as: 'viewer' });
    const anonymous = await t.socket();
    const ackViewer = await viewer.emitWithAck('subscribe', ['greetings']) as { subscribed: string[] };
    const ackAnonymous = await anonymous.emitWithAck('subscribe', ['greetings']) as { denied: Array<{ topic: string }> };
    assert.deepEqual(ackViewer.subscribed, ['greetings']);
    assert.equal(ackAnonymous.denied[0]?.topic, 'greetings');
    let anonymousGotOne = false;
    anonymous.on('greeting.created', () => { anonymousGotOne = true; });
    const received = nextEvent<{ name: string }>(viewer, 'greeting.created', 5_000, (g) => g.name === 'Linus');
    await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Linus' } });
    assert.equal((await received).name, 'Linus');
    assert.equal(anonymousGotOne, false);
  });

  it('runs its Agenda job, which publishes the tally', async () => {
    const viewer = await t.socket({ as: 'viewer' });
    await viewer.emitWithAck('subscribe', ['greetings']);
    const tally = nextEvent<{ total: number }>(viewer, 'greeting.tally', 10_000);
    await t.server.get((await import('../../../core/index.js')).Scheduler).now('hello.tally', {});
    assert.ok((await tally).total >= 3);
  });

  it('lists its contributions under GET /api/plugins', async () => {
    const plugins = await t.request<{ items: Array<{ id: string; triggers: Array<{ type: string }>; actions: Array<{ type: string }>; policies: Array<{ type: string }>; jobs: string[]; topics: Array<{ name: string }> }> }>('get', '/api/plugins', { as: 'viewer' });
    const hello = plugins.body.items.find((p) => p.id === 'hello');
    assert.ok(hello);
    assert.deepEqual(hello.triggers.map((x) => x.type), ['hello.greeting@1']);
    assert.deepEqual(hello.actions.map((x) => x.type), ['hello.greet@1']);
    assert.deepEqual(hello.policies.map((x) => x.type), ['hello.name-allowed@1']);
    assert.deepEqual(hello.jobs, ['hello.tally']);
    assert.deepEqual(hello.topics.map((x) => x.name), ['greetings']);
  });
});
