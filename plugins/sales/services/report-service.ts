/**
 * Generates a report now: figures for the previous complete day, week or month, stored with
 * an id derived from what asked for it (so a job or step that runs twice stores one report),
 * announced on the `reports` topic, and, when asked, POSTed to a URL through the
 * `http.request@1` action's own code (same Idempotency-Key header, same retry classification).
 */
import type { Model } from 'mongoose';
import type { Logger } from 'winston';
import { inject, injectable, EngineClock, HttpError, LoggerToken, notFound, Realtime, RedisConnection, StepError } from '../../../core/index.js';
import { HttpRequestAction } from '../../http/public.js';
import { SalesReportModel, type StoredReport } from '../models/report.js';
import { previousPeriod, requireTimeZone } from '../periods.js';
import type { ReportSpec, ReportView } from '../schemas.js';
import { SalesFigures } from './sales-figures.js';

export const REPORTS_TOPIC = 'reports';
const DELIVERY_ATTEMPTS = 3;
const DELIVERY_BACKOFF_MS = 500;
const DELIVERY_TIMEOUT_MS = 30_000;
/** Longer than every attempt timing out, with the backoff between them. */
const DELIVERY_LOCK_MS = DELIVERY_ATTEMPTS * DELIVERY_TIMEOUT_MS + 60_000;
const DUPLICATE_KEY = 11000;

export interface ReportRequest {
  /** The report's id, derived from the caller and the window's key (`2026-W48`): `<scheduleId>:<window>`, `run:<step key>`. */
  idFor(windowKey: string): string;
  source: StoredReport['source'];
  name?: string;
  spec: ReportSpec;
  deliverTo?: { url: string; headers?: Record<string, string> };
}

function deliveryView({ at, ...delivery }: NonNullable<StoredReport['delivery']>): NonNullable<ReportView['delivery']> {
  return { ...delivery, ...(at ? { at: at.toISOString() } : {}) };
}

export function toReportView(report: StoredReport): ReportView {
  return {
    id: report._id,
    ...(report.name ? { name: report.name } : {}),
    source: report.source,
    spec: report.spec,
    from: report.from.toISOString(),
    to: report.to.toISOString(),
    generatedAt: report.generatedAt.toISOString(),
    summary: report.summary,
    ...(report.breakdown ? { breakdown: report.breakdown } : {}),
    ...(report.delivery ? { delivery: deliveryView(report.delivery) } : {}),
  };
}

@injectable()
export class SalesReportService {
  constructor(
    @inject(SalesReportModel.token) private readonly reports: Model<StoredReport>,
    @inject(SalesFigures) private readonly figures: SalesFigures,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(EngineClock) private readonly clock: EngineClock,
    @inject(HttpRequestAction) private readonly http: HttpRequestAction,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  /**
   * Computes, stores, announces and delivers a report for the window before the engine clock's
   * now. A report already stored under the same id is returned as it is, delivered first if it
   * should be and never was (the run that stored it died before delivering it).
   */
  async generate(request: ReportRequest): Promise<{ report: ReportView; created: boolean }> {
    const { spec } = request;
    const timeZone = requireTimeZone(spec.timezone);
    const now = this.clock.now();
    const window = previousPeriod(now, spec.window, timeZone);
    const id = request.idFor(window.key);
    const existing = await this.reports.findById(id).lean<StoredReport>();
    if (existing) return { report: toReportView(await this.deliverOnce(existing, request.deliverTo)), created: false };
    const filter = { ...(spec.filters ?? {}), from: window.start, to: window.end };
    const report: StoredReport = {
      _id: id,
      ...(request.name ? { name: request.name } : {}),
      source: request.source,
      spec,
      from: window.start,
      to: window.end,
      generatedAt: now,
      summary: await this.figures.summary(filter, spec.granularity, timeZone),
      ...(spec.breakdownBy ? { breakdown: await this.figures.breakdown(filter, spec.breakdownBy) } : {}),
    };
    try {
      await this.reports.create(report);
    } catch (error) {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      // Another process generated it first.
      const first = await this.reports.findById(id).lean<StoredReport>();
      if (first) return { report: toReportView(await this.deliverOnce(first, request.deliverTo)), created: false };
      throw error;
    }
    this.realtime.publish(REPORTS_TOPIC, 'report.generated', toReportView(report));
    return { report: toReportView(await this.deliverOnce(report, request.deliverTo)), created: true };
  }

  /**
   * Delivers a stored report that has no delivery outcome yet, and stores the outcome. One run at
   * a time (Redis lock): a run that finds another delivering leaves it to that one, and the
   * outcome is read again under the lock, so a run that read the report before another
   * delivered it does not deliver it a second time.
   */
  private async deliverOnce(report: StoredReport, target: ReportRequest['deliverTo']): Promise<StoredReport> {
    if (!target || report.delivery) return report;
    const lock = await this.redis.tryLock(`sales.report.deliver:${report._id}`, DELIVERY_LOCK_MS);
    if (!lock) return report;
    try {
      const current = await this.reports.findById(report._id).lean<StoredReport>() ?? report;
      if (current.delivery) return current;
      const delivery = await this.deliver(current, target);
      await this.reports.updateOne({ _id: current._id }, { $set: { delivery } });
      this.realtime.publish(REPORTS_TOPIC, 'report.delivery', { id: current._id, ...deliveryView(delivery) });
      return { ...current, delivery };
    } finally {
      await lock.release();
    }
  }

  /** POSTs the report; retries what http.request would retry (network, 5xx, 429) a few times. */
  private async deliver(report: StoredReport, target: { url: string; headers?: Record<string, string> }): Promise<NonNullable<StoredReport['delivery']>> {
    const body = toReportView(report);
    let lastError = '';
    let httpStatus: number | undefined;
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS; attempt++) {
      try {
        const result = await this.http.execute({ url: target.url, method: 'POST', headers: target.headers ?? {}, body }, {
          executionId: report._id, workflowId: 'sales.report', stepId: 'deliver', idempotencyKey: `sales-report:${report._id}`,
          simulate: false, attempt, logger: this.logger, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        });
        return { url: target.url, status: 'delivered', attempts: attempt, httpStatus: result.output.status, at: this.clock.now() };
      } catch (error) {
        lastError = (error as Error).message;
        httpStatus = ((error as StepError).details as { status?: number } | undefined)?.status;
        if (!(error instanceof StepError && error.retryable) || attempt === DELIVERY_ATTEMPTS) break;
        await new Promise((resolve) => setTimeout(resolve, DELIVERY_BACKOFF_MS * 2 ** (attempt - 1)));
      }
    }
    this.logger.warn('sales report delivery failed', { reportId: report._id, error: lastError });
    return { url: target.url, status: 'failed', attempts: DELIVERY_ATTEMPTS, error: lastError, ...(httpStatus ? { httpStatus } : {}), at: this.clock.now() };
  }

  async get(id: string): Promise<ReportView> {
    const report = await this.reports.findById(id).lean<StoredReport>();
    if (!report) throw notFound('Report', id);
    return toReportView(report);
  }

  /** Stored reports, newest first; the cursor is the last report's `generatedAt|id`. */
  async list(limit: number, cursor?: string, scheduleId?: string): Promise<{ items: ReportView[]; nextCursor?: string }> {
    const query: Record<string, unknown> = scheduleId ? { 'source.kind': 'schedule', 'source.id': scheduleId } : {};
    if (cursor) {
      const [at, id] = cursor.split('|');
      const when = new Date(at ?? '');
      // The pattern admits impossible dates (month 90): they are the caller's mistake, not a 500.
      if (Number.isNaN(when.getTime())) throw new HttpError(400, 'VALIDATION_FAILED', 'query.cursor is not a cursor this list handed out', [{ path: 'query.cursor', message: 'is not a cursor this list handed out' }]);
      query.$or = [{ generatedAt: { $lt: when } }, { generatedAt: when, _id: { $lt: id } }];
    }
    const docs = await this.reports.find(query).sort({ generatedAt: -1, _id: -1 }).limit(limit + 1).lean<StoredReport[]>();
    const page = docs.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toReportView), ...(docs.length > limit && last ? { nextCursor: `${last.generatedAt.toISOString()}|${last._id}` } : {}) };
  }
}
