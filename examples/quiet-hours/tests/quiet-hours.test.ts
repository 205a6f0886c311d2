/**
 * The example external plugin, tested the way its author would: through the SDK's test kit
 * (`flowgate/testing`), with the plugin loaded by path and its shipped workflows loaded from
 * its own folder, over HTTP and Socket.IO.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreError, EngineClock, Scheduler, WorkflowEngine, type Model } from 'flowgate/sdk';
import { eventually, GraphApiDouble, nextEvent, startTestServer, type TestServer } from 'flowgate/testing';
import { DeferralModel, type Deferral } from '../models/deferral.js';

const PLUGIN = './dist/examples/quiet-hours/index.js';
const LONDON = '+447700900123';
const NEW_YORK = '+12025550100';
const HOOK_SECRET = 'appointment-hook-secret';
const NOTIFY_SECRET = 'notify-secret-0123456789';

/** `HH:MM` of `at` shifted by `minutes`, in `zone`. */
function clockIn(zone: string, at: Date, minutes: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(new Date(at.getTime() + minutes * 60_000));
}

interface ExecutionView { id: string; status: string; steps: Array<{ stepId: string; status: string; decisions: Array<{ decision: string; code?: string; until?: string }> }> }
interface Notification { body: string; signature?: string; key?: string }

describe('example plugin quiet-hours (external, loaded by path)', () => {
  let t: TestServer;
  const graph = new GraphApiDouble();
  let receiver: Server;
  const notifications: Notification[] = [];
  // Quiet hours that have just begun in London: it is night there for two more hours, not in New York (5 hours behind).
  const bootedAt = new Date();
  const settings = { start: clockIn('Europe/London', bootedAt, -60), end: clockIn('Europe/London', bootedAt, 120), timeZones: { 44: 'Europe/London', 1: 'America/New_York' } };

  before(async () => {
    await graph.start();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        notifications.push({ body, signature: req.headers['x-flowgate-signature'] as string | undefined, key: req.headers['idempotency-key'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    Object.assign(process.env, {
      WHATSAPP_APP_SECRET: 'app-secret', WHATSAPP_VERIFY_TOKEN: 'verify', WHATSAPP_ACCESS_TOKEN: 'EAAtoken', WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      WHATSAPP_API_URL: graph.url, APPOINTMENT_HOOK_SECRET: HOOK_SECRET, QUIET_HOURS_NOTIFY_SECRET: NOTIFY_SECRET,
      QUIET_HOURS_NOTIFY_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/flowgate`,
    });
    t = await startTestServer({
      label: 'quiet_hours',
      plugins: ['flow', 'http', 'whatsapp', PLUGIN],
      pluginSettings: { 'quiet-hours': settings, whatsapp: { sendPolicies: ['quiet-hours.allowed@1'] } },
      config: { workflows: { dir: 'examples/quiet-hours/workflows', watch: false } },
    });
  });
  after(async () => {
    await t.stop();
    await graph.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    for (const variable of ['APPOINTMENT_HOOK_SECRET', 'QUIET_HOURS_NOTIFY_SECRET', 'QUIET_HOURS_NOTIFY_URL']) delete process.env[variable];
  });

  /** Posts a reminder to the shipped workflow's webhook, signed as the booking system would. */
  async function remind(phone: string, key: string): Promise<void> {
    const body = JSON.stringify({ phone, when: 'tomorrow at 10:00' });
    const signature = `sha256=${createHmac('sha256', HOOK_SECRET).update(body).digest('hex')}`;
    const accepted = await t.request('post', '/hooks/appointment-reminders', { rawBody: body, headers: { 'content-type': 'application/json', 'x-signature-256': signature, 'idempotency-key': key } });
    assert.equal(accepted.status, 202, accepted.text);
  }

  const reminderNotifications = () => notifications.filter((n) => (JSON.parse(n.body) as { data: { workflowId: string } }).data.workflowId === 'appointment-reminder');

  async function reminderRuns(status: string, count: number): Promise<ExecutionView[]> {
    return eventually(async () => {
      const list = await t.request<{ items: Array<{ id: string; status: string }> }>('get', '/api/executions?workflowId=appointment-reminder', { as: 'viewer' });
      const matching = list.body.items.filter((e) => e.status === status);
      if (matching.length !== count) return null;
      return Promise.all(matching.map(async (e) => (await t.request<ExecutionView>('get', `/api/executions/${e.id}`, { as: 'viewer' })).body));
    });
  }

  it('tells from a phone number whether it is night there, and until when', async () => {
    const london = await t.request<{ timeZone: string; quiet: boolean; resumesAt: string | null; localTime: string }>('get', `/api/quiet-hours/check?phone=${encodeURIComponent(LONDON)}`, { as: 'agent' });
    assert.equal(london.status, 200);
    assert.equal(london.body.timeZone, 'Europe/London');
    assert.equal(london.body.quiet, true);
    assert.equal(clockIn('Europe/London', new Date(london.body.resumesAt as string), 0), settings.end);
    const newYork = await t.request<{ timeZone: string; quiet: boolean; resumesAt: string | null }>('get', `/api/quiet-hours/check?phone=${encodeURIComponent(NEW_YORK)}`, { as: 'agent' });
    assert.deepEqual([newYork.body.timeZone, newYork.body.quiet, newYork.body.resumesAt], ['America/New_York', false, null]);
    const elsewhere = await t.request<{ timeZone: string }>('get', '/api/quiet-hours/check?phone=%2B33612345678', { as: 'agent' });
    assert.equal(elsewhere.body.timeZone, 'UTC', 'an unmapped prefix gets defaultTimeZone');
  });

  it('refuses bad input and callers without quiet-hours:read', async () => {
    const cases: Array<[string, string | undefined, number, string]> = [
      ['/api/quiet-hours/check', 'agent', 400, 'VALIDATION_FAILED'],
      ['/api/quiet-hours/check?phone=not-a-number', 'agent', 400, 'VALIDATION_FAILED'],
      [`/api/quiet-hours/check?phone=${encodeURIComponent(LONDON)}&zone=UTC`, 'agent', 400, 'VALIDATION_FAILED'],
      ['/api/quiet-hours/deferrals?limit=0', 'agent', 400, 'VALIDATION_FAILED'],
      ['/api/quiet-hours/deferrals?cursor=bm90LWEtY3Vyc29y', 'agent', 400, 'QUIET_HOURS_CURSOR_INVALID'],
      ['/api/quiet-hours/deferrals', 'viewer', 403, 'FORBIDDEN'],
      ['/api/quiet-hours/deferrals', undefined, 401, 'UNAUTHENTICATED'],
    ];
    for (const [path, as, status, code] of cases) {
      const response = await t.request<{ error: { code: string } }>('get', path, { as });
      assert.equal(response.status, status, `${path} as ${as}: ${response.text}`);
      assert.equal(response.body.error.code, code, path);
    }
  });

  it('also guards sends over the API when listed in the WhatsApp plugin\'s sendPolicies', async () => {
    const deferred = await t.request<{ deferredBy: { code: string; until: string } }>('post', '/api/messages', { as: 'agent', body: { to: LONDON, text: 'Your parcel has shipped' } });
    assert.equal(deferred.status, 202, deferred.text);
    assert.equal(deferred.body.deferredBy.code, 'QUIET_HOURS');
    const sent = await t.request('post', '/api/messages', { as: 'agent', body: { to: NEW_YORK, text: 'Your parcel has shipped' } });
    assert.equal(sent.status, 201, sent.text);
  });

  it('holds a London reminder until the morning, announces it and notifies the webhook; a New York one goes at once', async () => {
    const agent = await t.socket({ as: 'agent' });
    const viewer = await t.socket({ as: 'viewer' });
    assert.deepEqual((await agent.emitWithAck('subscribe', ['quiet-hours']) as { subscribed: string[] }).subscribed, ['quiet-hours']);
    assert.equal((await viewer.emitWithAck('subscribe', ['quiet-hours']) as { denied: unknown[] }).denied.length, 1);
    const announced = nextEvent<{ phone: string; timeZone: string; until: string; workflowId: string }>(agent, 'quiet-hours.deferred', 5_000, (e) => e.workflowId === 'appointment-reminder');

    await remind(LONDON, 'booking-1');
    await remind(NEW_YORK, 'booking-2');
    const [held] = await reminderRuns('waiting', 1);
    const decision = held?.steps[0]?.decisions.find((d) => d.decision === 'defer');
    assert.equal(decision?.code, 'QUIET_HOURS');
    await reminderRuns('succeeded', 1);
    assert.deepEqual(graph.sends.map((s) => s.body.to), [NEW_YORK, NEW_YORK], 'only New York was messaged, by the API and by the workflow');

    const event = await announced;
    assert.deepEqual([event.phone, event.timeZone, event.until], [LONDON, 'Europe/London', decision?.until]);
    const listed = await t.request<{ items: Array<{ phone: string; executionId: string; workflowId: string }> }>('get', '/api/quiet-hours/deferrals', { as: 'agent' });
    assert.deepEqual(listed.body.items.map((d) => [d.workflowId, d.phone]), [['appointment-reminder', LONDON], ['api', LONDON]]);
    assert.equal(listed.body.items[0]?.executionId, held?.id);

    const notification = await eventually(async () => reminderNotifications()[0]);
    const payload = JSON.parse(notification?.body ?? '{}') as { event: string; data: { phone: string; until: string } };
    assert.deepEqual([payload.event, payload.data.phone, payload.data.until], ['quiet-hours.deferred', LONDON, decision?.until]);
    assert.equal(notification?.signature, `sha256=${createHmac('sha256', NOTIFY_SECRET).update(notification?.body ?? '').digest('hex')}`);
    assert.ok(notification?.key, 'the step idempotency key lets the receiver drop a repeat');
  });

  it('sends the held reminder when quiet hours end, without a second deferral', async () => {
    t.server.get(EngineClock).advance(125 * 60_000);
    await t.server.get(WorkflowEngine).sweep();
    await reminderRuns('succeeded', 2);
    assert.deepEqual(graph.sends.map((s) => s.body.to), [NEW_YORK, NEW_YORK, LONDON]);
    const listed = await t.request<{ items: Array<{ workflowId: string }> }>('get', '/api/quiet-hours/deferrals', { as: 'agent' });
    assert.equal(listed.body.items.filter((d) => d.workflowId === 'appointment-reminder').length, 1);
    assert.equal(reminderNotifications().length, 1);
  });

  it('prunes deferral records past their retention with its Agenda job, paging through what is left', async () => {
    const deferrals = t.server.get<Model<Deferral>>(DeferralModel.token);
    const old = new Date(Date.now() - 40 * 86_400_000);
    await deferrals.create({ _id: 'old-deferral', phone: LONDON, timeZone: 'Europe/London', until: old, workflowId: 'w', executionId: 'e', stepId: 's', createdAt: old });
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor?: string } } = await t.request('get', `/api/quiet-hours/deferrals?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { as: 'agent' });
      ids.push(...page.body.items.map((d) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.equal(ids.length, 3);
    assert.equal(ids.at(-1), 'old-deferral', 'newest first, one page at a time');
    await t.server.get(Scheduler).now('quiet-hours.prune', {});
    await eventually(async () => {
      const all = await t.request<{ items: Array<{ id: string }> }>('get', '/api/quiet-hours/deferrals', { as: 'agent' });
      return all.body.items.length === 2 && !all.body.items.some((d) => d.id === 'old-deferral');
    });
  });

  it('stops boot on an unknown time zone or a malformed setting, naming the plugin', async () => {
    const boot = (settingsOverride: Record<string, unknown>) => startTestServer({ label: 'quiet_bad', plugins: [PLUGIN], pluginSettings: { 'quiet-hours': settingsOverride } });
    await assert.rejects(boot({ timeZones: { 44: 'Europe/Londn' } }), (error: CoreError) => error.code === 'PLUGIN_REGISTER_FAILED' && /quiet-hours/.test(error.message));
    await assert.rejects(boot({ start: '25:00' }), (error: CoreError) => error.code === 'PLUGIN_CONFIG_INVALID' && /pluginSettings\.quiet-hours\.start/.test(error.message));
  });
});
