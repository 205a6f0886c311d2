/**
 * The dashboard in a real browser: sign in, then watch a STOP keyword arrive as a signed webhook
 * and its execution and consent change appear without a reload.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { projectRoot } from '../../../core/paths.js';
import { GraphApiDouble } from '../../doubles/graph-api.js';
import { inboundText, PHONE_NUMBER_ID } from '../../doubles/whatsapp-payloads.js';
import { launchBrowser } from '../../helpers/browser.js';
import { ACCESS_TOKEN, APP_SECRET, processed, sign, VERIFY_TOKEN } from '../whatsapp/harness.js';
import { OWNER, startIdentityServer, type IdentityTestServer } from '../identity/identity-host.js';

/** `UPDATE_SCREENSHOTS=1 npm test` refreshes the pictures in docs/images; otherwise they go to a scratch folder. */
const screenshotDir = process.env.UPDATE_SCREENSHOTS ? join(projectRoot, 'docs', 'images') : join(projectRoot, 'dist', 'screenshots');

describe('dashboard (headless Chromium)', function () {
  this.timeout(120_000);
  let t: IdentityTestServer;
  let graph: GraphApiDouble;
  let browser: Browser;
  let page: Page;

  before(async function () {
    this.timeout(600_000); // the first run on a fresh machine installs Chromium
    graph = new GraphApiDouble();
    await graph.start();
    graph.acceptedTokens = [ACCESS_TOKEN];
    Object.assign(process.env, {
      WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url, CONSENT_ERASURE_KEY: 'dashboard-test-erasure-key',
    });
    t = await startIdentityServer({
      label: 'dashboard', plugins: ['audit', 'identity', 'flow', 'whatsapp', 'consent', 'rate-limit', 'dashboard'],
      pluginSettings: { whatsapp: { requestTimeoutMs: 2000 } },
    });
    mkdirSync(screenshotDir, { recursive: true });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await graph?.settled();
    await t?.stop();
    await graph?.stop();
  });

  it('serves the page and its scripts from the server itself', async () => {
    for (const path of ['/dashboard', '/dashboard/app.js', '/dashboard/app.css', '/dashboard/vendor/socket.io.min.js', '/dashboard/vendor/chart.umd.min.js']) {
      const response = await t.request('get', path);
      assert.equal(response.status, 200, path);
      assert.ok(response.text.length > 100, path);
    }
  });

  it('refuses a wrong password with a message on the page', async () => {
    await page.goto(`${t.url}/dashboard`);
    await page.fill('input[name=email]', OWNER.email);
    await page.fill('input[name=password]', 'not the password');
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#login-error:text("Wrong email or password.")');
    assert.equal(await page.isVisible('#board'), false);
  });

  it('signs in, then shows a STOP webhook\'s execution and consent change live', async () => {
    await page.fill('input[name=password]', OWNER.password);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#connection:text("live")');
    await page.waitForSelector('#workflows li[data-workflow-id="stop-keyword"]');

    const phone = `3361${String(Date.now()).slice(-7)}`;
    const raw = JSON.stringify(inboundText('STOP', { from: phone }).payload);
    const response = await t.request('post', '/webhooks/whatsapp', { rawBody: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw) } });
    assert.equal(response.status, 200);
    await processed(t);

    await page.waitForSelector(`#consent li[data-phone="${phone}"][data-state="opted_out"]`, { timeout: 20_000 });
    const row = await page.waitForSelector('#executions tr:has-text("stop-keyword")[data-status="succeeded"]', { timeout: 20_000 });
    await row.click();
    const trail = await page.waitForSelector('[data-testid=trail]');
    assert.match(await trail.innerText(), /consent\.revoke@1/);
    await page.waitForSelector(`#messages tr:has-text("+${phone}")`);
    const gauges = await page.waitForSelector(`#rate-limits [data-phone-number-id="${PHONE_NUMBER_ID}"]`);
    assert.match(await gauges.innerText(), /This hour[\s\S]*Unique recipients, 24 h/);
    await page.screenshot({ path: join(screenshotDir, 'dashboard.png'), fullPage: true });
  });

  it('disables and enables a workflow, and dry-runs one without effects', async () => {
    const item = '#workflows li[data-workflow-id="help-keyword"]';
    await page.click(`${item} button:text("Disable")`);
    await page.waitForSelector(`${item} button:text("Enable")`);
    const disabled = await t.call<{ items: Array<{ id: string; enabled: boolean }> }>('get', '/api/workflows', (await t.roleUsers()).viewer.accessToken);
    assert.equal(disabled.body.items.find((w) => w.id === 'help-keyword')?.enabled, false);
    await page.click(`${item} button:text("Enable")`);
    await page.waitForSelector(`${item} button:text("Disable")`);

    await page.click(`${item} button:text("Dry run")`);
    await page.fill('#dry-run-event', '{ not json');
    await page.click('#dry-run-go');
    await page.waitForSelector('#dry-run-result:has-text("not valid JSON")');
    const messages = graph.requests.length;
    await page.fill('#dry-run-event', JSON.stringify({ messageId: 'm1', providerMessageId: 'wamid.X', phoneNumberId: PHONE_NUMBER_ID, from: '15550001111', fromUserId: null,
      contact: { id: 'c1' }, type: 'text', text: 'help', timestamp: new Date().toISOString() }));
    await page.click('#dry-run-go');
    await page.waitForSelector('#dry-run-result:has-text("matched: true")');
    assert.equal(graph.requests.length, messages, 'a dry run sends nothing');
  });
});
