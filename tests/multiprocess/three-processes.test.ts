/**
 * Three Flowgate processes on one database and one Redis: every inbound event runs once
 * wherever it lands, socket clients on one process see what another raised, a process killed
 * with SIGKILL mid-load leaves nothing unfinished, and Agenda jobs run once.
 *
 * MULTIPROCESS_WEBHOOKS sets how many STOP webhooks the first test posts (default 30, which
 * fits the suite's time on FerretDB; docs/operations.md gives the figures for 1,000).
 */
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { inboundText } from '../doubles/whatsapp-payloads.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/test-host.js';
import { inParallel, startCluster, type Cluster } from './cluster.js';

const WEBHOOKS = Number(process.env.MULTIPROCESS_WEBHOOKS ?? 1000);
const KILL_LOAD = Number(process.env.MULTIPROCESS_KILL_WEBHOOKS ?? 100);
/** Webhooks in flight at once, as Meta delivers them. */
const CONCURRENCY = 20;
const CONFIRMATION = /no longer receive marketing/;
/** How long a webhook update stays claimed by the process working on it (whatsapp's PROCESSING_CLAIM_MS). */
const UPDATE_CLAIM_MS = 30_000;
/** Three processes finished about 11 STOP flows a second here on FerretDB (1,000 in 89 s); a slower machine gets ten times that. */
const FINISH_WITHIN_MS = Math.max(300_000, (WEBHOOKS + KILL_LOAD) * 1_000);

interface Posted { phone: string; messageId: string; to: number; status: number | null }

let phoneSerial = 0;
const newPhone = () => `4478${String(process.pid).slice(-3).padStart(3, '0')}${String(phoneSerial++).padStart(6, '0')}`;

describe('several server processes on one database and Redis', function () {
  this.timeout(FINISH_WITHIN_MS + 120_000);
  let cluster: Cluster;
  let a: ServerProcess;
  let c: ServerProcess;

  before(async () => {
    cluster = await startCluster(3, {
      // Production-like timings rather than config/test.json's, which poll FerretDB several times
      // a second per process: three processes doing that on one connection each leave no room
      // for the work. Agenda picks new jobs up at once through Redis anyway.
      FLOWGATE__scheduler__processEveryMs: '2000',
      FLOWGATE__engine__leaseMs: '10000',
      FLOWGATE__engine__sweepEveryMs: '1000',
      // Webhook updates a killed process stored but never processed are swept up by the others.
      FLOWGATE__pluginSettings__whatsapp__webhook__sweepEveryMs: '3000',
    });
    [a, , c] = cluster.processes as [ServerProcess, ServerProcess, ServerProcess];
  });
  after(async () => { await cluster?.stop(); });

  /** Posts one STOP per phone, round-robin over the live processes; a refused or unreachable post is redelivered elsewhere, as Meta does. */
  async function postStops(count: number, live: () => ServerProcess[], onPosted: (done: number) => Promise<void> = async () => undefined): Promise<Posted[]> {
    const posted: Posted[] = [];
    await inParallel(Array.from({ length: count }, (_, i) => i), CONCURRENCY, async (i) => {
      const phone = newPhone();
      const { payload, id } = inboundText('STOP', { from: phone });
      for (let attempt = 0; ; attempt++) {
        const targets = live();
        const to = targets[(i + attempt) % targets.length] as ServerProcess;
        const status = await cluster.postWebhook(to, payload);
        if (status === 200 || attempt >= 5) {
          posted.push({ phone, messageId: id, to: cluster.processes.indexOf(to), status });
          break;
        }
      }
      await onPosted(posted.length);
    });
    return posted;
  }

  const stopExecutions = () => cluster.db.collection('executions').find({ workflowId: 'stop-keyword' }, { projection: { status: 1, eventId: 1, trail: 1, triggerJson: 1 } }).toArray();

  /** Waits until every posted STOP has a finished execution; returns how long that took. */
  async function allFinished(expected: number, startedAt: number, timeoutMs: number): Promise<number> {
    await eventually(async () => (await cluster.db.collection('executions').countDocuments({ workflowId: 'stop-keyword', status: { $in: ['succeeded', 'failed', 'cancelled'] } })) >= expected, timeoutMs, 500);
    return Date.now() - startedAt;
  }

  /**
   * Every phone: one succeeded execution, one consent change, one audit entry, one confirmation at
   * the Graph API. After a kill, a confirmation whose Graph API call was in flight when its process
   * died may be missing — never doubled: its outcome is unknown, so it is not sent again (the
   * documented at-most-once rule for sends), and its message says so.
   */
  async function assertExactlyOnce(phones: string[], afterKill = false): Promise<void> {
    const executions = await stopExecutions();
    const byPhone = new Map<string, number>();
    for (const execution of executions) {
      assert.equal(execution.status, 'succeeded', `execution ${String(execution._id)} ended ${String(execution.status)}`);
      const steps = (execution.trail as Array<{ stepId: string; status: string }>).map((s) => `${s.stepId}:${s.status}`);
      assert.deepEqual(steps, ['revoke:succeeded', 'audit:succeeded', 'confirm:succeeded'], 'each step once');
      const from = (JSON.parse(String(execution.triggerJson)) as { from: string }).from;
      byPhone.set(from, (byPhone.get(from) ?? 0) + 1);
    }
    for (const phone of phones) assert.equal(byPhone.get(phone), 1, `executions for ${phone}`);

    const changes = await cluster.db.collection('consentchanges').aggregate<{ _id: string; n: number }>([
      { $match: { phone: { $in: phones } } }, { $group: { _id: '$phone', n: { $sum: 1 } } },
    ]).toArray();
    assert.equal(changes.length, phones.length, 'a consent change for every phone');
    assert.ok(changes.every((c) => c.n === 1), `one consent change per phone: ${JSON.stringify(changes.filter((c) => c.n !== 1))}`);

    const audits = await cluster.db.collection('audit_entries').aggregate<{ _id: string; n: number }>([
      { $match: { action: 'consent.revoked' } }, { $group: { _id: '$resource.id', n: { $sum: 1 } } },
    ]).toArray();
    const changeIds = new Set((await cluster.db.collection('consentchanges').find({ phone: { $in: phones } }, { projection: { _id: 1 } }).toArray()).map((c) => String(c._id)));
    const audited = audits.filter((entry) => changeIds.has(entry._id));
    assert.equal(audited.length, phones.length, 'an audit entry for every consent change');
    assert.ok(audited.every((entry) => entry.n === 1), 'one audit entry per consent change');

    const replies = new Map<string, number>();
    for (const send of cluster.graph.sends) {
      if (!CONFIRMATION.test(JSON.stringify(send.body))) continue;
      const to = String(send.body.to).replace(/\D/g, '');
      replies.set(to, (replies.get(to) ?? 0) + 1);
    }
    let inFlightAtKill = 0;
    for (const phone of phones) {
      const sent = replies.get(phone) ?? 0;
      if (sent === 1) continue;
      assert.ok(afterKill && sent === 0, `confirmations sent to ${phone}: ${sent}`);
      const reply = await cluster.db.collection('whatsappmessages').findOne({ direction: 'outbound', phone });
      assert.ok(reply && ['sending', 'unknown'].includes(String(reply.status)), `the missing confirmation to ${phone} is ${String(reply?.status)}, not in flight`);
      inFlightAtKill++;
    }
    if (afterKill) console.log(`      ${inFlightAtKill} confirmation(s) had their Graph API call in flight at the kill: outcome unknown, not sent again`);
    assert.ok(inFlightAtKill <= 3, `${inFlightAtKill} confirmations in flight at one kill`);
  }

  it(`runs each of ${WEBHOOKS} STOP webhooks spread over three processes exactly once; a socket on one process sees what another raised`, async () => {
    const onA: Socket = await cluster.socket(a, ['consent', 'messages', 'executions']);
    const consentSeen = new Set<string>();
    const receivedSeen = new Set<string>();
    const finishedSeen = new Set<string>();
    onA.on('consent.changed', (event: { phone: string; state: string }) => { if (event.state === 'opted_out') consentSeen.add(event.phone); });
    onA.on('message.received', (event: { providerMessageId: string }) => receivedSeen.add(event.providerMessageId));
    onA.on('execution.finished', (event: { executionId: string; workflowId: string }) => { if (event.workflowId === 'stop-keyword') finishedSeen.add(event.executionId); });

    const startedAt = Date.now();
    const posted = await postStops(WEBHOOKS, () => cluster.processes);
    const acceptedIn = Date.now() - startedAt;
    assert.ok(posted.every((p) => p.status === 200), 'every webhook accepted');
    const completedIn = await allFinished(WEBHOOKS, startedAt, FINISH_WITHIN_MS);
    console.log(`      ${WEBHOOKS} webhooks over 3 processes: accepted in ${acceptedIn} ms, all flows finished in ${completedIn} ms (${(WEBHOOKS / (completedIn / 1000)).toFixed(1)} flows/s)`);

    await assertExactlyOnce(posted.map((p) => p.phone));
    // Webhooks posted to C are received, and their message.received raised, on C: the client on A sees them through Redis.
    const raisedOnC = posted.filter((p) => p.to === 2).map((p) => p.messageId);
    await eventually(async () => raisedOnC.every((id) => receivedSeen.has(id)) && consentSeen.size === WEBHOOKS && finishedSeen.size === WEBHOOKS, 10_000);
    assert.ok(raisedOnC.length > 0);
  });

  it('runs each occurrence of every Agenda job once: one-shot jobs, a schedule every process asked for, a schedule.cron workflow', async () => {
    const { processes, db, redis, keyPrefix } = cluster;
    // 150 one-shot jobs due at the same moment, saved through all three processes (each save tells every process over Redis).
    const keys = Array.from({ length: 150 }, (_, i) => `once-${i}`);
    const at = new Date(Date.now() + 3_000).toISOString();
    const saved = await Promise.all(processes.map((p, i) => cluster.request(p, 'post', '/api/job-counter/once', { keys: keys.filter((_, k) => k % processes.length === i), at })));
    assert.deepEqual(saved.map((r) => r.status), [201, 201, 201]);
    // One recurring schedule, asked for by every process at the same time, as each does for the schedules it needs at start.
    const recurring = await Promise.all(processes.map((p) => cluster.request(p, 'post', '/api/job-counter/every', { key: 'recurring', interval: '2 seconds' })));
    assert.deepEqual(recurring.map((r) => r.status), [201, 201, 201]);
    const workflow = { id: 'every-two-seconds', name: 'Tick', trigger: { type: 'schedule.cron@1', config: { every: '2 seconds' } }, steps: [{ id: 'log', action: 'flow.log@1', input: { message: 'tick {{trigger.scheduledFor}}' } }] };
    assert.equal((await cluster.request(a, 'post', '/api/workflows', workflow)).status, 201);

    const runsOf = async (key: string) => Object.values(await redis.hgetall(`${keyPrefix}job-counter:${key}`)).map(Number);
    const firesOf = async () => (await db.collection('executions').find({ workflowId: 'every-two-seconds' }).toArray())
      .map((e) => JSON.parse(String(e.triggerJson)) as { scheduledFor: string; firedAt: string })
      .map((t) => ({ scheduledFor: Date.parse(t.scheduledFor), firedAt: Date.parse(t.firedAt) }))
      .sort((x, y) => x.scheduledFor - y.scheduledFor);
    await eventually(async () => (await Promise.all(keys.map(runsOf))).every((runs) => runs.length > 0), 60_000, 500);
    const loadDoneAt = Date.now();
    // Runs come late on a loaded machine (seconds, see below): wait for enough of them rather than a fixed time.
    const afterLoad = (fire: { scheduledFor: number }) => fire.scheduledFor >= loadDoneAt + 2_000;
    await eventually(async () => (await firesOf()).filter(afterLoad).length >= 4 && (await runsOf('recurring')).length >= 3, 60_000, 500);
    assert.equal((await cluster.request(c, 'post', '/api/workflows/every-two-seconds/disable')).status, 200);

    for (const key of keys) assert.deepEqual(await runsOf(key), [1], `runs of ${key}`);
    assert.equal(await db.collection('agendaJobs').countDocuments({ name: 'job-counter.count', 'data.uniqueKey': 'recurring' }), 1, 'one recurring schedule');
    const occurrences = await runsOf('recurring');
    assert.ok(occurrences.every((runs) => runs === 1), `each occurrence once: ${JSON.stringify(occurrences)}`);

    // A fire submitted just before the disable may still be dispatched: read once the count settles.
    let seen = -1;
    const fires = await eventually(async () => {
      const found = await firesOf();
      if (found.length !== seen) { seen = found.length; return null; }
      return found;
    }, 20_000, 1_000);
    const times = JSON.stringify(fires.map((f) => new Date(f.scheduledFor).toISOString()));
    // One timetable across the three processes: every fire on a multiple of 2 s since the epoch,
    // each occurrence once, never two closer than the interval, whichever process ran it.
    assert.ok(fires.every((f) => f.scheduledFor % 2_000 === 0 && f.firedAt >= f.scheduledFor), `fires on the 2 s timetable: ${times}`);
    const gaps = fires.slice(1).map((f, i) => f.scheduledFor - (fires[i] as { scheduledFor: number }).scheduledFor);
    assert.ok(gaps.every((gap) => gap >= 2_000 && gap % 2_000 === 0), `fires at least 2 s apart, each once: ${times}`);
    // While the 150 one-shot jobs saturate the database's one connection per process, runs come
    // late (up to 13 s seen); one more than 15 s late fires only the latest time due (a skipped
    // time, never an extra fire). Once they are done, every time fires: exactly 2 s apart.
    const settled = fires.filter(afterLoad);
    assert.ok(settled.slice(1).every((f, i) => f.scheduledFor - (settled[i] as { scheduledFor: number }).scheduledFor === 2_000), `fires exactly 2 s apart after the load: ${times}`);
    const late = fires.map((f) => f.firedAt - f.scheduledFor).sort((x, y) => x - y);
    const skipped = gaps.reduce((n, gap) => n + gap / 2_000 - 1, 0);
    console.log(`      ${keys.length} one-shot jobs once each; recurring job ${occurrences.length} occurrences once each; cron workflow ${fires.length} fires on the 2 s timetable (${skipped} times skipped while the one-shot jobs ran, done at ${new Date(loadDoneAt).toISOString()}), ${late[0]}–${late.at(-1)} ms after their time`);
  });

  it('finishes the executions of a process killed with SIGKILL mid-load, each exactly once', async () => {
    const victim = cluster.processes[1] as ServerProcess;
    const victimPid = victim.child.pid as number;
    let killed = false;
    let leasedByVictim = -1;
    const startedAt = Date.now();
    const posted = await postStops(KILL_LOAD, () => cluster.processes.filter((p) => !(killed && p === victim)), async (done) => {
      if (killed || done < KILL_LOAD / 3) return;
      killed = true;
      // Killed while it runs executions (it took the first third of the load): the others must
      // take them over once their leases expire, and process the updates it stored.
      leasedByVictim = await eventually(async () => cluster.db.collection('executions').countDocuments({ status: 'running', 'lease.owner': { $regex: `:${victimPid}:` } }), 30_000, 100);
      await victim.kill('SIGKILL');
    });
    assert.ok(killed);
    assert.ok(posted.every((p) => p.status === 200), 'every webhook accepted by a live process');
    const total = WEBHOOKS + KILL_LOAD;
    const completedIn = await allFinished(total, startedAt, FINISH_WITHIN_MS);
    // An update the victim was processing when it died (its event raised, the update not yet
    // marked) stays claimed in Redis for the claim's 30 s; then a survivor's sweep processes it
    // again, which must change nothing (the exactly-once check below runs after that).
    const updates = cluster.db.collection('whatsappwebhookupdates');
    const leftByVictim = await updates.countDocuments({ state: 'stored' });
    const finishedAt = Date.now();
    await eventually(async () => (await updates.countDocuments({ state: 'stored' })) === 0, UPDATE_CLAIM_MS + 30_000, 1_000)
      .catch(async () => assert.fail(`stored webhook updates never processed: ${await updates.countDocuments({ state: 'stored' })}`));
    console.log(`      kill -9 after ${Math.round(KILL_LOAD / 3)} of ${KILL_LOAD} webhooks were posted; ${leasedByVictim} executions leased by the victim; all finished in ${completedIn} ms; ${leftByVictim} updates left claimed by the victim, all processed ${Date.now() - finishedAt} ms later`);
    assert.ok(leasedByVictim > 0, 'the victim held executions when it died');
    await assertExactlyOnce(posted.map((p) => p.phone), true);
  });
});
