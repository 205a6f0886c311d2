import assert from 'node:assert/strict';
import { startSalesServer, type SaleView, type SalesTestServer } from './harness.js';

type ErrorBody = { error: { code: string; message: string } };

describe('plugin sales: recording, amending and voiding sales over HTTP', () => {
  let t: SalesTestServer;
  before(async () => { t = await startSalesServer('sales_routes'); });
  after(async () => { await t.stop(); });

  it('records a sale in minor units with its attribution, reads it back and emits sale.recorded', async () => {
    const created = await t.request<SaleView>('post', '/api/sales', {
      as: 'agent',
      body: { contactPhone: '+33 6 12 34 56 78', amount: 1250, currency: 'EUR', attribution: { campaignId: 'spring', templateName: 'promo_1' }, notes: 'two boxes' },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.contactPhone, '33612345678');
    assert.equal(created.body.agentId, 'test-agent');
    assert.equal(created.body.amountDecimal, '12.50');
    assert.equal(created.body.minorUnits, 2);
    assert.equal(created.body.status, 'recorded');
    const read = await t.request<SaleView>('get', `/api/sales/${created.body.id}`, { as: 'agent' });
    assert.deepEqual(read.body, created.body);
    const event = t.analytics.find((e) => e.id === `sale.recorded:${created.body.id}:1`);
    assert.ok(event, 'sale.recorded was emitted');
    assert.equal(event.type, 'sale.recorded');
    assert.equal(event.value, 1250);
    assert.deepEqual(event.dimensions, { agentId: 'test-agent', currency: 'EUR', campaignId: 'spring', templateName: 'promo_1' });
    const lead = await t.request<{ status: string; ownerAgentId: string }>('get', '/api/sales/leads/33612345678', { as: 'agent' });
    assert.equal(lead.body.status, 'won', JSON.stringify(lead.body));
    assert.equal(lead.body.ownerAgentId, 'test-agent');
  });

  it('knows each currency\'s minor units: JPY has none, KWD three; a wrong claim is refused', async () => {
    const yen = await t.sell({ contactPhone: '819012345678', amount: 5000, currency: 'JPY', agentId: 'a-yen' });
    assert.equal(yen.amountDecimal, '5000');
    const dinar = await t.sell({ contactPhone: '96550123456', amount: 12345, currency: 'KWD', minorUnits: 3, agentId: 'a-kwd' });
    assert.equal(dinar.amountDecimal, '12.345');
    const wrong = await t.request<ErrorBody>('post', '/api/sales', { as: 'agent', body: { contactPhone: '819012345678', amount: 5000, currency: 'JPY', minorUnits: 2 } });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.error.code, 'SALES_MINOR_UNITS_MISMATCH');
  });

  it('refuses bad input with a 4xx and records nothing', async () => {
    const before = t.analytics.length;
    const base = { contactPhone: '+447700900123', amount: 999, currency: 'GBP' };
    const cases: Array<[string, unknown, number, string]> = [
      ['unknown currency', { ...base, currency: 'XYZ' }, 422, 'SALES_CURRENCY_INVALID'],
      ['currency without minor unit (gold)', { ...base, currency: 'XAU' }, 422, 'SALES_CURRENCY_INVALID'],
      ['lower-case currency', { ...base, currency: 'gbp' }, 400, 'VALIDATION_FAILED'],
      ['negative amount', { ...base, amount: -5 }, 400, 'VALIDATION_FAILED'],
      ['zero amount', { ...base, amount: 0 }, 400, 'VALIDATION_FAILED'],
      ['float amount', { ...base, amount: 9.99 }, 400, 'VALIDATION_FAILED'],
      ['amount as a string', { ...base, amount: '999' }, 400, 'VALIDATION_FAILED'],
      ['too large an amount', { ...base, amount: 1e13 }, 400, 'VALIDATION_FAILED'],
      ['phone that is not one', { ...base, contactPhone: 'call me' }, 400, 'VALIDATION_FAILED'],
      ['phone too long for E.164', { ...base, contactPhone: '+1234567890123456' }, 422, 'SALES_PHONE_INVALID'],
      ['unknown field', { ...base, discount: 10 }, 400, 'VALIDATION_FAILED'],
      ['unknown attribution field', { ...base, attribution: { coupon: 'x' } }, 400, 'VALIDATION_FAILED'],
      ['missing currency', { contactPhone: base.contactPhone, amount: 1 }, 400, 'VALIDATION_FAILED'],
      ['bad date', { ...base, soldAt: 'yesterday' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [name, body, status, code] of cases) {
      const response = await t.request<ErrorBody>('post', '/api/sales', { as: 'agent', body });
      assert.equal(response.status, status, `${name}: ${response.text}`);
      assert.equal(response.body.error.code, code, name);
    }
    const malformed = await t.request<ErrorBody>('post', '/api/sales', { as: 'agent', rawBody: '{"amount": 1,', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(t.analytics.length, before, 'no event for a refused sale');
    const badId = await t.request<ErrorBody>('get', '/api/sales/not-an-id', { as: 'manager' });
    assert.equal(badId.status, 400);
    const missing = await t.request<ErrorBody>('get', '/api/sales/0123456789abcdef01234567', { as: 'manager' });
    assert.equal(missing.status, 404);
    const badFilter = await t.request<ErrorBody>('get', '/api/sales?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', { as: 'manager' });
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.error.code, 'SALES_PERIOD_INVALID');
    const badQuery = await t.request<ErrorBody>('get', '/api/sales?colour=red', { as: 'manager' });
    assert.equal(badQuery.status, 400);
  });

  it('records once per idempotency key', async () => {
    const body = { contactPhone: '+14155550101', amount: 4200, currency: 'USD', idempotencyKey: 'checkout-0001' };
    const first = await t.request<SaleView>('post', '/api/sales', { as: 'agent', body });
    const again = await t.request<SaleView>('post', '/api/sales', { as: 'agent', body: { ...body, amount: 1 } });
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.amount, 4200);
    // A repeat reports the first sale again, under the same fact id: analytics counts it once.
    assert.deepEqual(new Set(t.analytics.filter((e) => e.id.startsWith(`sale.recorded:${first.body.id}:`)).map((e) => e.id)), new Set([`sale.recorded:${first.body.id}:1`]));
    const managers = await t.request<SaleView>('post', '/api/sales', { as: 'manager', body: { ...body, agentId: 'other-agent', idempotencyKey: 'checkout-0002' } });
    assert.equal(managers.status, 201);
    const stolen = await t.request<ErrorBody>('post', '/api/sales', { as: 'agent', body: { ...body, idempotencyKey: 'checkout-0002' } });
    assert.equal(stolen.status, 409, 'another agent\'s sale is not handed back');
    assert.equal(stolen.body.error.code, 'CONFLICT');
  });

  it('enforces roles: agents record, managers void, analysts and viewers do not touch sales', async () => {
    const sale = await t.sell({ contactPhone: '+14155550102', amount: 100, currency: 'USD', agentId: 'test-agent' });
    const body = { contactPhone: '+14155550102', amount: 100, currency: 'USD' };
    for (const role of ['analyst', 'viewer']) {
      assert.equal((await t.request('post', '/api/sales', { as: role, body })).status, 403, role);
      assert.equal((await t.request('get', '/api/sales', { as: role })).status, 403, role);
    }
    assert.equal((await t.request('post', '/api/sales', { body })).status, 401);
    const agentVoid = await t.request<ErrorBody>('delete', `/api/sales/${sale.id}`, { as: 'agent' });
    assert.equal(agentVoid.status, 403);
    const forOther = await t.request<ErrorBody>('post', '/api/sales', { as: 'agent', body: { ...body, agentId: 'someone-else' } });
    assert.equal(forOther.status, 403);
    assert.equal(forOther.body.error.code, 'SALES_AGENT_FORBIDDEN');
  });

  it('shows agents their own sales only (row-level), managers everyone\'s', async () => {
    const mine = await t.sell({ contactPhone: '+4915112345678', amount: 700, currency: 'EUR', agentId: 'test-agent', attribution: { campaignId: 'rowlevel' } });
    const theirs = await t.sell({ contactPhone: '+4915112345679', amount: 800, currency: 'EUR', agentId: 'other-agent', attribution: { campaignId: 'rowlevel' } });
    const agentList = await t.request<{ items: SaleView[] }>('get', '/api/sales?campaignId=rowlevel', { as: 'agent' });
    assert.deepEqual(agentList.body.items.map((s) => s.id), [mine.id]);
    const managerList = await t.request<{ items: SaleView[] }>('get', '/api/sales?campaignId=rowlevel', { as: 'manager' });
    assert.deepEqual(managerList.body.items.map((s) => s.id), [theirs.id, mine.id]);
    assert.equal((await t.request('get', `/api/sales/${theirs.id}`, { as: 'agent' })).status, 404);
    assert.equal((await t.request('put', `/api/sales/${theirs.id}`, { as: 'agent', body: { notes: 'mine now' } })).status, 404);
    const asked = await t.request<ErrorBody>('get', '/api/sales?agentId=other-agent', { as: 'agent' });
    assert.equal(asked.status, 403);
    const breakdown = await t.request<{ rows: Array<{ key: string; amount: number }> }>('get', '/api/reports/sales/breakdown?by=agent&campaignId=rowlevel', { as: 'agent' });
    assert.deepEqual(breakdown.body.rows.map((r) => [r.key, r.amount]), [['test-agent', 700]]);
    const analyst = await t.request<{ rows: Array<{ key: string; amount: number }> }>('get', '/api/reports/sales/breakdown?by=agent&campaignId=rowlevel', { as: 'analyst' });
    assert.deepEqual(analyst.body.rows.map((r) => [r.key, r.amount]), [['other-agent', 800], ['test-agent', 700]]);
    const csv = await t.request('get', '/api/reports/sales/export?campaignId=rowlevel', { as: 'agent' });
    assert.ok(csv.text.includes(mine.id) && !csv.text.includes(theirs.id));
  });

  it('pages with a cursor', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await t.sell({ contactPhone: '+14155550103', amount: 10 + i, currency: 'USD', agentId: 'pager', attribution: { campaignId: 'paging' } })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.request<{ items: SaleView[]; nextCursor?: string }>('get', `/api/sales?campaignId=paging&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: 'manager' });
      seen.push(...page.body.items.map((s) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...made].reverse());
  });

  it('amends a sale: a new revision re-reports its figures, notes alone do not', async () => {
    const sale = await t.sell({ contactPhone: '+14155550104', amount: 5000, currency: 'USD', agentId: 'test-agent' });
    const notes = await t.request<SaleView>('put', `/api/sales/${sale.id}`, { as: 'agent', body: { notes: 'paid by card' } });
    assert.equal(notes.status, 200, notes.text);
    assert.equal(notes.body.revision, 1);
    const amended = await t.request<SaleView>('put', `/api/sales/${sale.id}`, { as: 'agent', body: { amount: 4500 } });
    assert.equal(amended.body.revision, 2);
    assert.equal(amended.body.notes, 'paid by card');
    const events = t.analytics.filter((e) => e.id.includes(sale.id)).map((e) => [e.id, e.value]);
    assert.deepEqual(events, [[`sale.recorded:${sale.id}:1`, 5000], [`sale.voided:${sale.id}:1`, 5000], [`sale.recorded:${sale.id}:2`, 4500]]);
    const toOther = await t.request<ErrorBody>('put', `/api/sales/${sale.id}`, { as: 'agent', body: { agentId: 'someone-else' } });
    assert.equal(toOther.status, 403);
    const empty = await t.request<ErrorBody>('put', `/api/sales/${sale.id}`, { as: 'agent', body: {} });
    assert.equal(empty.status, 400);
    const badCurrency = await t.request<ErrorBody>('put', `/api/sales/${sale.id}`, { as: 'agent', body: { currency: 'ABC' } });
    assert.equal(badCurrency.status, 422);
  });

  it('voids a sale with DELETE, keeping it; voiding twice changes nothing; a voided sale cannot be amended', async () => {
    const sale = await t.sell({ contactPhone: '+14155550105', amount: 2500, currency: 'USD', agentId: 'test-agent', attribution: { campaignId: 'voids' } });
    const voided = await t.request<SaleView>('delete', `/api/sales/${sale.id}?reason=${encodeURIComponent('returned')}`, { as: 'manager' });
    assert.equal(voided.status, 200, voided.text);
    assert.equal(voided.body.status, 'voided');
    assert.ok(voided.body.voidedAt);
    const again = await t.request<SaleView>('delete', `/api/sales/${sale.id}`, { as: 'manager' });
    assert.equal(again.status, 200);
    assert.equal(again.body.voidedAt, voided.body.voidedAt);
    assert.equal(t.analytics.filter((e) => e.id === `sale.voided:${sale.id}:1`).length, 1);
    const kept = await t.request<SaleView>('get', `/api/sales/${sale.id}`, { as: 'manager' });
    assert.equal(kept.body.status, 'voided');
    const amend = await t.request<ErrorBody>('put', `/api/sales/${sale.id}`, { as: 'manager', body: { amount: 1 } });
    assert.equal(amend.status, 409);
    assert.equal(amend.body.error.code, 'SALES_SALE_VOIDED');
    const voidedOnly = await t.request<{ items: SaleView[] }>('get', '/api/sales?campaignId=voids&status=voided', { as: 'manager' });
    assert.deepEqual(voidedOnly.body.items.map((s) => s.id), [sale.id]);
    const summary = await t.request<{ totals: unknown[] }>('get', '/api/reports/sales/summary?campaignId=voids', { as: 'analyst' });
    assert.deepEqual(summary.body.totals, [], 'a voided sale stops counting');
  });

  it('keeps leads: agents take unowned leads, only managers assign them to others', async () => {
    const created = await t.request<{ phone: string; ownerAgentId: string; status: string; tags: string[] }>('put', '/api/sales/leads/+34600111222', { as: 'agent', body: { name: 'Lucía', tags: ['vip'], status: 'contacted' } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.body.phone, created.body.ownerAgentId, created.body.status, created.body.tags], ['34600111222', 'test-agent', 'contacted', ['vip']]);
    const give = await t.request<ErrorBody>('put', '/api/sales/leads/34600111222', { as: 'agent', body: { ownerAgentId: 'other-agent' } });
    assert.equal(give.status, 403);
    const assigned = await t.request<{ ownerAgentId: string; name: string }>('put', '/api/sales/leads/34600111222', { as: 'manager', body: { ownerAgentId: 'other-agent' } });
    assert.equal(assigned.status, 200);
    assert.equal(assigned.body.name, 'Lucía');
    assert.equal((await t.request('get', '/api/sales/leads/34600111222', { as: 'agent' })).status, 404);
    assert.equal((await t.request('put', '/api/sales/leads/34600111222', { as: 'agent', body: { status: 'lost' } })).status, 404);
    assert.equal((await t.request('put', '/api/sales/leads/34600111222', { as: 'manager', body: { status: 'unknown' } })).status, 400);
    assert.equal((await t.request('put', '/api/sales/leads/34600111222', { as: 'analyst', body: { status: 'lost' } })).status, 403);
  });
});
