import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import type { RoleName } from '../../../core/index.js';
import { nextEvent } from '../../helpers/test-host.js';
import { startIdentityServer, type IdentityTestServer, type SignedIn } from './identity-host.js';

const disconnected = (socket: Socket, timeoutMs = 12_000) => new Promise<string>((resolve, reject) => {
  if (socket.disconnected) return resolve('already');
  const timer = setTimeout(() => reject(new Error('socket stayed connected')), timeoutMs);
  socket.once('disconnect', (reason) => { clearTimeout(timer); resolve(reason); });
});

describe('identity: sockets authenticate with the same tokens', function () {
  this.timeout(30_000);
  let t: IdentityTestServer;
  let users: Record<RoleName, SignedIn>;
  before(async () => {
    t = await startIdentityServer({ label: 'sockets' });
    users = await t.roleUsers();
  });
  after(async () => { await t?.stop(); });

  it('refuses a handshake with a bad token', async () => {
    await assert.rejects(t.connect({ token: 'forged.token.value' }), /UNAUTHENTICATED/);
  });

  it('never sends audit events to a viewer; a manager receives them', async () => {
    const viewer = await t.connect({ token: users.viewer.accessToken });
    const manager = await t.connect({ token: users.manager.accessToken });
    const viewerAck = await viewer.emitWithAck('subscribe', ['audit']) as { subscribed: string[]; denied: Array<{ topic: string; reason: string }> };
    const managerAck = await manager.emitWithAck('subscribe', ['audit']) as { subscribed: string[] };
    assert.deepEqual(viewerAck.subscribed, []);
    assert.equal(viewerAck.denied[0]?.reason, 'needs audit:read');
    assert.deepEqual(managerAck.subscribed, ['audit']);
    let viewerGotOne = false;
    viewer.onAny(() => { viewerGotOne = true; });
    const entry = nextEvent<{ action: string }>(manager, 'audit.entry', 5_000, (e) => e.action === 'api-key.created');
    await t.call('post', '/api/api-keys', users.admin.accessToken, { name: 'socket test', role: 'viewer' });
    assert.equal((await entry).action, 'api-key.created');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(viewerGotOne, false);
  });

  it('disconnects the socket of a token whose session ends', async () => {
    const user = await t.createUser('manager', 'socket-logout');
    const socket = await t.connect({ token: user.accessToken });
    const revoked = nextEvent(socket, 'session.revoked', 8_000);
    const gone = disconnected(socket);
    assert.equal((await t.request('post', '/api/auth/logout', { headers: { authorization: `Bearer ${user.accessToken}` }, body: {} })).status, 204);
    await revoked;
    await gone;
  });

  it('disconnects the socket of a revoked API key and of a demoted user', async () => {
    const created = await t.call<{ id: string; key: string }>('post', '/api/api-keys', users.admin.accessToken, { name: 'dashboard', role: 'manager' });
    const keySocket = await t.connect({ apiKey: created.body.key });
    const keyGone = disconnected(keySocket);
    await t.call('delete', `/api/api-keys/${created.body.id}`, users.admin.accessToken);
    await keyGone;

    const user = await t.createUser('manager', 'socket-demoted');
    const socket = await t.connect({ token: user.accessToken });
    assert.deepEqual((await socket.emitWithAck('subscribe', ['audit']) as { subscribed: string[] }).subscribed, ['audit']);
    const gone = disconnected(socket);
    await t.call('post', '/api/permissions/assign', users.admin.accessToken, { userId: user.id, role: 'viewer' });
    await gone;
    // Reconnecting with the same token gives the new, lower permissions.
    const again = await t.connect({ token: user.accessToken });
    assert.deepEqual((await again.emitWithAck('subscribe', ['audit']) as { subscribed: string[] }).subscribed, []);
  });
});
