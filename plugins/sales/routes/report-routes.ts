import { inject, injectable, commonSchemas, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { Permissions } from '../access.js';
import { requireTimeZone, type Granularity } from '../periods.js';
import {
  BREAKDOWN_DIMENSIONS, breakdownSchema, reportSchema, saleFilterProperties, scheduleRequestSchema, scheduleSchema, summarySchema,
  type BreakdownDimension, type ScheduleRequest,
} from '../schemas.js';
import { SalesCsvExport } from '../services/csv-export.js';
import { ReportSchedules } from '../services/report-schedules.js';
import { SalesReportService } from '../services/report-service.js';
import { SalesFigures } from '../services/sales-figures.js';
import { caller, saleListFilterProperties, scopedFilter, type SaleFilterQuery } from './query.js';

const errors = { 400: { description: 'Bad input', schema: commonSchemas.errorEnvelope }, 403: { description: 'Not allowed', schema: commonSchemas.errorEnvelope } };
const timezone = { type: 'string', minLength: 1, maxLength: 64, default: 'UTC', description: 'IANA time zone whose days, ISO weeks and months the buckets follow' } as const;

@injectable()
export class ReportRoutes implements RouteController {
  constructor(
    @inject(SalesFigures) private readonly figures: SalesFigures,
    @inject(SalesCsvExport) private readonly csv: SalesCsvExport,
    @inject(ReportSchedules) private readonly schedules: ReportSchedules,
    @inject(SalesReportService) private readonly reports: SalesReportService,
  ) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/reports/sales/summary', summary: 'Recorded sales per day, ISO week or month in a time zone, per currency', permission: Permissions.reportsRead, tags: ['sales'],
        query: { type: 'object', additionalProperties: false, properties: { ...saleFilterProperties, granularity: { enum: ['day', 'week', 'month'], default: 'day' }, timezone } },
        responses: { 200: { description: 'Buckets and totals, one figure per currency', schema: summarySchema }, ...errors },
        handler: async (req) => {
          const query = req.query as unknown as SaleFilterQuery & { granularity: Granularity; timezone: string };
          return { body: await this.figures.summary(scopedFilter({ ...query, status: undefined }, req.principal), query.granularity, requireTimeZone(query.timezone)) };
        },
      },
      {
        method: 'get', path: '/api/reports/sales/breakdown', summary: 'Recorded sales per agent, campaign or template, per currency', permission: Permissions.reportsRead, tags: ['sales'],
        query: { type: 'object', additionalProperties: false, required: ['by'], properties: { ...saleFilterProperties, by: { enum: BREAKDOWN_DIMENSIONS } } },
        responses: { 200: { description: 'One row per key and currency, largest first', schema: breakdownSchema }, ...errors },
        handler: async (req) => {
          const query = req.query as unknown as SaleFilterQuery & { by: BreakdownDimension };
          return { body: await this.figures.breakdown(scopedFilter({ ...query, status: undefined }, req.principal), query.by) };
        },
      },
      {
        method: 'get', path: '/api/reports/sales/export', summary: 'Stream sales as CSV (RFC 4180, formula-safe)', permission: Permissions.reportsRead, tags: ['sales'],
        query: { type: 'object', additionalProperties: false, properties: saleListFilterProperties },
        responses: { 200: { description: 'CSV with a header row, oldest sale first', contentType: 'text/csv' }, ...errors },
        handler: async (req, res) => {
          const filter = scopedFilter(req.query as SaleFilterQuery, req.principal);
          res.status(200);
          res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
          res.setHeader('Content-Disposition', 'attachment; filename="sales.csv"');
          await this.csv.write(res, filter);
          res.end();
          return undefined;
        },
      },
      {
        method: 'post', path: '/api/reports/sales/schedule', summary: 'Schedule a recurring report (cron in a time zone), stored and announced on the `reports` topic', permission: Permissions.reportsSchedule, tags: ['sales'],
        body: scheduleRequestSchema,
        responses: { 201: { description: 'The schedule with its next run', schema: scheduleSchema }, 422: { description: 'A cron Agenda cannot place', schema: commonSchemas.errorEnvelope }, ...errors },
        handler: async (req) => ({ status: 201, body: await this.schedules.create(req.body as ScheduleRequest, caller(req.principal).id) }),
      },
      {
        method: 'get', path: '/api/reports/sales/schedules', summary: 'Recurring reports with their next run', permission: Permissions.reportsSchedule, tags: ['sales'],
        responses: { 200: { description: 'Every schedule', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: scheduleSchema } } } } },
        handler: async () => ({ body: { items: await this.schedules.list() } }),
      },
      {
        method: 'delete', path: '/api/reports/sales/schedules/:id', summary: 'Stop a recurring report (its reports stay)', permission: Permissions.reportsSchedule, tags: ['sales'],
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^rs_[a-f0-9]{16}$' } } },
        responses: { 204: { description: 'Stopped' }, 404: { description: 'No such schedule', schema: commonSchemas.errorEnvelope } },
        handler: async (req) => {
          await this.schedules.remove(req.params.id as string);
          return { status: 204 };
        },
      },
      {
        method: 'get', path: '/api/reports/sales/reports', summary: 'Stored reports with their figures, newest first', permission: Permissions.reportsRead, tags: ['sales'],
        query: {
          type: 'object', additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\\|.{1,300}$' }, scheduleId: { type: 'string', maxLength: 40 } },
        },
        responses: { 200: { description: 'A page of reports', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: reportSchema }, nextCursor: { type: 'string' } } } } },
        handler: async (req) => {
          const query = req.query as { limit: number; cursor?: string; scheduleId?: string };
          return { body: await this.reports.list(query.limit, query.cursor, query.scheduleId) };
        },
      },
      {
        method: 'get', path: '/api/reports/sales/reports/:id', summary: 'One stored report', permission: Permissions.reportsRead, tags: ['sales'],
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 400 } } },
        responses: { 200: { description: 'The report', schema: reportSchema }, 404: { description: 'No such report', schema: commonSchemas.errorEnvelope } },
        handler: async (req) => ({ body: await this.reports.get(req.params.id as string) }),
      },
    ];
  }
}
