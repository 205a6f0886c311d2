/**
 * The credentials of an open socket are checked again every `realtime.revalidateEveryMs`. A check
 * that cannot be answered (the authenticator's database down) is no yes: once the credentials
 * have gone unconfirmed for `realtime.revalidateGraceMs` the socket is closed with
 * `session.unverified`, so a credential revoked just before an outage does not keep receiving
 * events through it, while a shorter blip leaves dashboards connected. A handshake that cannot be
 * checked is refused as unavailable, not as bad credentials.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { Realtime } from '../../../core/index.js';
import { credentialChecks } from '../../fixtures/plugins/static-auth/index.js';
import { eventually, nextEvent, startTestServer, type TestServer } from '../../helpers/test-host.js';

const EVERY_MS = 100;
const GRACE_MS = 2_000;

describe('core realtime: sockets whose credentials cannot be checked', function () {
  this.timeout(30_000);
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'rt_recheck', config: { realtime: { revalidateEveryMs: EVERY_MS, revalidateGraceMs: GRACE_MS } } }); });
  afterEach(() => { credentialChecks.outage = null; });
  after(async () => { await t?.stop(); });

  /** A socket of `role` whose credentials the server has checked again at least once. */
  async function confirmedSocket(role: string): Promise<Socket> {
    const since = performance.now();
    const socket = await t.socket({ as: role });
    await eventually(async () => (credentialChecks.confirmedAt.get(`test-${role}`) ?? -Infinity) > since);
    return socket;
  }

  const closing = (socket: Socket) => new Promise<{ reason: string; at: number }>((resolve) => {
    socket.once('disconnect', (reason) => resolve({ reason, at: performance.now() }));
  });

  for (const [outage, role] of [['error', 'viewer'], ['silence', 'agent']] as const) {
    it(`closes the socket with session.unverified once its credentials went unconfirmed for the grace, not before (checks ${outage === 'error' ? 'failing' : 'never answering'})`, async () => {
      const socket = await confirmedSocket(role);
      const unverified = nextEvent<{ reason: string }>(socket, 'session.unverified', 15_000);
      const closed = closing(socket);
      credentialChecks.outage = outage;
      const lastConfirmedAt = credentialChecks.confirmedAt.get(`test-${role}`) ?? -Infinity;
      assert.deepEqual(await unverified, { reason: 'credentials could not be checked' });
      const { reason, at } = await closed;
      assert.equal(reason, 'io server disconnect');
      // The server times a check from just before it asks: a millisecond of slack.
      assert.ok(at - lastConfirmedAt >= GRACE_MS - 1, `closed ${Math.round(at - lastConfirmedAt)} ms after the credentials were last confirmed`);

      // Once the checks answer again, the client reconnects and is authenticated as usual.
      credentialChecks.outage = null;
      const again = await confirmedSocket(role);
      assert.deepEqual((await again.emitWithAck('subscribe', ['greetings']) as { subscribed: string[] }).subscribed, ['greetings']);
      again.disconnect();
    });
  }

  it('keeps a socket connected and receiving events through check failures shorter than the grace', async () => {
    const socket = await confirmedSocket('analyst');
    assert.deepEqual((await socket.emitWithAck('subscribe', ['greetings']) as { subscribed: string[] }).subscribed, ['greetings']);
    let unverified = false;
    socket.on('session.unverified', () => { unverified = true; });
    const failedBefore = credentialChecks.failed;
    credentialChecks.outage = 'error';
    await eventually(async () => credentialChecks.failed >= failedBefore + 2);
    credentialChecks.outage = null;
    const restoredAt = performance.now();
    await eventually(async () => (credentialChecks.confirmedAt.get('test-analyst') ?? -Infinity) > restoredAt);

    const received = nextEvent<{ n: number }>(socket, 'greeting.created');
    t.server.get(Realtime).publish('greetings', 'greeting.created', { n: 1 });
    assert.equal((await received).n, 1);
    assert.equal(socket.connected, true);
    assert.equal(unverified, false);
    socket.disconnect();
  });

  it('refuses a handshake it cannot check with UNAVAILABLE and no internal detail; bad credentials stay UNAUTHENTICATED', async () => {
    credentialChecks.outage = 'error';
    const refused = await t.socket({ as: 'viewer' }).then(() => null, (error: Error & { data?: { message?: string } }) => error);
    assert.equal(refused?.message, 'UNAVAILABLE');
    assert.equal(refused?.data?.message, 'The credentials could not be checked; connect again later');
    credentialChecks.outage = null;
    await assert.rejects(t.socket({ as: 'nobody' }), (error: Error & { data?: { message?: string } }) => error.message === 'UNAUTHENTICATED' && error.data?.message === 'Unknown test token');
  });
});
