/**
 * Sales reports benchmark. Run with services: `node dist/scripts/with-services.js -- node dist/bench/sales.js`.
 * Generates BENCH_SALES sales (default 20,000) over a year straight into the collection, then
 * times what the report routes do (median of BENCH_SALES_RUNS, default 3):
 *   - the summary (by day, in Europe/Paris) and the breakdown (by agent) streamed over the sales,
 *     for everyone and for one agent (the row-level rule's filter);
 *   - the CSV export to a sink, with the heap growth it caused;
 *   - for comparison, what per-day rollups would cost to read back (366 documents with 96
 *     quarter-hour slots each, fetched by `_id`), and FerretDB's `$group` by currency.
 */
import { Writable } from 'node:stream';
import { Types } from 'mongoose';
import { MongoConnection } from '../core/index.js';
import { SalesFigures } from '../plugins/sales/services/sales-figures.js';
import { SalesCsvExport } from '../plugins/sales/services/csv-export.js';
import { bootInProcess, median, printTable } from './lib.js';

const total = Number(process.env.BENCH_SALES ?? 20_000);
const runs = Number(process.env.BENCH_SALES_RUNS ?? 3);
const DAY = 86_400_000;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return median(times);
}

async function main(): Promise<void> {
  const server = await bootInProcess(`bench_sales_${Date.now()}`, { plugins: ['http', 'sales'] });
  try {
    const db = server.get(MongoConnection).connection.db;
    if (!db) throw new Error('no database');
    const sales = db.collection('salessales');
    const end = Date.now();
    const currencies = ['EUR', 'USD', 'JPY'];
    const inserting = performance.now();
    for (let i = 0; i < total; i += 1000) {
      await sales.insertMany(Array.from({ length: Math.min(1000, total - i) }, (_, k) => {
        const n = i + k;
        const at = new Date(end - Math.floor(Math.random() * 365 * DAY));
        return {
          _id: new Types.ObjectId(), contactPhone: `3361234${String(n).padStart(5, '0')}`, amount: 100 + (n % 10_000), currency: currencies[n % 3], agentId: `agent-${n % 20}`,
          attribution: { campaignId: `c${n % 7}`, templateName: 'order_update' }, status: n % 25 ? 'recorded' : 'voided', soldAt: at, recordedBy: 'bench',
          idempotencyKey: `bench:${n}`, revision: 1, createdAt: at, updatedAt: at,
        };
      }));
    }
    const insertMs = performance.now() - inserting;
    const figures = server.get(SalesFigures);
    const year = { from: new Date(end - 366 * DAY), to: new Date(end + 1) };
    const rows: Array<Record<string, string | number>> = [];
    rows.push({ measure: `insert ${total} sales (generated, 1,000 a batch)`, 'median ms': insertMs });
    rows.push({ measure: 'summary: a year by day in Europe/Paris, all agents', 'median ms': await timed(() => figures.summary(year, 'day', 'Europe/Paris')) });
    rows.push({ measure: 'summary: a year by ISO week, one agent', 'median ms': await timed(() => figures.summary({ ...year, agentId: 'agent-3' }, 'week', 'Europe/Paris')) });
    rows.push({ measure: 'breakdown: a year by agent', 'median ms': await timed(() => figures.breakdown(year, 'agent')) });
    rows.push({ measure: 'summary: one month by day, all agents', 'median ms': await timed(() => figures.summary({ from: new Date(end - 30 * DAY), to: new Date(end + 1) }, 'day', 'UTC')) });

    const exporter = server.get(SalesCsvExport);
    let bytes = 0;
    let heapPeak = 0;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        setImmediate(done);
      },
    });
    const exporting = performance.now();
    await exporter.write(sink, {});
    rows.push({ measure: `CSV export of ${total} sales (${(bytes / 1e6).toFixed(1)} MB)`, 'median ms': performance.now() - exporting });
    rows.push({ measure: 'CSV export: peak heap growth (MB)', 'median ms': (heapPeak - heapBefore) / 1e6 });

    const rollups = db.collection('bench_sales_rollups');
    const slots = Object.fromEntries(Array.from({ length: 96 }, (_, q) => [String(q), { amount: q, count: 1 }]));
    const ids = Array.from({ length: 366 }, (_, d) => `EUR:${d}`);
    await rollups.insertMany(ids.map((_id) => ({ _id, slots })) as never[]);
    rows.push({ measure: 'rollups instead: read 366 day documents by _id ($in)', 'median ms': await timed(() => rollups.find({ _id: { $in: ids } } as never).toArray()) });
    const grouped = await sales.aggregate([{ $match: { status: 'recorded' } }, { $group: { _id: '$currency', amount: { $sum: '$amount' }, count: { $sum: 1 } } }]).toArray();
    rows.push({ measure: `$group by currency (count it returns: ${String(grouped[0]?.count)})`, 'median ms': await timed(() => sales.aggregate([{ $match: { status: 'recorded' } }, { $group: { _id: '$currency', amount: { $sum: '$amount' }, count: { $sum: 1 } } }]).toArray()) });
    printTable(`Sales reports over ${total} sales in a year (FerretDB v1 SQLite unless MONGODB_URI says otherwise)`, rows);
  } finally {
    await server.stop();
  }
}

await main();
