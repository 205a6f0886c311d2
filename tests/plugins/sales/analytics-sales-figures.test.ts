import assert from 'node:assert/strict';
import { Types, type Model } from 'mongoose';
import { SaleModel, type Sale } from '../../../plugins/sales/models/sale.js';
import type { TestServer } from '../../helpers/test-host.js';
import { get, settled, startAnalytics } from '../analytics/harness.js';

interface SalesFigures { sales: { count: number; byCurrency: Array<{ currency: string; count: number; amount: number }> } }

const DAY = 86_400_000;
const utcDate = (at: number) => new Date(at).toISOString().slice(0, 10);

describe('plugin sales: sales figures in analytics per period, after amendments, voids and retried requests', function () {
  // Rollup reads and flushes wait on FerretDB, which slows down several times on a busy machine.
  this.timeout(90_000);
  let t: TestServer;
  before(async () => { t = await startAnalytics('sales-analytics', { plugins: ['http', 'sales'] }); });
  after(async () => { await t.stop(); });

  const sell = async (body: Record<string, unknown>) => {
    const created = await t.request<{ id: string }>('post', '/api/sales', { as: 'manager', body });
    assert.equal(created.status, 201, created.text);
    return created.body.id;
  };
  const salesOn = async (day: number) => (await get<SalesFigures>(t, `/api/analytics/overview?from=${utcDate(day)}&to=${utcDate(day + DAY)}`)).sales;

  it('count a sale amended or voided later once, on the day it was sold, as the sales reports do', async () => {
    const today = Date.parse(`${utcDate(Date.now())}T00:00:00Z`);
    const soldDay = today - 3 * DAY;
    const soldAt = new Date(soldDay + 12 * 3_600_000).toISOString();
    const amended = await sell({ contactPhone: '+33612345001', amount: 1000, currency: 'EUR', agentId: 'ann', soldAt });
    const refunded = await sell({ contactPhone: '+33612345002', amount: 500, currency: 'EUR', agentId: 'ann', soldAt });
    // The amount was typed wrong; the other sale is refunded. Both days later (today).
    assert.equal((await t.request('put', `/api/sales/${amended}`, { as: 'manager', body: { amount: 1200 } })).status, 200);
    assert.equal((await t.request('delete', `/api/sales/${refunded}?reason=refund`, { as: 'manager' })).status, 200);
    await settled(t);

    const report = await t.request<{ totals: Array<{ currency: string; amount: number; count: number }> }>('get', `/api/reports/sales/summary?from=${utcDate(soldDay)}T00:00:00Z&to=${utcDate(soldDay + DAY)}T00:00:00Z`, { as: 'manager' });
    assert.deepEqual(report.body.totals.map((f) => [f.currency, f.count, f.amount]), [['EUR', 1, 1200]]);
    assert.deepEqual(await salesOn(soldDay), { count: 1, byCurrency: [{ currency: 'EUR', count: 1, amount: 1200 }] }, 'the day sold: the amended sale once, at its new amount');
    assert.deepEqual(await salesOn(today), { count: 0, byCurrency: [] }, 'the day of the changes: no sale, no negative one');
  });

  it('count a sale stored by a request that died before reporting it when the request is retried, once', async () => {
    const soldDay = Date.parse(`${utcDate(Date.now())}T00:00:00Z`) - 5 * DAY;
    const soldAt = new Date(soldDay + 9 * 3_600_000);
    // What a process killed inside POST /api/sales leaves: the sale stored, its fact never reported.
    const sales = t.server.get<Model<Sale>>(SaleModel.token);
    const _id = new Types.ObjectId();
    await sales.create({
      _id, contactPhone: '33612345003', amount: 2500, currency: 'USD', agentId: 'test-manager', attribution: {}, status: 'recorded', soldAt,
      recordedBy: 'test-manager', idempotencyKey: 'api:order-5521-paid', revision: 1, createdAt: soldAt, updatedAt: soldAt,
    });
    const body = { contactPhone: '+33612345003', amount: 2500, currency: 'USD', soldAt: soldAt.toISOString(), idempotencyKey: 'order-5521-paid' };
    for (let attempt = 0; attempt < 2; attempt++) {
      const retried = await t.request<{ id: string }>('post', '/api/sales', { as: 'manager', body });
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.body.id, String(_id));
    }
    await settled(t);
    assert.deepEqual(await salesOn(soldDay), { count: 1, byCurrency: [{ currency: 'USD', count: 1, amount: 2500 }] });
  });
});
