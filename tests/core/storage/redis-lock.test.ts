import assert from 'node:assert/strict';
import { RedisConnection } from '../../../core/index.js';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';

/** The one lock primitive the core offers for work MongoDB-protocol storage cannot serialise on FerretDB. */
describe('core/storage/redis: locks', () => {
  let t: TestServer;
  let redis: RedisConnection;
  before(async () => {
    t = await startTestServer({ label: 'redis_lock' });
    redis = t.server.get(RedisConnection);
  });
  after(async () => { await t?.stop(); });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('has one holder at a time, tells others who holds it, and frees it on release', async () => {
    const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => redis.tryLock('test:one', 5_000, `worker ${i}`)));
    const held = attempts.filter((lock) => lock !== null);
    assert.equal(held.length, 1);
    assert.match((await redis.lockHolder('test:one')) ?? '', /^worker \d+$/);
    await held[0]?.release();
    assert.equal(await redis.lockHolder('test:one'), null);
    assert.ok(await redis.tryLock('test:one', 5_000));
  });

  it('extends while held; once expired and taken by another, neither extend nor release touch the new holder', async () => {
    const first = await redis.tryLock('test:two', 300, 'first');
    assert.ok(first);
    await sleep(200);
    assert.equal(await first.extend(300), true);
    await sleep(200);
    assert.equal(await redis.tryLock('test:two', 300, 'second'), null, 'extended, so still held');
    await sleep(250);
    const second = await redis.tryLock('test:two', 5_000, 'second');
    assert.ok(second, 'free once the hold passed');
    assert.equal(await first.extend(5_000), false);
    await first.release();
    assert.equal(await redis.lockHolder('test:two'), 'second');
  });
});
