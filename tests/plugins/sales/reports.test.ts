import assert from 'node:assert/strict';
import { parseCsv, startSalesServer, type SaleView, type SalesTestServer } from './harness.js';

interface Figure { currency: string; minorUnits: number; amount: number; amountDecimal: string; count: number }
interface Summary { granularity: string; timezone: string; totals: Figure[]; buckets: Array<Figure & { key: string; start: string; end: string }> }
interface Breakdown { by: string; rows: Array<Figure & { key: string | null }> }

/** mulberry32: a seeded generator, so a failing random set can be replayed from the printed seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The local calendar date in a zone, by a different road than the plugin's (a locale that prints ISO dates). */
const localDate = (at: string, timeZone: string) => new Date(at).toLocaleDateString('sv-SE', { timeZone });

/** ISO week of a YYYY-MM-DD date, by the textbook algorithm (Thursday of the week decides the year). */
function isoWeekKey(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - day + 3);
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function handSums(sales: SaleView[], keyOf: (sale: SaleView) => string | null): Array<[string | null, string, number, number]> {
  const sums = new Map<string, [string | null, string, number, number]>();
  for (const sale of sales) {
    const key = keyOf(sale);
    const id = JSON.stringify([key, sale.currency]);
    const entry = sums.get(id) ?? [key, sale.currency, 0, 0];
    entry[2] += sale.amount;
    entry[3] += 1;
    sums.set(id, entry);
  }
  return [...sums.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const rows = (figures: Array<Figure & { key: string | null }>) =>
  figures.map((f): [string | null, string, number, number] => [f.key, f.currency, f.amount, f.count]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('plugin sales: summary, breakdown and CSV export', () => {
  let t: SalesTestServer;
  before(async () => { t = await startSalesServer('sales_reports'); });
  after(async () => { await t.stop(); });

  const summary = async (query: string, as = 'analyst') => {
    const response = await t.request<Summary>('get', `/api/reports/sales/summary?${query}`, { as });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };

  it('summary and breakdown equal hand sums over a random set, per currency, without voided sales', async () => {
    const seed = Number(process.env.SALES_SEED ?? Date.now() % 100000);
    const next = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const start = Date.parse('2026-03-01T00:00:00Z');
    const span = Date.parse('2026-05-15T00:00:00Z') - start;
    const recorded: SaleView[] = [];
    for (let i = 0; i < 40; i++) {
      const campaignId = pick(['c1', 'c2', undefined]);
      const templateName = pick(['t1', undefined]);
      const sale = await t.sell({
        contactPhone: `+3361234${String(1000 + i)}`,
        amount: 1 + Math.floor(next() * 100_000),
        currency: pick(['EUR', 'JPY', 'KWD']),
        agentId: pick(['a1', 'a2', 'a3']),
        attribution: { workflowId: 'random-set', ...(campaignId ? { campaignId } : {}), ...(templateName ? { templateName } : {}) },
        soldAt: new Date(start + Math.floor(next() * span)).toISOString(),
      });
      recorded.push(sale);
    }
    for (const sale of recorded.splice(0, 5)) assert.equal((await t.request('delete', `/api/sales/${sale.id}`, { as: 'manager' })).status, 200);
    const message = `random set seed ${seed} (SALES_SEED=${seed} replays it)`;

    for (const [granularity, keyOf] of [
      ['day', (s: SaleView) => localDate(s.soldAt, 'Europe/Paris')],
      ['week', (s: SaleView) => isoWeekKey(localDate(s.soldAt, 'Europe/Paris'))],
      ['month', (s: SaleView) => localDate(s.soldAt, 'Europe/Paris').slice(0, 7)],
    ] as const) {
      const body = await summary(`workflowId=random-set&granularity=${granularity}&timezone=Europe/Paris`);
      assert.deepEqual(rows(body.buckets), handSums(recorded, keyOf), `${granularity}: ${message}`);
      assert.deepEqual(rows(body.totals.map((f) => ({ ...f, key: null }))), handSums(recorded, () => null), message);
    }
    const kolkata = await summary('workflowId=random-set&granularity=day&timezone=Asia/Kolkata');
    assert.deepEqual(rows(kolkata.buckets), handSums(recorded, (s) => localDate(s.soldAt, 'Asia/Kolkata')), message);

    for (const [by, keyOf] of [
      ['agent', (s: SaleView) => s.agentId],
      ['campaign', (s: SaleView) => s.attribution.campaignId ?? null],
      ['template', (s: SaleView) => s.attribution.templateName ?? null],
    ] as const) {
      const response = await t.request<Breakdown>('get', `/api/reports/sales/breakdown?workflowId=random-set&by=${by}`, { as: 'analyst' });
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(rows(response.body.rows), handSums(recorded, keyOf), `${by}: ${message}`);
    }
    const april = await t.request<Breakdown>('get', '/api/reports/sales/breakdown?workflowId=random-set&by=agent&from=2026-04-01T00:00:00Z&to=2026-05-01T00:00:00Z', { as: 'analyst' });
    const inApril = recorded.filter((s) => s.soldAt >= '2026-04-01T00:00:00.000Z' && s.soldAt < '2026-05-01T00:00:00.000Z');
    assert.deepEqual(rows(april.body.rows), handSums(inApril, (s) => s.agentId), message);
  });

  it('puts sales in the day, ISO week and month of the requested time zone', async () => {
    const at = async (soldAt: string, campaignId: string) => t.sell({ contactPhone: '+33600000001', amount: 100, currency: 'EUR', agentId: 'tz', attribution: { campaignId }, soldAt });
    const keys = async (campaignId: string, granularity: string, timezone: string) =>
      (await summary(`campaignId=${campaignId}&granularity=${granularity}&timezone=${encodeURIComponent(timezone)}`)).buckets.map((b) => [b.key, b.start, b.end]);

    // Sunday 22:30 UTC is already Monday in Paris (summer time began that morning).
    await at('2026-03-29T22:30:00Z', 'tz-week');
    assert.deepEqual(await keys('tz-week', 'week', 'UTC'), [['2026-W13', '2026-03-23T00:00:00.000Z', '2026-03-30T00:00:00.000Z']]);
    assert.deepEqual(await keys('tz-week', 'week', 'Europe/Paris'), [['2026-W14', '2026-03-29T22:00:00.000Z', '2026-04-05T22:00:00.000Z']]);

    // ISO week-numbering years: 1 January 2027 is in 2026's week 53, 30 December 2024 in 2025's week 1.
    await at('2027-01-01T10:00:00Z', 'tz-isoyear');
    await at('2024-12-30T10:00:00Z', 'tz-isoyear');
    assert.deepEqual((await keys('tz-isoyear', 'week', 'UTC')).map((k) => k[0]), ['2025-W01', '2026-W53']);

    // The last half hour of January in UTC is February in Paris; 03:00 UTC on 1 February is still January in New York.
    await at('2026-01-31T23:30:00Z', 'tz-month');
    await at('2026-02-01T03:00:00Z', 'tz-month');
    assert.deepEqual(await keys('tz-month', 'month', 'UTC'), [['2026-01', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'], ['2026-02', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']]);
    assert.deepEqual((await keys('tz-month', 'month', 'Europe/Paris')).map((k) => k[0]), ['2026-02']);
    assert.deepEqual((await keys('tz-month', 'month', 'America/New_York')).map((k) => k[0]), ['2026-01']);

    // The day summer time ends lasts 25 hours; Kathmandu is 5 h 45 min ahead.
    await at('2026-10-25T12:00:00Z', 'tz-dst');
    assert.deepEqual(await keys('tz-dst', 'day', 'Europe/Paris'), [['2026-10-25', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']]);
    await at('2026-06-01T18:20:00Z', 'tz-npt');
    assert.deepEqual(await keys('tz-npt', 'day', 'Asia/Kathmandu'), [['2026-06-02', '2026-06-01T18:15:00.000Z', '2026-06-02T18:15:00.000Z']]);
  });

  it('refuses bad report queries with a 4xx', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['summary', 'timezone=Mars/Olympus', 400, 'SALES_TIMEZONE_INVALID'],
      ['summary', 'granularity=year', 400, 'VALIDATION_FAILED'],
      ['summary', 'from=yesterday', 400, 'VALIDATION_FAILED'],
      ['summary', 'currency=euro', 400, 'VALIDATION_FAILED'],
      ['breakdown', '', 400, 'VALIDATION_FAILED'],
      ['breakdown', 'by=colour', 400, 'VALIDATION_FAILED'],
      ['export', 'limit=5', 400, 'VALIDATION_FAILED'],
    ];
    for (const [route, query, status, code] of cases) {
      const response = await t.request<{ error: { code: string } }>('get', `/api/reports/sales/${route}?${query}`, { as: 'analyst' });
      assert.equal(response.status, status, `${route}?${query}: ${response.text}`);
      assert.equal(response.body.error.code, code, `${route}?${query}`);
    }
    for (const route of ['summary', 'breakdown?by=agent', 'export']) {
      assert.equal((await t.request('get', `/api/reports/sales/${route}`, { as: 'viewer' })).status, 403, route);
      assert.equal((await t.request('get', `/api/reports/sales/${route}`)).status, 401, route);
    }
  });

  it('exports CSV that parses back to the sales, with formula cells neutralised and RFC 4180 quoting', async () => {
    const notes = ['=HYPERLINK("http://evil.example","click")', '+1+1', '-2+3', '@SUM(A1:A9)', '\tstarts with a tab', '\rstarts with CR',
      'plain, with a comma', 'she said "hi"', 'two\r\nlines', 'ordinary'];
    const made: SaleView[] = [];
    for (const [i, note] of notes.entries()) {
      made.push(await t.sell({ contactPhone: '+33600000002', amount: 1000 + i, currency: i % 2 ? 'JPY' : 'EUR', agentId: 'csv', notes: note, attribution: { campaignId: 'csv', templateName: i === 0 ? "=cmd|' /C calc'!A0" : 'plain' } }));
    }
    const response = await t.request('get', '/api/reports/sales/export?campaignId=csv', { as: 'analyst' });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(response.headers.get('transfer-encoding'), 'chunked', 'streamed, not buffered');
    assert.ok(response.text.endsWith('\r\n') && response.text.split('\r\n').length >= notes.length + 1, 'CRLF record ends');
    const [header, ...records] = parseCsv(response.text);
    assert.deepEqual(header, ['id', 'sold_at', 'contact_phone', 'agent_id', 'currency', 'amount_minor', 'amount', 'status', 'campaign_id', 'template_name', 'workflow_id', 'execution_id', 'notes', 'recorded_by', 'voided_at']);
    assert.equal(records.length, notes.length);
    const column = (name: string) => (header as string[]).indexOf(name);
    for (const [i, record] of records.entries()) {
      const sale = made[i] as SaleView;
      assert.equal(record[column('id')], sale.id);
      assert.equal(record[column('amount_minor')], String(sale.amount));
      assert.equal(record[column('amount')], sale.amountDecimal);
      const note = notes[i] as string;
      assert.equal(record[column('notes')], /^[=+\-@\t\r]/.test(note) ? `'${note}` : note, `note ${JSON.stringify(note)}`);
      for (const cell of record) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `cell ${JSON.stringify(cell)} could run as a formula`);
    }
    assert.equal(records[0]?.[column('template_name')], "'=cmd|' /C calc'!A0");
    assert.equal(records[1]?.[column('amount')], '1001', 'JPY has no minor unit');
  });
});
