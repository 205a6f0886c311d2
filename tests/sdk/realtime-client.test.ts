/** Runs the documented dashboard client (examples/realtime-client/live-feed.mjs) against a real server. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Realtime } from '../../core/index.js';
import { projectRoot } from '../../core/paths.js';
import { credentialChecks } from '../fixtures/plugins/static-auth/index.js';
import { eventually, startTestServer, type TestServer } from '../helpers/test-host.js';

interface Client { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> }

function liveFeed(url: string, env: Record<string, string>, topics: string[]): Client {
  const child = spawn(process.execPath, [join(projectRoot, 'examples/realtime-client/live-feed.mjs'), ...topics], {
    cwd: projectRoot, env: { PATH: process.env.PATH, FLOWGATE_URL: url, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return { child, stdout: () => stdout, stderr: () => stderr, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** The JSON lines the client writes to stderr when it is about to connect again. */
const reconnections = (feed: Client) => feed.stderr().split('\n').filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line) as { reconnecting: boolean; cause: string; reason: string; delayMs: number });

describe('examples/realtime-client/live-feed.mjs (the client in docs/realtime.md)', () => {
  let t: TestServer;
  // Credentials are checked again every 100 ms; a socket whose checks fail for 1 s is closed.
  before(async () => { t = await startTestServer({ label: 'live_feed', config: { realtime: { revalidateEveryMs: 100, revalidateGraceMs: 1_000 } } }); });
  afterEach(() => { credentialChecks.outage = null; });
  after(async () => { await t.stop(); });

  it('subscribes with a token, reports denied topics and prints each event as one JSON line', async () => {
    const feed = liveFeed(t.url, { FLOWGATE_TOKEN: 'role:viewer' }, ['greetings', 'executions', 'no-such-topic']);
    try {
      await eventually(async () => /subscribed: greetings, executions/.test(feed.stderr()));
      assert.match(feed.stderr(), /denied: no-such-topic \(unknown topic\)/);
      await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Grace' } });
      const line = await eventually(async () => feed.stdout().split('\n').find((l) => l.includes('greeting.created')));
      const event = JSON.parse(line) as { topic: string; event: string; at: string; name: string };
      assert.deepEqual([event.topic, event.event, event.name], ['greetings', 'greeting.created', 'Grace']);
      assert.ok(!Number.isNaN(Date.parse(event.at)));
    } finally {
      feed.child.kill('SIGINT');
    }
    assert.equal(await feed.exit, 0);
  });

  it('exits with 1 and says why when the server refuses the credentials', async () => {
    const feed = liveFeed(t.url, { FLOWGATE_TOKEN: 'role:intruder' }, ['greetings']);
    assert.equal(await feed.exit, 1);
    assert.match(feed.stderr(), /cannot connect: UNAUTHENTICATED: Unknown test token/);
  });

  it('connects anonymously without credentials, and is told to authenticate for a topic with a permission', async () => {
    const feed = liveFeed(t.url, {}, ['greetings']);
    try {
      await eventually(async () => /denied/.test(feed.stderr()));
      assert.match(feed.stderr(), /subscribed: nothing\ndenied: greetings \(authenticate to subscribe\)/);
    } finally {
      feed.child.kill('SIGINT');
    }
    assert.equal(await feed.exit, 0);
  });

  it('reconnects with backoff when the server could not check the credentials, says so, and receives events again', async () => {
    const feed = liveFeed(t.url, { FLOWGATE_TOKEN: 'role:viewer' }, ['greetings']);
    let exited = false;
    void feed.exit.then(() => { exited = true; });
    try {
      await eventually(async () => /subscribed: greetings/.test(feed.stderr()));
      credentialChecks.outage = 'error';
      // Closed with session.unverified, then refused with UNAVAILABLE while the outage lasts.
      await eventually(async () => reconnections(feed).some((r) => r.cause === 'UNAVAILABLE'), 15_000);
      const seen = reconnections(feed);
      assert.deepEqual(seen.slice(0, 2).map((r) => [r.reconnecting, r.cause, r.reason]), [
        [true, 'session.unverified', 'credentials could not be checked'],
        [true, 'UNAVAILABLE', 'The credentials could not be checked; connect again later'],
      ]);
      // 1 s doubling, each with up to half of it taken off at random.
      const [firstMs = NaN, secondMs = NaN] = seen.map((r) => r.delayMs);
      assert.ok(firstMs >= 500 && firstMs <= 1_000, `first retry after ${firstMs} ms`);
      assert.ok(secondMs >= 1_000 && secondMs <= 2_000, `second retry after ${secondMs} ms`);
      assert.doesNotMatch(feed.stdout(), /could not be checked/, 'stdout carries only the events of the topics');
      assert.equal(exited, false);

      credentialChecks.outage = null;
      await eventually(async () => (feed.stderr().match(/subscribed: greetings/g) ?? []).length >= 2, 45_000);
      t.server.get(Realtime).publish('greetings', 'greeting.created', { name: 'after the outage' });
      await eventually(async () => feed.stdout().includes('after the outage'));
    } finally {
      feed.child.kill('SIGINT');
    }
    assert.equal(await feed.exit, 0);
  });
});
