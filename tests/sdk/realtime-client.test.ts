/** Runs the documented dashboard client (examples/realtime-client/live-feed.mjs) against a real server. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../core/paths.js';
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

describe('examples/realtime-client/live-feed.mjs (the client in docs/realtime.md)', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'live_feed' }); });
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
});
