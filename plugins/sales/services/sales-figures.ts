/**
 * Summary and breakdown figures, computed by streaming the matching sales once and adding them
 * up per (bucket, currency). Amounts in different currencies are never added together.
 *
 * Why not rollups or `$group`: measured on FerretDB v1 (docs/sales.md), `$group` returns a count
 * of 0 for `{$sum: 1}` and `{$count: {}}` and grows quadratically with the number of groups, and
 * only `_id` lookups use an index, so every filtered read scans the collection anyway. Streaming
 * the projected sales costs one scan, honours any filter, the row-level rule and any time zone
 * exactly, and needs memory only for the buckets. Rollups per UTC day could not answer in a
 * zone whose days do not start at a UTC midnight; the analytics plugin keeps hour/day rollups
 * of the same `sale.recorded` events for dashboards over long periods.
 */
import { inject, injectable } from '../../../core/index.js';
import { formatMinor, minorUnits } from '../currencies.js';
import type { Sale } from '../models/sale.js';
import { PeriodBucketer, type Granularity } from '../periods.js';
import type { BreakdownDimension, BreakdownView, SummaryView } from '../schemas.js';
import { SalesLedger, type SaleFilter } from './sales-ledger.js';

const FIGURE_READ = { projection: { soldAt: 1, currency: 1, amount: 1, agentId: 1, attribution: 1 }, ordered: false } as const;

interface Tally { currency: string; amount: number; count: number }

function figure(tally: Tally) {
  const digits = minorUnits(tally.currency) ?? 0;
  return { currency: tally.currency, minorUnits: digits, amount: tally.amount, amountDecimal: formatMinor(tally.amount, digits), count: tally.count };
}

function add<K>(tallies: Map<string, Tally & K>, key: string, sale: Pick<Sale, 'currency' | 'amount'>, extra: K): void {
  const tally = tallies.get(key) ?? { currency: sale.currency, amount: 0, count: 0, ...extra };
  tally.amount += sale.amount;
  tally.count += 1;
  tallies.set(key, tally);
}

const byCurrency = (a: Tally, b: Tally) => a.currency.localeCompare(b.currency);

const DIMENSION: Record<BreakdownDimension, (sale: Sale) => string | undefined> = {
  agent: (sale) => sale.agentId,
  campaign: (sale) => sale.attribution?.campaignId,
  template: (sale) => sale.attribution?.templateName,
};

@injectable()
export class SalesFigures {
  constructor(@inject(SalesLedger) private readonly ledger: SalesLedger) {}

  /** Recorded sales of `filter` per day, ISO week or month in `timeZone`, and per currency. */
  async summary(filter: SaleFilter, granularity: Granularity, timeZone: string): Promise<SummaryView> {
    const bucketer = new PeriodBucketer(granularity, timeZone);
    const buckets = new Map<string, Tally & { key: string; start: Date; end: Date }>();
    const totals = new Map<string, Tally>();
    for await (const sale of this.ledger.stream({ ...filter, status: 'recorded' }, FIGURE_READ)) {
      const bucket = bucketer.bucketOf(sale.soldAt);
      add(buckets, `${bucket.key}|${sale.currency}`, sale, { key: bucket.key, start: bucket.start, end: bucket.end });
      add(totals, sale.currency, sale, {});
    }
    return {
      granularity,
      timezone: timeZone,
      ...(filter.from ? { from: filter.from.toISOString() } : {}),
      ...(filter.to ? { to: filter.to.toISOString() } : {}),
      totals: [...totals.values()].sort(byCurrency).map(figure),
      buckets: [...buckets.values()]
        .sort((a, b) => a.start.getTime() - b.start.getTime() || byCurrency(a, b))
        .map((b) => ({ key: b.key, start: b.start.toISOString(), end: b.end.toISOString(), ...figure(b) })),
    };
  }

  /** Recorded sales of `filter` per agent, campaign or template, and per currency; largest first. */
  async breakdown(filter: SaleFilter, by: BreakdownDimension): Promise<BreakdownView> {
    const rows = new Map<string, Tally & { key: string | null }>();
    for await (const sale of this.ledger.stream({ ...filter, status: 'recorded' }, FIGURE_READ)) {
      const key = DIMENSION[by](sale) ?? null;
      add(rows, JSON.stringify([key, sale.currency]), sale, { key });
    }
    return {
      by,
      ...(filter.from ? { from: filter.from.toISOString() } : {}),
      ...(filter.to ? { to: filter.to.toISOString() } : {}),
      rows: [...rows.values()]
        .sort((a, b) => byCurrency(a, b) || b.amount - a.amount || String(a.key).localeCompare(String(b.key)))
        .map((row) => ({ key: row.key, ...figure(row) })),
    };
  }
}
