/**
 * The figures the analytics routes answer, each computed from the rollups (never from raw
 * events): message series and rates, consent, workflows, templates, the funnel and the overview.
 */
import { inject, injectable } from '../../../core/index.js';
import { AnalyticsConfigToken, type AnalyticsConfig } from '../config.js';
import { RollupReader, seriesBuckets, type BucketInfo, type Cell, type Interval, type Period } from './rollup-reader.js';

export const MESSAGE_FACTS = { sent: 'message.sent', delivered: 'message.delivered', read: 'message.read', failed: 'message.failed', received: 'message.received', replied: 'message.replied' } as const;
export const CONSENT_FACTS = { optedIn: 'consent.opted_in', optedOut: 'consent.opted_out' } as const;
export const EXECUTION_FINISHED = 'execution.finished';
export const SALE_RECORDED = 'sale.recorded';
/** Reported by the sales plugin when a sale is voided, or replaced by an edited revision: it takes the sale back out. */
export const SALE_VOIDED = 'sale.voided';
export const CONTACT_CREATED = 'contact.created';

type Filter = Record<string, string>;

/** `part / whole` to four decimals, or null when there is nothing to divide by. */
export const ratio = (part: number, whole: number): number | null => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);

/** Counts per named fact type for each bucket, zero-filled. */
function countsByBucket<N extends string>(buckets: BucketInfo[], cells: Cell[], facts: Record<N, string>): Array<BucketInfo & Record<N, number>> {
  const byKey = new Map(buckets.map((b) => [b.key, { ...b, ...Object.fromEntries(Object.keys(facts).map((name) => [name, 0])) } as BucketInfo & Record<N, number>]));
  const nameOf = new Map(Object.entries(facts).map(([name, type]) => [type as string, name as N]));
  for (const cell of cells) {
    const row = byKey.get(cell.bucket);
    const name = nameOf.get(cell.type);
    if (row && name) (row as Record<string, number>)[name] = ((row as Record<string, number>)[name] ?? 0) + cell.count;
  }
  return [...byKey.values()];
}

function totalsOf<N extends string>(cells: Cell[], facts: Record<N, string>): Record<N, number> {
  const totals = Object.fromEntries(Object.keys(facts).map((name) => [name, 0])) as Record<N, number>;
  const nameOf = new Map(Object.entries(facts).map(([name, type]) => [type as string, name as N]));
  for (const cell of cells) {
    const name = nameOf.get(cell.type);
    if (name) totals[name] += cell.count;
  }
  return totals;
}

/** Cells grouped by one dimension's value, then counted per named fact. */
function breakdown<N extends string>(cells: Cell[], dimension: string, facts: Record<N, string>): Array<{ value: string } & Record<N, number>> {
  const byValue = new Map<string, Cell[]>();
  for (const cell of cells) {
    const value = cell.group[dimension] ?? '';
    if (value === '') continue;
    byValue.set(value, [...(byValue.get(value) ?? []), cell]);
  }
  return [...byValue].map(([value, list]) => ({ value, ...totalsOf(list, facts) })).sort((a, b) => (a.value < b.value ? -1 : 1));
}

/** Sales per currency net of voids: a voided (or edited) sale's earlier report is taken back out. */
function salesByCurrency(cells: Cell[]): Array<{ currency: string; count: number; amount: number }> {
  const byCurrency = new Map<string, { currency: string; count: number; amount: number }>();
  for (const cell of cells) {
    const sign = cell.type === SALE_RECORDED ? 1 : cell.type === SALE_VOIDED ? -1 : 0;
    if (sign === 0) continue;
    const currency = cell.group.currency || 'unknown';
    const entry = byCurrency.get(currency) ?? { currency, count: 0, amount: 0 };
    entry.count += sign * cell.count;
    entry.amount += sign * cell.sum;
    byCurrency.set(currency, entry);
  }
  return [...byCurrency.values()].filter((e) => e.count !== 0 || e.amount !== 0).sort((a, b) => (a.currency < b.currency ? -1 : 1));
}

@injectable()
export class Figures {
  constructor(
    @inject(RollupReader) private readonly reader: RollupReader,
    @inject(AnalyticsConfigToken) private readonly config: AnalyticsConfig,
  ) {}

  async overview(period: Period) {
    // One read of every type: the groups carry what the sales and workflow figures break down by.
    const cells = await this.reader.read({ types: [], period, interval: 'total', groupBy: ['currency', 'status'] });
    const messages = totalsOf(cells, MESSAGE_FACTS);
    const consent = totalsOf(cells, CONSENT_FACTS);
    const byType = new Map<string, { type: string; count: number; sum: number }>();
    for (const cell of cells) {
      const entry = byType.get(cell.type) ?? { type: cell.type, count: 0, sum: 0 };
      entry.count += cell.count;
      entry.sum += cell.sum;
      byType.set(cell.type, entry);
    }
    const executions = cells.filter((c) => c.type === EXECUTION_FINISHED);
    const sales = salesByCurrency(cells);
    return {
      messages,
      rates: { delivery: ratio(messages.delivered, messages.sent), read: ratio(messages.read, messages.delivered), reply: ratio(messages.replied, messages.sent) },
      consent,
      contacts: { created: byType.get(CONTACT_CREATED)?.count ?? 0 },
      workflows: {
        executions: executions.reduce((n, c) => n + c.count, 0),
        failed: executions.filter((c) => c.group.status === 'failed').reduce((n, c) => n + c.count, 0),
      },
      sales: { count: sales.reduce((n, s) => n + s.count, 0), byCurrency: sales },
      byType: [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : 1)),
    };
  }

  async messages(period: Period, interval: Interval, filter: Filter) {
    const cells = await this.reader.read({ types: Object.values(MESSAGE_FACTS), period, interval, filter });
    return { buckets: countsByBucket(seriesBuckets(period, interval), cells, MESSAGE_FACTS), totals: totalsOf(cells, MESSAGE_FACTS) };
  }

  async deliveryRates(period: Period, interval: Interval, filter: Filter) {
    const facts = { sent: MESSAGE_FACTS.sent, delivered: MESSAGE_FACTS.delivered, read: MESSAGE_FACTS.read, failed: MESSAGE_FACTS.failed };
    const cells = await this.reader.read({ types: Object.values(facts), period, interval, filter });
    const withRates = <T extends { sent: number; delivered: number; read: number; failed: number }>(row: T) => ({
      ...row, deliveryRate: ratio(row.delivered, row.sent), readRate: ratio(row.read, row.delivered), failureRate: ratio(row.failed, row.sent),
    });
    return { buckets: countsByBucket(seriesBuckets(period, interval), cells, facts).map(withRates), totals: withRates(totalsOf(cells, facts)) };
  }

  async consent(period: Period, interval: Interval, filter: Filter) {
    const cells = await this.reader.read({ types: Object.values(CONSENT_FACTS), period, interval, filter, groupBy: ['source', 'keyword'] });
    return {
      buckets: countsByBucket(seriesBuckets(period, interval), cells, CONSENT_FACTS),
      totals: totalsOf(cells, CONSENT_FACTS),
      bySource: breakdown(cells, 'source', CONSENT_FACTS).map(({ value, ...counts }) => ({ source: value, ...counts })),
      byKeyword: breakdown(cells, 'keyword', CONSENT_FACTS).map(({ value, ...counts }) => ({ keyword: value, ...counts })),
    };
  }

  async workflows(period: Period, filter: Filter) {
    const cells = await this.reader.read({ types: [EXECUTION_FINISHED], period, interval: 'total', filter, groupBy: ['workflowId', 'status'] });
    const byWorkflow = new Map<string, { workflowId: string; executions: number; succeeded: number; failed: number; cancelled: number; durationMs: number }>();
    for (const cell of cells) {
      const workflowId = cell.group.workflowId || 'unknown';
      const entry = byWorkflow.get(workflowId) ?? { workflowId, executions: 0, succeeded: 0, failed: 0, cancelled: 0, durationMs: 0 };
      entry.executions += cell.count;
      entry.durationMs += cell.sum;
      const status = cell.group.status;
      if (status === 'succeeded' || status === 'failed' || status === 'cancelled') entry[status] += cell.count;
      byWorkflow.set(workflowId, entry);
    }
    return {
      items: [...byWorkflow.values()].sort((a, b) => (a.workflowId < b.workflowId ? -1 : 1)).map(({ durationMs, ...entry }) => ({
        ...entry, failureRate: ratio(entry.failed, entry.executions), averageDurationMs: entry.executions ? Math.round(durationMs / entry.executions) : null,
      })),
    };
  }

  async templates(period: Period, filter: Filter) {
    const facts = { sent: MESSAGE_FACTS.sent, delivered: MESSAGE_FACTS.delivered, read: MESSAGE_FACTS.read, failed: MESSAGE_FACTS.failed, replied: MESSAGE_FACTS.replied };
    const cells = await this.reader.read({ types: Object.values(facts), period, interval: 'total', filter, groupBy: ['templateName'] });
    return {
      items: breakdown(cells, 'templateName', facts).map(({ value, ...counts }) => ({
        templateName: value, ...counts, readRate: ratio(counts.read, counts.delivered), replyRate: ratio(counts.replied, counts.sent),
      })),
    };
  }

  async funnel(period: Period, filter: Filter) {
    const stages = this.config.funnel;
    const cells = await this.reader.read({ types: [...stages.map((s) => s.type), SALE_VOIDED], period, interval: 'total', filter, groupBy: ['currency'] });
    const voided = cells.filter((c) => c.type === SALE_VOIDED).reduce((n, c) => n + c.count, 0);
    const counts = stages.map((stage) => cells.filter((c) => c.type === stage.type).reduce((n, c) => n + c.count, 0) - (stage.type === SALE_RECORDED ? voided : 0));
    const first = counts[0] ?? 0;
    return {
      stages: stages.map((stage, i) => ({
        name: stage.name, type: stage.type, count: counts[i] ?? 0,
        fromPrevious: i === 0 ? null : ratio(counts[i] ?? 0, counts[i - 1] ?? 0), fromFirst: i === 0 ? null : ratio(counts[i] ?? 0, first),
      })),
      sales: salesByCurrency(cells),
    };
  }
}
