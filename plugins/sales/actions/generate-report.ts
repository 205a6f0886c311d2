import { inject, injectable, HttpError, StepError, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import { deliverToSchema, reportSchema, reportSpecProperties, type ReportSpec, type ReportView } from '../schemas.js';
import { SalesReportService } from '../services/report-service.js';

export const generateReportInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['window'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, ...reportSpecProperties, deliverTo: deliverToSchema },
} as const;

interface GenerateReportInput extends Omit<ReportSpec, 'granularity' | 'timezone'> {
  name?: string;
  granularity?: ReportSpec['granularity'];
  timezone?: string;
  deliverTo?: { url: string; headers?: Record<string, string> };
}

/**
 * `sales.report@1` (the brief's `report.generate`): generates a sales report now, stores and
 * announces it like a scheduled one, and outputs its figures. The report id is derived from the
 * step's idempotency key, so a resumed execution returns the report it made before.
 */
@injectable()
export class GenerateReportAction implements Action<GenerateReportInput, ReportView> {
  constructor(@inject(SalesReportService) private readonly reports: SalesReportService) {}

  async execute(input: GenerateReportInput, ctx: RunContext): Promise<ActionResult<ReportView>> {
    const spec: ReportSpec = {
      window: input.window, granularity: input.granularity ?? 'day', timezone: input.timezone ?? 'UTC',
      ...(input.breakdownBy ? { breakdownBy: input.breakdownBy } : {}), ...(input.filters ? { filters: input.filters } : {}),
    };
    if (ctx.simulate) {
      const now = new Date().toISOString();
      return { output: { id: 'simulated', source: { kind: 'workflow', id: ctx.workflowId }, spec, from: now, to: now, generatedAt: now, summary: { granularity: spec.granularity, timezone: spec.timezone, totals: [], buckets: [] } } };
    }
    try {
      const { report } = await this.reports.generate({
        idFor: () => `run:${ctx.idempotencyKey}`, source: { kind: 'workflow', id: ctx.workflowId }, spec,
        ...(input.name ? { name: input.name } : {}), ...(input.deliverTo ? { deliverTo: input.deliverTo } : {}),
      });
      return { output: report };
    } catch (error) {
      if (error instanceof HttpError) throw new StepError(error.code, error.message, false, error.details);
      throw error;
    }
  }
}

export const generateReportOutputSchema = reportSchema;
