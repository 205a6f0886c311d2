import assert from 'node:assert/strict';
import type { TestServer } from '../../helpers/test-host.js';
import { get, ingest, settled, startAnalytics } from './harness.js';

interface Series { period: { from: string; to: string; exactDayBoundaries: boolean }; buckets: Array<{ key: string; start: string; label: string; hours: number; sent: number }>; totals: { sent: number } }

const sent = (id: string, occurredAt: string) => ({ id, type: 'message.sent', occurredAt, dimensions: { phoneNumberId: 'tz' } });
const daily = (series: Series) => Object.fromEntries(series.buckets.map((b) => [b.key, b.sent]));

describe('plugin analytics: time zones and DST at bucket boundaries', function () {
  this.timeout(90_000);
  let t: TestServer;
  before(async () => {
    t = await startAnalytics('an-tz');
    await ingest(t, [
      // Paris, spring forward on Sunday 29 March 2026 at 01:00 UTC (02:00 CET → 03:00 CEST).
      sent('p1', '2026-03-28T22:59:59Z'), // 23:59:59 on the 28th
      sent('p2', '2026-03-28T23:00:00Z'), // 00:00 on the 29th
      sent('p3', '2026-03-29T01:30:00Z'), // 03:30 CEST, just after the gap
      sent('p4', '2026-03-29T21:59:00Z'), // 23:59 CEST on the 29th
      sent('p5', '2026-03-29T22:00:00Z'), // 00:00 on the 30th
      // Paris, fall back on Sunday 25 October 2026 at 01:00 UTC (03:00 CEST → 02:00 CET).
      sent('o1', '2026-10-24T21:59:00Z'), // 23:59 CEST on the 24th
      sent('o2', '2026-10-24T22:00:00Z'), // 00:00 CEST on the 25th
      sent('o3', '2026-10-25T00:30:00Z'), // 02:30 CEST, the first 02:30
      sent('o4', '2026-10-25T01:30:00Z'), // 02:30 CET, the second 02:30
      sent('o5', '2026-10-25T22:59:00Z'), // 23:59 CET on the 25th
      sent('o6', '2026-10-25T23:00:00Z'), // 00:00 on the 26th
      // Kolkata (UTC+05:30): local midnight of 29 March is 18:30 UTC on the 28th.
      sent('k1', '2026-03-28T18:10:00Z'), // 23:40 IST on the 28th
      sent('k2', '2026-03-28T18:45:00Z'), // 00:15 IST on the 29th: in the UTC hour that starts on the 28th
      sent('k3', '2026-03-28T19:05:00Z'), // 00:35 IST on the 29th
    ]);
    await settled(t);
  });
  after(async () => { await t.stop(); });

  it('Europe/Paris, last Sunday of March: the day has 23 hours and events fall on their local day', async () => {
    const series = await get<Series>(t, '/api/analytics/messages?from=2026-03-28&to=2026-03-31&tz=Europe/Paris&phoneNumberId=tz');
    assert.deepEqual(series.buckets.map((b) => [b.key, b.start, b.hours]), [
      ['2026-03-28', '2026-03-27T23:00:00.000Z', 24], ['2026-03-29', '2026-03-28T23:00:00.000Z', 23], ['2026-03-30', '2026-03-29T22:00:00.000Z', 24],
    ]);
    // k1..k3 are in the 28th's last UTC hours: k1 and k2 before 23:00 UTC, k3 too (19:05 UTC = 20:05 CET).
    assert.deepEqual(daily(series), { '2026-03-28': 1 + 3, '2026-03-29': 3, '2026-03-30': 1 });
    assert.equal(series.period.exactDayBoundaries, true);
  });

  it('Europe/Paris, the spring-forward night hour by hour: no 02:00 bucket', async () => {
    const series = await get<Series>(t, '/api/analytics/messages?from=2026-03-29&to=2026-03-30&tz=Europe/Paris&interval=hour&phoneNumberId=tz');
    assert.equal(series.buckets.length, 23);
    assert.deepEqual(series.buckets.slice(0, 3).map((b) => b.label), ['2026-03-29T00:00', '2026-03-29T01:00', '2026-03-29T03:00']);
    assert.equal(series.buckets.find((b) => b.label === '2026-03-29T03:00')?.sent, 1);
  });

  it('Europe/Paris, last Sunday of October: the day has 25 hours, both 02:30s count on it', async () => {
    const series = await get<Series>(t, '/api/analytics/messages?from=2026-10-24&to=2026-10-27&tz=Europe/Paris&phoneNumberId=tz');
    assert.deepEqual(series.buckets.map((b) => [b.key, b.hours]), [['2026-10-24', 24], ['2026-10-25', 25], ['2026-10-26', 24]]);
    assert.deepEqual(daily(series), { '2026-10-24': 1, '2026-10-25': 4, '2026-10-26': 1 });
    const hourly = await get<Series>(t, '/api/analytics/messages?from=2026-10-25&to=2026-10-26&tz=Europe/Paris&interval=hour&phoneNumberId=tz');
    assert.equal(hourly.buckets.length, 25);
    assert.deepEqual(hourly.buckets.filter((b) => b.label === '2026-10-25T02:00').map((b) => b.sent), [1, 1]);
  });

  it('the same events read in UTC fall on UTC days, from day buckets and hour buckets alike', async () => {
    const series = await get<Series>(t, '/api/analytics/messages?from=2026-10-24&to=2026-10-27&tz=UTC&phoneNumberId=tz');
    assert.deepEqual(daily(series), { '2026-10-24': 2, '2026-10-25': 4, '2026-10-26': 0 });
    const hourly = await get<Series>(t, '/api/analytics/messages?from=2026-10-24&to=2026-10-27&tz=UTC&interval=hour&phoneNumberId=tz');
    assert.equal(hourly.totals.sent, series.totals.sent);
    const overview = await get<{ messages: { sent: number } }>(t, '/api/analytics/overview?from=2026-10-24&to=2026-10-27&tz=UTC');
    assert.equal(overview.messages.sent, 6);
  });

  it('Asia/Kolkata: days start at the first whole UTC hour on the local date, and the answer says boundaries are rounded', async () => {
    const series = await get<Series>(t, '/api/analytics/messages?from=2026-03-28&to=2026-03-30&tz=Asia/Kolkata&phoneNumberId=tz');
    assert.equal(series.period.exactDayBoundaries, false);
    // 29 March IST begins with the UTC hour 19:00 (00:30 IST); the hour 18:00–19:00 UTC starts at 23:30 IST on the 28th.
    assert.equal(series.buckets[1]?.start, '2026-03-28T19:00:00.000Z');
    assert.equal(daily(series)['2026-03-28'], 2); // k1, and k2 (00:15 IST) rounded back to the 28th
    assert.equal(daily(series)['2026-03-29'], 1 + 3); // k3, then p1..p3 (p4 and p5 are past 03:29 IST on the 30th)
    const hourly = await get<Series>(t, '/api/analytics/messages?from=2026-03-28T18:00:00Z&to=2026-03-28T20:00:00Z&tz=Asia/Kolkata&interval=hour&phoneNumberId=tz');
    assert.deepEqual(hourly.buckets.map((b) => [b.label, b.sent]), [['2026-03-28T23:30', 2], ['2026-03-29T00:30', 1]]);
  });

  it('a period given as instants is rounded down to whole hours', async () => {
    const series = await get<Series>(t, '/api/analytics/messages?from=2026-03-28T23:30:00Z&to=2026-03-29T01:45:00Z&interval=hour&phoneNumberId=tz');
    assert.equal(series.period.from, '2026-03-28T23:00:00.000Z');
    assert.equal(series.period.to, '2026-03-29T01:00:00.000Z');
    assert.equal(series.totals.sent, 1);
  });
});
