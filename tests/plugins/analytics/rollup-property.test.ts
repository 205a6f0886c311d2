/**
 * The property the rollups promise: whatever events arrive — in any order, repeated, split across
 * two server processes ingesting at the same time — the figures read from the rollups equal what
 * counting the stored raw events gives, in any time zone.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { eventually, STATIC_AUTH_PLUGIN, uniqueDatabaseUri } from '../../helpers/test-host.js';
import { FAST_ANALYTICS, type IngestResult, type TestEvent } from './harness.js';

const DAY_MS = 86_400_000;
const TYPES = ['message.sent', 'message.delivered', 'message.read', 'sale.recorded'];
const TEMPLATES = ['welcome', 'promo', 'reminder'];
const ZONES = ['UTC', 'Europe/Paris', 'Asia/Kolkata', 'America/New_York', 'Australia/Adelaide'];

/** A pool of distinct events (one window per run), then a stream that picks from it with repeats. */
const streamArbitrary = fc.record({
  pool: fc.array(fc.record({
    type: fc.constantFrom(...TYPES),
    template: fc.option(fc.constantFrom(...TEMPLATES), { nil: undefined }),
    // Hours from the window start: days 1 to 7, so every zone's local days hold them all.
    hour: fc.integer({ min: 24, max: 8 * 24 - 1 }),
    second: fc.integer({ min: 0, max: 3_599 }),
    value: fc.integer({ min: 1, max: 100_000 }),
  }), { minLength: 1, maxLength: 80 }),
  picks: fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 1, maxLength: 160 }),
  batchSize: fc.integer({ min: 1, max: 60 }),
  zone: fc.constantFrom(...ZONES),
});

describe('plugin analytics: rollup totals equal raw counts (property test, two processes)', function () {
  this.timeout(420_000);
  let processes: ServerProcess[] = [];
  before(async () => {
    const mongodbUri = uniqueDatabaseUri('an-property');
    const env = { FLOWGATE__pluginSettings: JSON.stringify({ analytics: FAST_ANALYTICS }), FLOWGATE__redis__keyPrefix: `an-property-${Date.now()}:` };
    processes = await Promise.all([0, 1].map(() => startServerProcess({ mongodbUri, plugins: [STATIC_AUTH_PLUGIN, 'analytics'], env })));
  });
  after(async () => { await Promise.all(processes.map((p) => p.kill('SIGTERM'))); });

  const call = async <T>(process: ServerProcess, method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${process.url}${path}`, {
      method, headers: { authorization: `Bearer role:${method === 'POST' ? 'manager' : 'analyst'}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return await response.json() as T;
  };

  it('holds for random streams with duplicates, ingested concurrently by both processes', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(streamArbitrary, async ({ pool, picks, batchSize, zone }) => {
      run++;
      // Each run (shrinking runs too) gets its own 10 days, far enough back that hundreds of runs stay in the past.
      const windowStart = Date.UTC(1990, 0, 1) + run * 10 * DAY_MS;
      const events: TestEvent[] = pool.map((e, i) => ({
        id: `run${run}-${i}`, type: e.type, occurredAt: new Date(windowStart + e.hour * 3_600_000 + e.second * 1_000).toISOString(),
        dimensions: { ...(e.template ? { templateName: e.template } : {}), ...(e.type === 'sale.recorded' ? { currency: 'EUR' } : {}) },
        ...(e.type === 'sale.recorded' ? { value: e.value } : {}),
      }));
      // Each pick sends an event (often one already sent) to one process or the other.
      const perProcess: TestEvent[][] = [[], []];
      for (const [index, toSecond] of picks) perProcess[toSecond ? 1 : 0]?.push(events[index % events.length] as TestEvent);
      await Promise.all(perProcess.map(async (list, p) => {
        for (let i = 0; i < list.length; i += batchSize) await call<IngestResult>(processes[p] as ServerProcess, 'POST', '/api/analytics/events', { events: list.slice(i, i + batchSize) });
      }));

      const sent = new Map(picks.map(([index]) => [index % events.length, events[index % events.length] as TestEvent]));
      const expected = new Map<string, { count: number; sum: number }>();
      for (const event of sent.values()) {
        const entry = expected.get(event.type) ?? { count: 0, sum: 0 };
        entry.count++;
        entry.sum += event.value ?? 0;
        expected.set(event.type, entry);
      }
      const from = new Date(windowStart).toISOString().slice(0, 10);
      const to = new Date(windowStart + 10 * DAY_MS).toISOString().slice(0, 10);
      const period = `from=${from}&to=${to}&tz=${encodeURIComponent(zone)}`;

      // Raw events, as stored: each distinct event once.
      const raw: string[] = [];
      let cursor: string | undefined;
      do {
        const page: { items: Array<{ id: string }>; nextCursor?: string } = await call(processes[0] as ServerProcess, 'GET', `/api/analytics/events?from=${new Date(windowStart).toISOString()}&to=${new Date(windowStart + 10 * DAY_MS).toISOString()}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
        raw.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(raw.sort(), [...sent.values()].map((e) => e.id).sort());

      // Rollups, read from either process once the buffers have been flushed.
      const byType = () => call<{ byType: Array<{ type: string; count: number; sum: number }> }>(processes[run % 2] as ServerProcess, 'GET', `/api/analytics/overview?${period}`);
      const want = [...expected].map(([type, t]) => ({ type, count: t.count, sum: t.sum })).sort((a, b) => (a.type < b.type ? -1 : 1));
      // Generous: on a loaded machine a flush tick can stall for seconds; a count that never comes still fails.
      await eventually(async () => JSON.stringify((await byType()).byType) === JSON.stringify(want), 60_000, 100).catch(async (error: Error) => {
        assert.deepEqual((await byType()).byType, want, error.message);
      });
      // Still equal after further flushes: nothing is counted twice late.
      await new Promise((r) => setTimeout(r, 250));
      assert.deepEqual((await byType()).byType, want);

      // The same counts through a series by local day and the per-template breakdown.
      const series = await call<{ buckets: Array<{ sent: number }> }>(processes[0] as ServerProcess, 'GET', `/api/analytics/messages?${period}`);
      assert.equal(series.buckets.reduce((n, b) => n + b.sent, 0), expected.get('message.sent')?.count ?? 0);
      const templates = await call<{ items: Array<{ templateName: string; sent: number }> }>(processes[1] as ServerProcess, 'GET', `/api/analytics/templates?${period}`);
      for (const name of TEMPLATES) {
        const count = [...sent.values()].filter((e) => e.type === 'message.sent' && e.dimensions?.templateName === name).length;
        assert.equal(templates.items.find((i) => i.templateName === name)?.sent ?? 0, count, name);
      }
    }), { numRuns: 10 });
  });
});
