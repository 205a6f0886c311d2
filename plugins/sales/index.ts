/**
 * Sales: contacts as leads, sales in minor units with their attribution to campaigns,
 * templates and workflow executions, the reports on them (summary, breakdown, CSV export) and
 * recurring reports scheduled with Agenda, stored, announced and optionally delivered over HTTP.
 */
import type { Plugin } from '../../core/index.js';
import { PERMISSION_GRANTS, Permissions } from './access.js';
import { GenerateReportAction, generateReportInputSchema, generateReportOutputSchema } from './actions/generate-report.js';
import { RecordSaleAction, recordSaleInputSchema, recordSaleOutputSchema } from './actions/record-sale.js';
import { ScheduledReportJob } from './jobs/scheduled-report.js';
import { LeadModel } from './models/lead.js';
import { SalesReportModel } from './models/report.js';
import { ReportScheduleModel } from './models/report-schedule.js';
import { SaleModel } from './models/sale.js';
import { LeadRoutes } from './routes/lead-routes.js';
import { ReportRoutes } from './routes/report-routes.js';
import { SalesRoutes } from './routes/sales-routes.js';
import { reportSchema } from './schemas.js';
import { SalesCsvExport } from './services/csv-export.js';
import { Leads } from './services/leads.js';
import { ReportSchedules, REPORT_JOB } from './services/report-schedules.js';
import { REPORTS_TOPIC, SalesReportService } from './services/report-service.js';
import { SalesFigures } from './services/sales-figures.js';
import { SalesLedger } from './services/sales-ledger.js';

const sales: Plugin = {
  manifest: {
    id: 'sales',
    version: '1.0.0',
    core: '^0.1.0',
    // http: scheduled reports are delivered with the http.request@1 action's code.
    dependsOn: ['http'],
    description: 'Leads, sales in minor units with attribution, sales reports and recurring scheduled reports',
  },
  register(r) {
    r.bind(SalesLedger).toSelf().inSingletonScope();
    r.bind(Leads).toSelf().inSingletonScope();
    r.bind(SalesFigures).toSelf().inSingletonScope();
    r.bind(SalesCsvExport).toSelf().inSingletonScope();
    r.bind(ReportSchedules).toSelf().inSingletonScope();
    r.bind(SalesReportService).toSelf().inSingletonScope();
    r.model(SaleModel);
    r.model(LeadModel);
    r.model(SalesReportModel);
    r.model(ReportScheduleModel);
    r.permissions(PERMISSION_GRANTS);
    r.action({
      type: 'record', version: 1, impl: RecordSaleAction, idempotent: true,
      summary: 'Records a sale attributed to this workflow and execution, once per step',
      input: recordSaleInputSchema, output: recordSaleOutputSchema,
    });
    r.action({
      type: 'report', version: 1, impl: GenerateReportAction, idempotent: true,
      summary: 'Generates, stores and announces a sales report for the previous day, week or month',
      input: generateReportInputSchema, output: generateReportOutputSchema,
    });
    r.routes(SalesRoutes);
    r.routes(LeadRoutes);
    r.routes(ReportRoutes);
    r.job({ name: REPORT_JOB, handler: ScheduledReportJob, concurrency: 2 });
    r.topic({
      name: REPORTS_TOPIC, permission: Permissions.reportsRead, summary: 'Sales reports as they are generated, and the outcome of their delivery',
      events: {
        'report.generated': reportSchema,
        'report.delivery': {
          type: 'object', required: ['id', ...reportSchema.properties.delivery.required],
          properties: { id: { type: 'string' }, ...reportSchema.properties.delivery.properties },
        },
      },
    });
  },
};

export default sales;
