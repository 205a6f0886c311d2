/**
 * The dashboard in a real browser while the server cannot check credentials (its database
 * unreachable): the server closes the socket with `session.unverified` and refuses handshakes with
 * UNAVAILABLE. The page says it is reconnecting, keeps the user signed in, retries, and once the
 * checks answer again is live, subscribed again and reads its panels anew. A revoked session still signs the user out.
 */
import assert from 'node:assert/strict';
import type { Browser, Page, WebSocket } from 'playwright-core';
import { Realtime } from '../../../core/index.js';
import { credentialChecks } from '../../fixtures/plugins/static-auth/index.js';
import { launchBrowser } from '../../helpers/browser.js';
import { eventually, startTestServer, type TestServer } from '../../helpers/test-host.js';

const RECONNECTING = 'reconnecting — server could not verify your session';

describe('dashboard (headless Chromium): reconnecting after the server could not verify the session', function () {
  this.timeout(60_000);
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  /** Every WebSocket the page opened: one per connection attempt (the dashboard uses no polling). */
  const attempts: WebSocket[] = [];

  before(async function () {
    this.timeout(600_000); // the first run on a fresh machine installs Chromium
    // The static test authenticator takes `role:<role>` as an access token and can simulate an outage.
    t = await startTestServer({ label: 'dashboard_rt', plugins: ['dashboard'], config: { realtime: { revalidateEveryMs: 100, revalidateGraceMs: 1_000 } } });
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('websocket', (ws) => attempts.push(ws));
    const tokens = JSON.stringify({ accessToken: 'role:viewer', refreshToken: 'unused', email: 'viewer@example.test' });
    await page.addInitScript({ content: `sessionStorage.setItem('flowgate.tokens', ${JSON.stringify(tokens)})` });
  });

  afterEach(() => { credentialChecks.outage = null; });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  const connection = () => page.textContent('#connection');
  const signedIn = async () => (await page.isVisible('#board')) && !(await page.isVisible('#login'))
    && await page.evaluate<boolean>("sessionStorage.getItem('flowgate.tokens') !== null");

  it('shows that it is reconnecting, stays signed in, retries through refused handshakes and is live and subscribed again afterwards', async () => {
    await page.goto(`${t.url}/dashboard`);
    await page.waitForSelector('#connection:text("live")');

    credentialChecks.outage = 'error';
    await page.waitForSelector(`#connection:text("${RECONNECTING}")`, { timeout: 15_000 });
    assert.equal(await signedIn(), true, 'the user stays signed in');

    // While the outage lasts, every new attempt is refused with UNAVAILABLE: the page keeps retrying and keeps saying why.
    const before = attempts.length;
    await eventually(async () => attempts.length >= before + 2, 15_000);
    assert.equal(await connection(), RECONNECTING);
    assert.equal(await signedIn(), true);

    // Events raised meanwhile are not replayed: once live again, the page reads its panels anew.
    const panelReads: string[] = [];
    page.on('request', (request) => { if (new URL(request.url()).pathname === '/api/executions') panelReads.push(request.url()); });
    credentialChecks.outage = null;
    await page.waitForSelector('#connection:text("live")', { timeout: 45_000 });
    assert.equal(await signedIn(), true);
    await eventually(async () => panelReads.length > 0, 10_000);

    // The topics were subscribed again on the new connection: a published execution appears.
    const executionId = `exec-after-outage-${Date.now()}`;
    t.server.get(Realtime).publish('executions', 'execution.started', { executionId, workflowId: 'after-outage', at: new Date().toISOString() });
    await page.waitForSelector(`#executions tr[data-execution-id="${executionId}"]`, { timeout: 10_000 });
  });

  it('still signs the user out when the session is revoked', async () => {
    await page.goto(`${t.url}/dashboard`);
    await page.waitForSelector('#connection:text("live")');
    // A check that answers no, as after a logout or a disabled user.
    await t.server.get(Realtime).revalidate({ authenticate: () => Promise.resolve(null), isStillValid: () => Promise.resolve(false) });
    await page.waitForSelector('#login-error:text("Your session was revoked.")');
    assert.equal(await page.isVisible('#board'), false);
  });
});

