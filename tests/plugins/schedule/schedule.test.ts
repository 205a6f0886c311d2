/**
 * schedule.cron@1 across processes: every fire is an occurrence of the schedule's own timetable
 * (an interval's multiples since the epoch, a cron expression's times), each fired once, none
 * skipped, whichever process Agenda hands the job to; after every process was down for a
 * moment, the times missed fire late; after a longer downtime, only the latest of them fires.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { LATE_FIRE_GRACE_MS } from '../../../plugins/schedule/jobs/fire.js';
import { eventually, startTestServer, STATIC_AUTH_PLUGIN, uniqueDatabaseUri, type TestServer } from '../../helpers/test-host.js';

const PLUGINS = [STATIC_AUTH_PLUGIN, 'flow', 'schedule'];

interface Fire { scheduledFor: number; firedAt: number }

/** A client of one server by its URL, as a manager (writes) or viewer (reads). */
async function call<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: 'Bearer role:manager', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

let serial = 0;
async function createScheduled(baseUrl: string, every: string): Promise<string> {
  const id = `tick-${Date.now().toString(36)}-${serial++}`;
  const created = await call(baseUrl, 'POST', '/api/workflows', {
    id, name: `every ${every}`, trigger: { type: 'schedule.cron@1', config: { every } },
    steps: [{ id: 'log', action: 'flow.log@1', input: { message: 'tick {{trigger.scheduledFor}}' } }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return id;
}

/** The fires of a workflow as its executions show them, oldest occurrence first. */
async function firesOf(baseUrl: string, workflowId: string): Promise<Fire[]> {
  const list = await call<{ items: Array<{ id: string }> }>(baseUrl, 'GET', `/api/executions?workflowId=${workflowId}&limit=200`);
  assert.equal(list.status, 200);
  const fires = await Promise.all(list.body.items.map(async ({ id }) => {
    const { body } = await call<{ trigger: { scheduledFor: string; firedAt: string } }>(baseUrl, 'GET', `/api/executions/${id}`);
    return { scheduledFor: Date.parse(body.trigger.scheduledFor), firedAt: Date.parse(body.trigger.firedAt) };
  }));
  return fires.sort((x, y) => x.scheduledFor - y.scheduledFor);
}

/** Every fire on the timetable of `stepMs` (multiples since the epoch), each once, none skipped between the first and the last. */
function assertOnTimetable(fires: Fire[], stepMs: number, what: string): void {
  const times = fires.map((f) => new Date(f.scheduledFor).toISOString());
  for (const fire of fires) {
    assert.equal(fire.scheduledFor % stepMs, 0, `${what}: ${new Date(fire.scheduledFor).toISOString()} is not on the timetable: ${JSON.stringify(times)}`);
    assert.ok(fire.firedAt >= fire.scheduledFor, `${what}: fired before its time: ${JSON.stringify(fire)}`);
  }
  const gaps = fires.slice(1).map((fire, i) => fire.scheduledFor - (fires[i] as Fire).scheduledFor);
  assert.ok(gaps.every((gap) => gap === stepMs), `${what}: occurrences ${stepMs} ms apart, each once: ${JSON.stringify(times)}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

describe('schedule.cron@1 on several processes', function () {
  this.timeout(120_000);

  describe('two server processes on one database and Redis', () => {
    const mongodbUri = uniqueDatabaseUri('schedule');
    const env = { FLOWGATE__redis__keyPrefix: `sched${randomBytes(3).toString('hex')}:` };
    const processes: ServerProcess[] = [];

    before(async () => {
      // The first creates the indexes, as a deployment's first process does.
      processes.push(await startServerProcess({ mongodbUri, plugins: PLUGINS, env, startTimeoutMs: 60_000 }));
      processes.push(await startServerProcess({ mongodbUri, plugins: PLUGINS, env, startTimeoutMs: 60_000 }));
    });
    after(async () => { await Promise.all(processes.map((p) => p.kill('SIGKILL'))); });

    it('fires an interval and a cron schedule once per occurrence, exactly on their timetables', async () => {
      const [a, b] = processes as [ServerProcess, ServerProcess];
      const interval = await createScheduled(a.url, '2 seconds');
      const cron = await createScheduled(b.url, '*/3 * * * * *');
      // Fires come late on a loaded machine: wait for enough of them (bounded) rather than a fixed time.
      await eventually(async () => (await firesOf(a.url, interval)).length >= 5 && (await firesOf(a.url, cron)).length >= 3, 45_000, 500);
      for (const id of [interval, cron]) assert.equal((await call(b.url, 'POST', `/api/workflows/${id}/disable`)).status, 200);
      // A fire submitted just before the disable still becomes an execution: wait until the count settles.
      let seen = -1;
      const [intervalFires, cronFires] = await eventually(async () => {
        const both = await Promise.all([firesOf(a.url, interval), firesOf(a.url, cron)]);
        const count = both[0].length + both[1].length;
        if (count !== seen) { seen = count; return null; }
        return both;
      }, 20_000, 1_000);

      assertOnTimetable(intervalFires, 2_000, 'every 2 seconds');
      assertOnTimetable(cronFires, 3_000, '*/3 * * * * *');
      const late = intervalFires.map((f) => f.firedAt - f.scheduledFor).sort((x, y) => x - y);
      console.log(`      2 s interval: ${intervalFires.length} fires, fired ${late[0]}–${late.at(-1)} ms after their time; 3 s cron: ${cronFires.length} fires`);
    });
  });

  describe('after every process was down', () => {
    const mongodbUri = uniqueDatabaseUri('schedule-down');
    const config = { redis: { keyPrefix: `scheddown${randomBytes(3).toString('hex')}:` } };
    const start = () => startTestServer({ label: 'schedule-down', plugins: ['flow', 'schedule'], mongodbUri, config });
    const hosts: TestServer[] = [];
    after(async () => { await Promise.all(hosts.map((h) => h.stop().catch(() => undefined))); });

    /** Stops every host; returns the last time on a `step` timetable before they stopped. */
    async function stopAll(step: number): Promise<number> {
      await Promise.all(hosts.splice(0).map((h) => h.stop()));
      return Math.floor(Date.now() / step) * step;
    }

    it('fires the times missed by a short stop each once, and only the latest after a long one', async () => {
      const STEP = 2_000;
      hosts.push(await start(), await start());
      const id = await createScheduled((hosts[0] as TestServer).url, '2 seconds');
      await eventually(async () => (await firesOf((hosts[0] as TestServer).url, id)).length > 0, 15_000, 200);

      // Down for less than the grace: the times missed are late, not lost.
      await stopAll(STEP);
      await sleep(5_000);
      let restartedAt = Date.now();
      hosts.push(await start());
      let url = (hosts[0] as TestServer).url;
      const afterShortStop = await eventually(async () => {
        const fires = await firesOf(url, id);
        return fires.filter((f) => f.firedAt >= restartedAt).length >= 2 ? fires : null;
      }, 15_000, 200);
      assertOnTimetable(afterShortStop, STEP, 'over a 5 s stop');

      // Down for longer than the grace: one catch-up fire, for the latest time due, then the timetable.
      const lastBeforeDown = await stopAll(STEP);
      await sleep(lastBeforeDown + STEP + LATE_FIRE_GRACE_MS + 1_000 - Date.now());
      restartedAt = Date.now();
      hosts.push(await start());
      url = (hosts[0] as TestServer).url;
      const afterLongStop = await eventually(async () => {
        const fires = (await firesOf(url, id)).filter((f) => f.firedAt >= restartedAt);
        return fires.length >= 2 ? fires : null;
      }, 15_000, 200);
      const catchUp = afterLongStop[0] as Fire;
      assert.ok(catchUp.scheduledFor >= restartedAt - STEP, `the catch-up is the latest time due, ${new Date(catchUp.scheduledFor).toISOString()}`);
      const missed = (await firesOf(url, id)).filter((f) => f.scheduledFor > lastBeforeDown && f.scheduledFor < catchUp.scheduledFor);
      assert.deepEqual(missed, [], 'no fire for the earlier missed times');
      assertOnTimetable(afterLongStop, STEP, 'after the long stop');
    });
  });
});
